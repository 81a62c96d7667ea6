#include "tests/netfault/net_lab.h"

#include <signal.h>
#include <unistd.h>

#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace dcdir::netfault {
namespace {

constexpr char kPrefix[] = "dcdirnf";

// The absolute path of a system program ("" when absent).
std::string Which(const std::string& name) {
  for (const char* dir : {"/usr/sbin", "/sbin", "/usr/bin", "/bin"}) {
    const std::string path = absl::StrCat(dir, "/", name);
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return "";
}

absl::Status Run(const std::vector<std::string>& argv) {
  testing::Subprocess p(argv);
  std::optional<int> code = p.Wait(absl::Seconds(20));
  if (!code.has_value()) {
    p.Signal(SIGKILL);
    return absl::InternalError(absl::StrCat(absl::StrJoin(argv, " "), ": did not finish"));
  }
  if (*code != 0) {
    return absl::InternalError(absl::StrCat(absl::StrJoin(argv, " "), ": exit ", *code, ": ",
                                            absl::StripAsciiWhitespace(p.err())));
  }
  return absl::OkStatus();
}

std::string Ip() { return Which("ip"); }

// Kills every process still inside namespace `ns` (only processes of the lab's namespaces).
void KillAllIn(const std::string& ns) {
  testing::Subprocess p({Ip(), "netns", "pids", ns});
  if (!p.Wait(absl::Seconds(10)).has_value()) return;
  for (absl::string_view line : absl::StrSplit(p.out(), '\n', absl::SkipWhitespace())) {
    pid_t pid = 0;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &pid) && pid > 1) ::kill(pid, SIGKILL);
  }
}

// Deletes the namespaces of earlier labs whose test process is gone.
void SweepLeftovers() {
  testing::Subprocess p({Ip(), "netns", "list"});
  if (!p.Wait(absl::Seconds(10)).has_value()) return;
  for (absl::string_view line : absl::StrSplit(p.out(), '\n', absl::SkipWhitespace())) {
    std::string name(line.substr(0, line.find(' ')));
    if (name.rfind(kPrefix, 0) != 0) continue;
    absl::string_view rest = absl::string_view(name).substr(sizeof(kPrefix) - 1);
    pid_t owner = 0;
    if (!absl::SimpleAtoi(rest.substr(0, rest.find('-')), &owner)) continue;
    if (owner == ::getpid() || ::kill(owner, 0) == 0) continue;  // its lab still runs
    KillAllIn(name);
    (void)Run({Ip(), "netns", "del", name});
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<NetLab>> NetLab::Create(const std::vector<std::string>& hosts) {
  if (::geteuid() != 0) return absl::FailedPreconditionError("needs root (ip netns, iptables)");
  if (Ip().empty() || Which("iptables").empty()) {
    return absl::FailedPreconditionError("needs iproute2 and iptables");
  }
  SweepLeftovers();
  std::unique_ptr<NetLab> lab(new NetLab());
  lab->prefix_ = absl::StrCat(kPrefix, ::getpid(), "-");
  lab->switch_ns_ = lab->prefix_ + "sw";
  if (absl::Status s = Run({Ip(), "netns", "add", lab->switch_ns_}); !s.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create a network namespace: ", s.message()));
  }
  lab->namespaces_.push_back(lab->switch_ns_);
  for (const std::vector<std::string>& step : std::vector<std::vector<std::string>>{
           {"link", "add", "br0", "type", "bridge"}, {"link", "set", "br0", "up"}}) {
    std::vector<std::string> argv = {Ip(), "-n", lab->switch_ns_};
    argv.insert(argv.end(), step.begin(), step.end());
    if (absl::Status s = Run(argv); !s.ok()) return s;
  }
  for (size_t i = 0; i < hosts.size(); ++i) {
    if (absl::Status s = lab->AddHost(hosts[i], static_cast<int>(i)); !s.ok()) return s;
  }
  return lab;
}

absl::Status NetLab::AddHost(const std::string& name, int index) {
  Host host{prefix_ + name, absl::StrCat("10.77.0.", index + 1)};
  if (absl::Status s = Run({Ip(), "netns", "add", host.ns}); !s.ok()) return s;
  namespaces_.push_back(host.ns);
  const std::string peer = absl::StrCat("p", index);
  for (const std::vector<std::string>& argv : std::vector<std::vector<std::string>>{
           {Ip(), "-n", switch_ns_, "link", "add", peer, "type", "veth", "peer", "name", "eth0",
            "netns", host.ns},
           {Ip(), "-n", switch_ns_, "link", "set", peer, "master", "br0", "up"},
           {Ip(), "-n", host.ns, "addr", "add", host.ip + "/24", "dev", "eth0"},
           {Ip(), "-n", host.ns, "link", "set", "eth0", "up"},
           {Ip(), "-n", host.ns, "link", "set", "lo", "up"}}) {
    if (absl::Status s = Run(argv); !s.ok()) return s;
  }
  hosts_.emplace(name, std::move(host));
  return absl::OkStatus();
}

NetLab::~NetLab() {
  for (auto& p : processes_) p->Signal(SIGKILL);
  for (auto& p : processes_) p->Wait(absl::Seconds(5));
  // Hosts first, the switch last; a namespace outlives its last process only while one is in it.
  for (auto it = namespaces_.rbegin(); it != namespaces_.rend(); ++it) {
    KillAllIn(*it);
    if (absl::Status s = Run({Ip(), "netns", "del", *it}); !s.ok()) {
      ADD_FAILURE() << "cleanup: " << s;
    }
  }
}

testing::Subprocess* NetLab::Spawn(const std::string& host, const std::vector<std::string>& argv,
                                   const std::vector<std::string>& env) {
  std::vector<std::string> full = {Ip(), "netns", "exec", ns(host)};
  full.insert(full.end(), argv.begin(), argv.end());
  processes_.push_back(std::make_unique<testing::Subprocess>(full, env));
  return processes_.back().get();
}

void NetLab::Stop(testing::Subprocess* process, absl::Duration grace) {
  process->Signal(SIGTERM);
  if (!process->Wait(grace).has_value()) {
    process->Signal(SIGKILL);
    process->Wait(absl::Seconds(5));
  }
}

absl::Status NetLab::Exec(const std::string& host, const std::vector<std::string>& argv) {
  std::vector<std::string> full = {Ip(), "netns", "exec", ns(host)};
  full.insert(full.end(), argv.begin(), argv.end());
  return Run(full);
}

absl::Status NetLab::Iptables(const std::string& host, const std::vector<std::string>& rule) {
  std::vector<std::string> argv = {Which("iptables"), "-w"};
  argv.insert(argv.end(), rule.begin(), rule.end());
  return Exec(host, argv);
}

absl::Status NetLab::Partition(const std::string& a, const std::string& b) {
  for (const auto& [self, other] : {std::pair(a, b), std::pair(b, a)}) {
    if (auto s = Iptables(self, {"-A", "OUTPUT", "-d", ip(other), "-j", "DROP"}); !s.ok()) return s;
    if (auto s = Iptables(self, {"-A", "INPUT", "-s", ip(other), "-j", "DROP"}); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status NetLab::Isolate(const std::vector<std::string>& side,
                             const std::vector<std::string>& others) {
  std::vector<std::string> ips;
  for (const std::string& other : others) ips.push_back(ip(other));
  const std::string list = absl::StrJoin(ips, ",");
  for (const std::string& self : side) {
    if (auto s = Iptables(self, {"-A", "OUTPUT", "-d", list, "-j", "DROP"}); !s.ok()) return s;
    if (auto s = Iptables(self, {"-A", "INPUT", "-s", list, "-j", "DROP"}); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status NetLab::Loss(const std::string& a, const std::string& b, double share) {
  const std::string p = absl::StrCat(share);
  for (const auto& [self, other] : {std::pair(a, b), std::pair(b, a)}) {
    if (auto s = Iptables(self, {"-A", "OUTPUT", "-d", ip(other), "-m", "statistic", "--mode",
                                 "random", "--probability", p, "-j", "DROP"});
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status NetLab::Delay(const std::string& a, const std::string& b, int milliseconds) {
  const std::string script = std::string(DCDIR_SOURCE_DIR) + "/tests/netfault/nfq_delay.py";
  testing::Subprocess* delay = Spawn(
      a, {Which("python3"), script, "--queue", "1", "--delay-ms", absl::StrCat(milliseconds)});
  delays_.push_back(delay);
  const absl::Time until = absl::Now() + absl::Seconds(10);
  while (delay->out().find("ready") == std::string::npos) {
    if (delay->Wait(absl::ZeroDuration()).has_value() || absl::Now() > until) {
      return absl::InternalError(absl::StrCat("nfq_delay.py did not start: ", delay->err()));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return Iptables(a, {"-A", "OUTPUT", "-d", ip(b), "-j", "NFQUEUE", "--queue-num", "1"});
}

absl::Status NetLab::Heal() {
  absl::Status status;
  for (const auto& [name, host] : hosts_) status.Update(Iptables(name, {"-F"}));
  for (testing::Subprocess* delay : delays_) Stop(delay);
  delays_.clear();
  return status;
}

}  // namespace dcdir::netfault

#include "tests/testing/redis_fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "tests/testing/temp_dir.h"

namespace dcdir::testing {
namespace {

constexpr absl::Duration kStartTimeout = absl::Seconds(10);

// The full path of `name` on PATH, or "".
std::string FindOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return "";
  for (absl::string_view dir : absl::StrSplit(path, ':')) {
    if (dir.empty()) continue;
    std::string candidate = absl::StrCat(dir, "/", name);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

absl::StatusOr<std::string> MakeRedisDir() {
  std::string dir = MakeTempDir("dcdir-redis");
  if (dir.empty()) return absl::InternalError(absl::StrCat("mkdtemp: ", std::strerror(errno)));
  return dir;
}

void Render(const redisReply* r, std::string* out) {
  switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
      out->append(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      absl::StrAppend(out, r->integer);
      break;
    case REDIS_REPLY_NIL:
      out->append("(nil)");
      break;
    case REDIS_REPLY_ARRAY:
      for (size_t i = 0; i < r->elements; ++i) {
        if (i > 0) out->push_back('\n');
        Render(r->element[i], out);
      }
      break;
    default:
      break;
  }
}

// Waits for `pid` up to `timeout`; true when it exited.
bool WaitForExit(pid_t pid, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    int status;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
}

}  // namespace

absl::StatusOr<int> PickFreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int e = errno;
    ::close(fd);
    return absl::InternalError(absl::StrCat("bind/getsockname: ", std::strerror(e)));
  }
  ::close(fd);
  int port = ntohs(addr.sin_port);
  if (port == 0) return absl::InternalError("the kernel picked port 0");
  return port;
}

absl::StatusOr<std::string> RedisCommand(int port, const std::vector<std::string>& args,
                                         absl::Duration timeout) {
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, absl::ToTimeval(timeout));
  if (c == nullptr || c->err != 0) {
    std::string error = c != nullptr ? c->errstr : "out of memory";
    if (c != nullptr) redisFree(c);
    return absl::UnavailableError(absl::StrCat("connect 127.0.0.1:", port, ": ", error));
  }
  redisSetTimeout(c, absl::ToTimeval(timeout));
  std::vector<const char*> argv;
  std::vector<size_t> argvlen;
  for (const std::string& a : args) {
    argv.push_back(a.data());
    argvlen.push_back(a.size());
  }
  auto* reply = static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), argvlen.data()));
  if (reply == nullptr) {
    std::string error = c->errstr;
    redisFree(c);
    return absl::UnavailableError(absl::StrCat("command on 127.0.0.1:", port, ": ", error));
  }
  absl::StatusOr<std::string> result;
  if (reply->type == REDIS_REPLY_ERROR) {
    result = absl::FailedPreconditionError(std::string(reply->str, reply->len));
  } else {
    std::string text;
    Render(reply, &text);
    result = std::move(text);
  }
  freeReplyObject(reply);
  redisFree(c);
  return result;
}

// ---- RedisServer ----

RedisServer::RedisServer(std::string binary, std::string dir, std::vector<std::string> extra_args,
                         std::vector<std::string> sentinel_config)
    : binary_(std::move(binary)),
      dir_(std::move(dir)),
      extra_args_(std::move(extra_args)),
      sentinel_config_(std::move(sentinel_config)) {}

absl::StatusOr<std::unique_ptr<RedisServer>> RedisServer::Start(
    std::vector<std::string> extra_args) {
  std::string binary = FindOnPath("redis-server");
  if (binary.empty()) {
    return absl::FailedPreconditionError(
        "redis-server not found on PATH (install it: apt-get install redis-server)");
  }
  absl::StatusOr<std::string> dir = MakeRedisDir();
  if (!dir.ok()) return dir.status();
  std::unique_ptr<RedisServer> server(
      new RedisServer(std::move(binary), *std::move(dir), std::move(extra_args), {}));
  absl::Status last;
  for (int attempt = 0; attempt < 5; ++attempt) {  // another process may take the port first
    absl::StatusOr<int> port = PickFreePort();
    if (!port.ok()) return port.status();
    last = server->Launch(*port);
    if (last.ok()) return server;
  }
  return last;
}

absl::StatusOr<std::unique_ptr<RedisServer>> RedisServer::StartSentinel(
    std::vector<std::string> config_lines) {
  std::string binary = FindOnPath("redis-sentinel");
  if (binary.empty()) {
    return absl::FailedPreconditionError(
        "redis-sentinel not found on PATH (install it: apt-get install redis-sentinel)");
  }
  absl::StatusOr<std::string> dir = MakeRedisDir();
  if (!dir.ok()) return dir.status();
  std::unique_ptr<RedisServer> server(
      new RedisServer(std::move(binary), *std::move(dir), {}, std::move(config_lines)));
  absl::Status last;
  for (int attempt = 0; attempt < 5; ++attempt) {
    absl::StatusOr<int> port = PickFreePort();
    if (!port.ok()) return port.status();
    last = server->Launch(*port);
    if (last.ok()) return server;
  }
  return last;
}

RedisServer::~RedisServer() {
  (void)Kill();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string RedisServer::url() const { return absl::StrCat("redis://127.0.0.1:", port_); }

std::string RedisServer::LogTail() const {
  std::ifstream in(dir_ + "/server.log");
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string log = buffer.str();
  if (log.size() > 2000) log = log.substr(log.size() - 2000);
  return log;
}

absl::Status RedisServer::Launch(int port) {
  std::vector<std::string> args = {binary_};
  if (sentinel_config_.empty()) {
    args.insert(args.end(), {"--port", absl::StrCat(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", dir_, "--daemonize", "no"});
    args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  } else {
    std::string conf_path = dir_ + "/sentinel.conf";
    std::ofstream conf(conf_path, std::ios::trunc);
    conf << "port " << port << "\nbind 127.0.0.1\ndir " << dir_ << "\n";
    for (const std::string& line : sentinel_config_) conf << line << "\n";
    conf.close();
    if (!conf) return absl::InternalError(absl::StrCat("cannot write ", conf_path));
    args.push_back(conf_path);
  }
  std::string log_path = dir_ + "/server.log";
  pid_t pid = ::fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test process
    int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (log >= 0) {
      ::dup2(log, STDOUT_FILENO);
      ::dup2(log, STDERR_FILENO);
    }
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  pid_ = pid;
  port_ = port;
  absl::Time deadline = absl::Now() + kStartTimeout;
  while (absl::Now() < deadline) {
    int status;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::UnavailableError(absl::StrCat(binary_, " on port ", port,
                                                 " exited at start; log tail:\n", LogTail()));
    }
    absl::StatusOr<std::string> pong = RedisCommand(port, {"PING"}, absl::Milliseconds(200));
    // An error reply (e.g. NOAUTH with --requirepass) also means it is serving.
    if ((pong.ok() && *pong == "PONG") ||
        pong.status().code() == absl::StatusCode::kFailedPrecondition) {
      return absl::OkStatus();
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  (void)Kill();
  return absl::DeadlineExceededError(absl::StrCat(binary_, " on port ", port,
                                                  " did not answer PING; log tail:\n", LogTail()));
}

absl::Status RedisServer::Stop() {
  if (pid_ <= 0) return absl::OkStatus();
  ::kill(pid_, SIGCONT);  // in case it was paused
  ::kill(pid_, SIGTERM);
  if (!WaitForExit(pid_, absl::Seconds(5))) {
    ::kill(pid_, SIGKILL);
    WaitForExit(pid_, absl::Seconds(5));
  }
  pid_ = -1;
  return absl::OkStatus();
}

absl::Status RedisServer::Kill() {
  if (pid_ <= 0) return absl::OkStatus();
  ::kill(pid_, SIGKILL);
  if (!WaitForExit(pid_, absl::Seconds(5))) {
    return absl::InternalError(absl::StrCat("pid ", pid_, " did not die"));
  }
  pid_ = -1;
  return absl::OkStatus();
}

absl::Status RedisServer::Pause() {
  if (pid_ <= 0 || ::kill(pid_, SIGSTOP) != 0) return absl::FailedPreconditionError("not running");
  return absl::OkStatus();
}

absl::Status RedisServer::Resume() {
  if (pid_ <= 0 || ::kill(pid_, SIGCONT) != 0) return absl::FailedPreconditionError("not running");
  return absl::OkStatus();
}

absl::Status RedisServer::Restart() {
  if (pid_ > 0) {
    absl::Status stopped = Stop();
    if (!stopped.ok()) return stopped;
  }
  // The port was ours a moment ago; retry a little in case the kernel needs a moment.
  absl::Status last;
  for (int attempt = 0; attempt < 20; ++attempt) {
    last = Launch(port_);
    if (last.ok()) return last;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return last;
}

absl::StatusOr<std::string> RedisServer::Command(const std::vector<std::string>& args) const {
  return RedisCommand(port_, args);
}

// ---- SentinelCluster ----

absl::StatusOr<std::unique_ptr<SentinelCluster>> SentinelCluster::Start(int sentinels,
                                                                        std::string master_name) {
  if (sentinels < 1) return absl::InvalidArgumentError("at least one sentinel");
  std::unique_ptr<SentinelCluster> cluster(new SentinelCluster());
  cluster->master_name_ = std::move(master_name);
  absl::StatusOr<std::unique_ptr<RedisServer>> master = RedisServer::Start();
  if (!master.ok()) return master.status();
  cluster->master_ = *std::move(master);
  const std::string master_port = absl::StrCat(cluster->master_->port());
  absl::StatusOr<std::unique_ptr<RedisServer>> replica =
      RedisServer::Start({"--replicaof", "127.0.0.1", master_port});
  if (!replica.ok()) return replica.status();
  cluster->replica_ = *std::move(replica);

  // The replica must be in sync before a failover can promote it.
  absl::Time deadline = absl::Now() + kStartTimeout;
  while (true) {
    absl::StatusOr<std::string> info = cluster->replica_->Command({"INFO", "replication"});
    if (info.ok() && info->find("master_link_status:up") != std::string::npos) break;
    if (absl::Now() >= deadline) return absl::DeadlineExceededError("the replica did not sync");
    absl::SleepFor(absl::Milliseconds(20));
  }

  const int quorum = sentinels / 2 + 1;
  const std::string& name = cluster->master_name_;
  for (int i = 0; i < sentinels; ++i) {
    absl::StatusOr<std::unique_ptr<RedisServer>> sentinel = RedisServer::StartSentinel({
        absl::StrCat("sentinel monitor ", name, " 127.0.0.1 ", master_port, " ", quorum),
        absl::StrCat("sentinel down-after-milliseconds ", name, " 1000"),
        absl::StrCat("sentinel failover-timeout ", name, " 3000"),
        absl::StrCat("sentinel parallel-syncs ", name, " 1"),
    });
    if (!sentinel.ok()) return sentinel.status();
    cluster->sentinels_.push_back(*std::move(sentinel));
  }
  // Every sentinel must know the replica (and the others) before a failover can happen.
  deadline = absl::Now() + kStartTimeout;
  for (const auto& sentinel : cluster->sentinels_) {
    while (true) {
      absl::StatusOr<std::string> m = sentinel->Command({"SENTINEL", "master", name});
      bool ready = false;
      if (m.ok()) {
        std::vector<std::string> f = absl::StrSplit(*m, '\n');
        int slaves = -1, others = -1;
        for (size_t k = 0; k + 1 < f.size(); k += 2) {
          if (f[k] == "num-slaves") (void)absl::SimpleAtoi(f[k + 1], &slaves);
          if (f[k] == "num-other-sentinels") (void)absl::SimpleAtoi(f[k + 1], &others);
        }
        ready = slaves >= 1 && others >= sentinels - 1;
      }
      if (ready) break;
      if (absl::Now() >= deadline) {
        return absl::DeadlineExceededError("the sentinels did not discover the replica/each other");
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
  }
  return cluster;
}

std::string SentinelCluster::url() const {
  std::vector<std::string> hosts;
  for (const auto& s : sentinels_) hosts.push_back(absl::StrCat("127.0.0.1:", s->port()));
  return absl::StrCat("redis+sentinel://", absl::StrJoin(hosts, ","), "/", master_name_);
}

absl::StatusOr<int> SentinelCluster::SentinelMasterPort() const {
  absl::StatusOr<std::string> addr =
      sentinels_.front()->Command({"SENTINEL", "get-master-addr-by-name", master_name_});
  if (!addr.ok()) return addr.status();
  std::vector<std::string> parts = absl::StrSplit(*addr, '\n');
  int port;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[1], &port)) {
    return absl::InternalError(absl::StrCat("unexpected reply: ", *addr));
  }
  return port;
}

absl::Status SentinelCluster::WaitForMasterPort(int port, absl::Duration timeout) const {
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    absl::StatusOr<int> current = SentinelMasterPort();
    if (current.ok() && *current == port) return absl::OkStatus();
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "sentinels still name ", current.ok() ? absl::StrCat(*current) : "nothing",
          " as the master, not ", port));
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
}

}  // namespace dcdir::testing

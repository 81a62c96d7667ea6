#ifndef DCDIR_TESTS_NETFAULT_NET_LAB_H_
#define DCDIR_TESTS_NETFAULT_NET_LAB_H_

// Test hosts made of Linux network namespaces, and the faults between them (docs/REDIS.md,
// "Network faults"). Needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN), iproute2 and iptables.
//
// Every host is a namespace `dcdirnf<pid>-<host>` with a veth `eth0` at 10.77.0.<index + 1>/24;
// the other ends of the veths sit on a bridge in one more namespace of the lab's own
// (`dcdirnf<pid>-sw`), so nothing is added to the test's own namespace and no address outside
// the lab is ever a target. Faults are iptables rules inside the hosts' namespaces:
//   - Partition(a, b): DROP both ways (a black hole: TCP waits, nothing is refused);
//   - Isolate(side, others): the same between two groups of hosts (a split brain);
//   - Loss(a, b, p):  DROP a share p of the packets both ways (-m statistic --mode random);
//   - Delay(a, b, ms): a's packets to b go to NFQUEUE 1, held `ms` by nfq_delay.py run in a's
//     namespace (this kernel has no netem qdisc);
//   - Heal(): flushes every rule and stops the delay programs.
// Cleanup: the destructor kills every process started in the lab (and any other process still
// in one of its namespaces), then deletes the namespaces, which removes their links and rules.
// Create() first deletes the namespaces of earlier labs whose process is gone (a test killed
// before its destructor ran).

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/testing/subprocess.h"

namespace dcdir::netfault {

class NetLab {
 public:
  // Makes one namespace per host name (names: [a-z0-9], at most 8 characters). The error says
  // why not (no root, no iproute2, namespaces refused): the test skips with it.
  static absl::StatusOr<std::unique_ptr<NetLab>> Create(const std::vector<std::string>& hosts);
  ~NetLab();
  NetLab(const NetLab&) = delete;
  NetLab& operator=(const NetLab&) = delete;

  const std::string& ip(const std::string& host) const { return hosts_.at(host).ip; }
  const std::string& ns(const std::string& host) const { return hosts_.at(host).ns; }

  // Starts argv inside `host`'s namespace (`ip netns exec`, which execs: the pid is the
  // program's). The lab owns the process; Stop() or the destructor ends it.
  testing::Subprocess* Spawn(const std::string& host, const std::vector<std::string>& argv,
                             const std::vector<std::string>& env = {});
  // SIGTERM, then SIGKILL after `grace`; the process stays readable (out(), err()).
  static void Stop(testing::Subprocess* process, absl::Duration grace = absl::Seconds(5));

  absl::Status Partition(const std::string& a, const std::string& b);
  // Cuts every host of `side` from every host of `others`, both ways (a black hole), with two
  // rules in each host of `side`; hosts in neither list keep reaching both sides.
  absl::Status Isolate(const std::vector<std::string>& side,
                       const std::vector<std::string>& others);
  absl::Status Loss(const std::string& a, const std::string& b, double share);
  absl::Status Delay(const std::string& a, const std::string& b, int milliseconds);
  absl::Status Heal();

  // Runs a command inside `host` to completion (bounded): OK when it exits 0, else INTERNAL
  // with its stderr.
  absl::Status Exec(const std::string& host, const std::vector<std::string>& argv);

 private:
  struct Host {
    std::string ns;
    std::string ip;
  };
  NetLab() = default;
  absl::Status AddHost(const std::string& name, int index);
  absl::Status Iptables(const std::string& host, const std::vector<std::string>& rule);

  std::string prefix_;
  std::string switch_ns_;
  std::map<std::string, Host> hosts_;
  std::vector<std::string> namespaces_;  // every namespace made, deleted in the destructor
  std::vector<std::unique_ptr<testing::Subprocess>> processes_;
  std::vector<testing::Subprocess*> delays_;
};

}  // namespace dcdir::netfault

#endif  // DCDIR_TESTS_NETFAULT_NET_LAB_H_

#ifndef DCDIR_TESTS_TESTING_REDIS_FIXTURE_H_
#define DCDIR_TESTS_TESTING_REDIS_FIXTURE_H_

// Throwaway Redis servers and Sentinel clusters for tests: real `redis-server` /
// `redis-sentinel` processes on free loopback ports, each in its own temp dir, with no
// persistence. Children die with the test process (PR_SET_PDEATHSIG) and are killed and
// cleaned up on destruction. Every failure names its cause (e.g. a missing binary).

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace dcdir::testing {

// A loopback TCP port that was free a moment ago (bind port 0, read it, close). Never 0.
absl::StatusOr<int> PickFreePort();

// Sends one command to 127.0.0.1:`port` on a fresh connection. The reply as text: strings and
// statuses as is, integers in decimal, nil as "(nil)", arrays as their elements joined by '\n'.
// An error reply is FAILED_PRECONDITION with Redis' message; no connection is UNAVAILABLE.
absl::StatusOr<std::string> RedisCommand(int port, const std::vector<std::string>& args,
                                         absl::Duration timeout = absl::Seconds(2));

// One redis-server (or redis-sentinel) process.
class RedisServer {
 public:
  // Starts `redis-server --port P --bind 127.0.0.1 --save '' --appendonly no` plus
  // `extra_args`, on a free port (retried on a collision), and waits until PING answers.
  static absl::StatusOr<std::unique_ptr<RedisServer>> Start(
      std::vector<std::string> extra_args = {});
  // Starts `redis-sentinel` with `config_lines` (port/bind/dir are added).
  static absl::StatusOr<std::unique_ptr<RedisServer>> StartSentinel(
      std::vector<std::string> config_lines);

  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;
  ~RedisServer();  // kills the process, removes the temp dir

  int port() const { return port_; }
  // redis://127.0.0.1:PORT
  std::string url() const;
  bool running() const { return pid_ > 0; }

  // SIGTERM, then waits for the exit (SIGKILL after 5 s).
  absl::Status Stop();
  // SIGKILL and wait: a crash.
  absl::Status Kill();
  // SIGSTOP / SIGCONT: a server that accepts nothing and answers nothing (a hung node or a
  // partition without resets), for timeout tests.
  absl::Status Pause();
  absl::Status Resume();
  // Starts again on the same port with the same arguments (data is gone: no persistence).
  absl::Status Restart();

  // RedisCommand on this server.
  absl::StatusOr<std::string> Command(const std::vector<std::string>& args) const;

 private:
  RedisServer(std::string binary, std::string dir, std::vector<std::string> extra_args,
              std::vector<std::string> sentinel_config);
  absl::Status Launch(int port);  // spawns and waits for PING
  std::string LogTail() const;

  std::string binary_;
  std::string dir_;
  std::vector<std::string> extra_args_;
  std::vector<std::string> sentinel_config_;  // non-empty for a sentinel
  int port_ = 0;
  pid_t pid_ = -1;
};

// A master, one replica and `sentinels` Sentinels monitoring it as `master_name` with
// down-after-milliseconds 1000 (a failover takes about 3 s).
class SentinelCluster {
 public:
  static absl::StatusOr<std::unique_ptr<SentinelCluster>> Start(int sentinels = 1,
                                                                std::string master_name = "dcdir");

  // redis+sentinel://127.0.0.1:S1[,127.0.0.1:S2...]/MASTER_NAME
  std::string url() const;
  RedisServer& master() { return *master_; }
  RedisServer& replica() { return *replica_; }
  // The i-th sentinel (0-based, in URL order).
  RedisServer& sentinel(size_t i) { return *sentinels_.at(i); }
  const std::string& master_name() const { return master_name_; }

  // The port the first sentinel currently names as the master.
  absl::StatusOr<int> SentinelMasterPort() const;
  // Polls (every 50 ms) until the sentinels name `port` as the master; DEADLINE_EXCEEDED.
  absl::Status WaitForMasterPort(int port, absl::Duration timeout) const;

 private:
  SentinelCluster() = default;

  std::string master_name_;
  std::unique_ptr<RedisServer> master_;
  std::unique_ptr<RedisServer> replica_;
  std::vector<std::unique_ptr<RedisServer>> sentinels_;
};

}  // namespace dcdir::testing

#endif  // DCDIR_TESTS_TESTING_REDIS_FIXTURE_H_

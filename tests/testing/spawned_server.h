#ifndef DCDIR_TESTS_TESTING_SPAWNED_SERVER_H_
#define DCDIR_TESTS_TESTING_SPAWNED_SERVER_H_

// The real dcdir-server binary as a child process, for tests of what only the binary does
// (flags, config file polling, clock steps under libfaketime, logs, /metrics over HTTP): gRPC on
// 127.0.0.1 (a port picked by the server), metrics on a free loopback port, a bearer token
// file, stubs to talk to it. The process is killed when the object goes away.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "dcdir/v1/admin.grpc.pb.h"
#include "dcdir/v1/directory.grpc.pb.h"
#include "dcdir/v1/reporting.grpc.pb.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "tests/testing/poll.h"
#include "tests/testing/subprocess.h"

namespace dcdir::testing {

struct SpawnOptions {
  std::string config_path;               // --config (required)
  std::vector<std::string> flags;        // more flags, e.g. "--config_poll_interval=200ms"
  std::vector<std::string> env;          // "NAME=value" for the child (e.g. LD_PRELOAD)
  std::string token = "spawned-token";   // --auth_token_file content; "" for none
  // A command the server runs under, e.g. {"/usr/bin/prlimit", "--nofile=256:256", "--"}.
  std::vector<std::string> wrapper;
};

// The environment that runs a child under libfaketime (Debian's libfaketime) with its wall
// clock offset by the content of `timestamp_file` (e.g. "+0", "-3600"), re-read on every call,
// and its monotonic clock left alone. Empty when the library is not installed.
std::vector<std::string> FaketimeEnv(const std::string& timestamp_file);

class SpawnedServer {
 public:
  // Starts the binary (DCDIR_SERVER_BIN) and waits (up to 20 s) for its "listening on" line.
  // The error says why and carries the server's log.
  static absl::StatusOr<std::unique_ptr<SpawnedServer>> Start(SpawnOptions options);
  ~SpawnedServer();

  int port() const { return port_; }
  int metrics_port() const { return metrics_port_; }
  // Everything the server wrote to stderr so far (its log).
  std::string log() const { return process_->err(); }
  Subprocess& process() { return *process_; }

  v1::DirectoryService::Stub& directory() { return *directory_; }
  v1::ReportingService::Stub& reporting() { return *reporting_; }
  v1::AdminService::Stub& admin() { return *admin_; }

  // A context with a 5 s deadline and, when `auth`, the bearer token.
  std::unique_ptr<grpc::ClientContext> Context(bool auth = false) const;

  grpc::Status Report(const std::string& dc, v1::HealthStatus status, double congestion = 0.1,
                      absl::Duration ttl = absl::ZeroDuration(),
                      v1::ReportHealthResponse* response = nullptr);
  grpc::Status Get(const std::string& country, v1::Directory* out,
                   const std::string& client_id = "k", const std::string& tenant = "");
  grpc::Status Explain(const std::string& country, v1::DirectoryExplanation* out,
                       const std::string& tenant = "");
  grpc::Status List(v1::ListDataCentersResponse* out);

  // GET /metrics over HTTP: the value of the series `name` with exactly these labels (among
  // others), or nullopt when absent or unreachable.
  std::optional<double> Metric(const std::string& name,
                               const std::map<std::string, std::string>& labels = {}) const;
  // The raw /metrics body ("" when unreachable).
  std::string MetricsText() const;

 private:
  SpawnedServer() = default;
  std::unique_ptr<Subprocess> process_;
  int port_ = 0;
  int metrics_port_ = 0;
  std::string token_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::DirectoryService::Stub> directory_;
  std::unique_ptr<v1::ReportingService::Stub> reporting_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
};

// The message part of the log lines (after "TIMESTAMP LEVEL "), in order.
std::vector<std::string> LogMessages(const std::string& log);

}  // namespace dcdir::testing

#endif  // DCDIR_TESTS_TESTING_SPAWNED_SERVER_H_

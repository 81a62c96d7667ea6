#ifndef DCDIR_TESTS_REPLICA_REPLICA_FIXTURE_H_
#define DCDIR_TESTS_REPLICA_REPLICA_FIXTURE_H_

// One dcdir replica in-process: its own RedisStore on a shared Redis (direct or Sentinel URL),
// a real DcdirServer on 127.0.0.1:0 and stubs to talk to it. Used by the replica tests and the
// propagation benchmark. No auth token.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "dcdir/v1/admin.grpc.pb.h"
#include "dcdir/v1/directory.grpc.pb.h"
#include "dcdir/v1/reporting.grpc.pb.h"
#include "grpcpp/channel.h"
#include "service/api/server.h"
#include "service/core/clock.h"
#include "service/core/topology.h"
#include "service/store/redis_store.h"
#include "tests/testing/poll.h"

namespace dcdir::testing {

struct ReplicaOptions {
  std::string redis_url;  // redis://... or redis+sentinel://...
  const core::Clock* clock = nullptr;                // null: the real clock
  std::shared_ptr<const core::Topology> topology;  // null: the example world
  runtime::DirectoryStateOptions state;            // production defaults unless set
};

class Replica {
 public:
  static absl::StatusOr<std::unique_ptr<Replica>> Start(ReplicaOptions options);
  ~Replica();  // stops the server, then the store
  Replica(const Replica&) = delete;
  Replica& operator=(const Replica&) = delete;

  api::DcdirServer& server() { return *server_; }
  store::RedisStore& store() { return *store_; }
  int port() const { return server_->port(); }
  v1::DirectoryService::Stub& directory() { return *directory_; }
  v1::ReportingService::Stub& reporting() { return *reporting_; }
  v1::AdminService::Stub& admin() { return *admin_; }

  // ReportHealth over gRPC (ttl zero: the server default).
  grpc::Status Report(const std::string& dc_id, v1::HealthStatus status, double congestion = 0.1,
                      absl::Duration ttl = absl::ZeroDuration(),
                      v1::ReportHealthResponse* response = nullptr);
  // GetDirectory over gRPC.
  grpc::Status Get(const std::string& country, v1::Directory* out,
                   const std::string& client_id = "k", const std::string& tenant = "");
  // A metric of this replica's registry (nullopt when the series does not exist).
  std::optional<double> Metric(const std::string& name,
                               const std::map<std::string, std::string>& labels = {}) const;

 private:
  Replica() = default;
  std::unique_ptr<store::RedisStore> store_;
  std::unique_ptr<api::DcdirServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::DirectoryService::Stub> directory_;
  std::unique_ptr<v1::ReportingService::Stub> reporting_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
};

}  // namespace dcdir::testing

#endif  // DCDIR_TESTS_REPLICA_REPLICA_FIXTURE_H_

#ifndef DCDIR_TESTS_TESTING_SERVER_FIXTURE_H_
#define DCDIR_TESTS_TESTING_SERVER_FIXTURE_H_

// A real dcdir gRPC server in-process on 127.0.0.1:0 (example world, in-memory store, fake
// clock unless asked for the real one, plaintext unless given TLS files), with stubs to talk to
// it. The one in-process server of the service, security and compliance tests, the client
// library's tests and the in-process benchmarks.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dcdir/v1/admin.grpc.pb.h"
#include "dcdir/v1/directory.grpc.pb.h"
#include "dcdir/v1/reporting.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "service/api/server.h"
#include "service/store/store.h"
#include "tests/testing/fake_clock.h"

namespace dcdir::testing {

// Path of the repository's example world.
std::string ExampleWorldPath();
// The example world, loaded through the real config loader.
std::shared_ptr<const core::Topology> ExampleTopology();

struct TestServerOptions {
  std::string auth_token = "s3cret-token";
  double fallback_reports_per_second = 1000;
  double fallback_reports_per_second_per_peer = 0;
  std::shared_ptr<const core::Topology> topology = nullptr;  // null: the example world
  store::Store* store = nullptr;                   // null: a fresh InMemoryStore
  bool self_preservation = true;                   // runtime::DirectoryStateOptions
  const geoip::ClientLocator* geoip = nullptr;     // must outlive the server
  size_t store_write_backlog = 1024;               // api::ServerOptions
  // The server's clock: false, the fixture's FakeClock (clock()); true, the real clock, for
  // clients that compare the answers' times with their own clock (the client library).
  bool real_clock = false;
  // TLS on the gRPC port from these files (api::ServerOptions::tls); empty cert_file:
  // plaintext. The fixture's own channel (channel(), the stubs, Report, Get) stays plaintext,
  // which a TLS port refuses: a TLS test makes its channels to address() with the credentials
  // it is about.
  api::ServerTlsFiles tls = {};
  // Runs last on the api::ServerOptions the fixture built, before the server starts, with the
  // server's clock: sets what a test is about (limits, the watchdog, an audit sink built on
  // `clock`, ...). What it points the options at must outlive the server.
  std::function<void(api::ServerOptions& options, const core::Clock& clock)> configure = nullptr;
};

class TestServer {
 public:
  // Starts the server; a start error fails the test (ADD_FAILURE).
  explicit TestServer(TestServerOptions options = {});
  // Starts the server; a start error is returned as api::DcdirServer::Start gave it (tests of
  // start errors; programs that are not tests).
  static absl::StatusOr<std::unique_ptr<TestServer>> Start(TestServerOptions options);
  ~TestServer();

  api::DcdirServer& server() { return *server_; }
  FakeClock& clock() { return clock_; }
  const prometheus::Registry& registry() const { return *server_->registry(); }
  const std::string& token() const { return token_; }
  // "127.0.0.1:PORT".
  std::string address() const;
  // Stops serving at once (the port then refuses connections).
  void Shutdown();
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }

  v1::DirectoryService::Stub& directory() { return *directory_; }
  v1::ReportingService::Stub& reporting() { return *reporting_; }
  v1::AdminService::Stub& admin() { return *admin_; }

  // A client context with `authorization: Bearer <token>` (the right one unless given).
  std::unique_ptr<grpc::ClientContext> AuthContext(const std::string& token = "") const;

  // Reports `status` (congestion 0.1, default TTL) for the given DCs (all DCs when empty);
  // fails the test on error.
  void Report(v1::HealthStatus status, const std::vector<std::string>& dcs = {});
  // GetDirectory; the trailing reason token, if any, goes to *reason.
  grpc::Status Get(const std::string& country, v1::Directory* out, std::string* reason = nullptr,
                   const std::string& tenant = "", const std::string& client_id = "k");

 private:
  struct Unstarted {};
  explicit TestServer(Unstarted) {}
  absl::Status Init(TestServerOptions options);

  FakeClock clock_;
  core::RealClock real_clock_;
  std::string token_;
  std::unique_ptr<store::Store> own_store_;
  std::unique_ptr<api::DcdirServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::DirectoryService::Stub> directory_;
  std::unique_ptr<v1::ReportingService::Stub> reporting_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
};

// The `dcdir-error-reason` trailer of a finished call ("" when absent).
std::string ReasonOf(const grpc::ClientContext& context);

// DC ids of a list, in order.
std::vector<std::string> Ids(const google::protobuf::RepeatedPtrField<v1::DataCenter>& dcs);

}  // namespace dcdir::testing

#endif  // DCDIR_TESTS_TESTING_SERVER_FIXTURE_H_

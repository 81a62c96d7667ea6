#include "tests/testing/server_fixture.h"

#include <utility>

#include "gtest/gtest.h"
#include "service/config/config_loader.h"
#include "service/store/in_memory_store.h"
#include "tests/testing/health_report.h"

namespace dcdir::testing {

std::string ExampleWorldPath() {
  return std::string(DCDIR_SOURCE_DIR) + "/deploy/config/world.yaml";
}

std::shared_ptr<const core::Topology> ExampleTopology() {
  auto world = config::LoadWorldFile(ExampleWorldPath());
  if (!world.ok()) {
    ADD_FAILURE() << world.status();
    return nullptr;
  }
  auto topology = core::Topology::Compile(*world);
  if (!topology.ok()) {
    ADD_FAILURE() << topology.status();
    return nullptr;
  }
  return *topology;
}

TestServer::TestServer(TestServerOptions options) {
  const absl::Status started = Init(std::move(options));
  if (!started.ok()) ADD_FAILURE() << started;
}

absl::StatusOr<std::unique_ptr<TestServer>> TestServer::Start(TestServerOptions options) {
  std::unique_ptr<TestServer> server(new TestServer(Unstarted{}));
  absl::Status started = server->Init(std::move(options));
  if (!started.ok()) return started;
  return server;
}

absl::Status TestServer::Init(TestServerOptions options) {
  token_ = options.auth_token;
  auto topology = options.topology ? options.topology : ExampleTopology();
  if (topology == nullptr) return absl::InternalError("cannot load the example world");
  store::Store* store = options.store;
  if (store == nullptr) {
    own_store_ = std::make_unique<store::InMemoryStore>();
    store = own_store_.get();
  }
  api::ServerOptions server_options;
  server_options.listen_address = "127.0.0.1:0";
  server_options.auth_token = options.auth_token;
  server_options.fallback_reports_per_second = options.fallback_reports_per_second;
  server_options.fallback_reports_per_second_per_peer = options.fallback_reports_per_second_per_peer;
  server_options.state.tick = absl::Milliseconds(20);
  server_options.state.self_preservation = options.self_preservation;
  server_options.geoip = options.geoip;
  server_options.store_write_backlog = options.store_write_backlog;
  server_options.tls = options.tls;
  const core::Clock* clock = options.real_clock ? static_cast<const core::Clock*>(&real_clock_)
                                                : static_cast<const core::Clock*>(&clock_);
  if (options.configure) options.configure(server_options, *clock);
  auto server = api::DcdirServer::Start(topology, store, clock, std::move(server_options));
  if (!server.ok()) return server.status();
  server_ = *std::move(server);
  channel_ = grpc::CreateChannel(address(), grpc::InsecureChannelCredentials());
  directory_ = v1::DirectoryService::NewStub(channel_);
  reporting_ = v1::ReportingService::NewStub(channel_);
  admin_ = v1::AdminService::NewStub(channel_);
  return absl::OkStatus();
}

TestServer::~TestServer() { Shutdown(); }

std::string TestServer::address() const {
  return "127.0.0.1:" + std::to_string(server_ ? server_->port() : 0);
}

void TestServer::Shutdown() {
  if (server_) server_->Shutdown(absl::ZeroDuration());
}

std::unique_ptr<grpc::ClientContext> TestServer::AuthContext(const std::string& token) const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("authorization", "Bearer " + (token.empty() ? token_ : token));
  return context;
}

void TestServer::Report(v1::HealthStatus status, const std::vector<std::string>& dcs) {
  std::vector<std::string> ids = dcs;
  if (ids.empty()) {
    auto snapshot = server_->state().Current();
    for (const auto& dc : snapshot->topology->world().datacenters) ids.push_back(dc.id);
  }
  for (const std::string& id : ids) {
    const v1::HealthReport report = HealthReportOf(id, status);
    v1::ReportHealthResponse response;
    auto context = AuthContext();
    grpc::Status s = reporting_->ReportHealth(context.get(), report, &response);
    ASSERT_TRUE(s.ok()) << id << ": " << s.error_message();
  }
}

grpc::Status TestServer::Get(const std::string& country, v1::Directory* out, std::string* reason,
                             const std::string& tenant, const std::string& client_id) {
  v1::GetDirectoryRequest request;
  request.set_client_country(country);
  request.set_tenant_id(tenant);
  request.set_client_id(client_id);
  grpc::ClientContext context;
  grpc::Status s = directory_->GetDirectory(&context, request, out);
  if (reason != nullptr) *reason = ReasonOf(context);
  return s;
}

std::string ReasonOf(const grpc::ClientContext& context) {
  const auto& trailers = context.GetServerTrailingMetadata();
  auto it = trailers.find("dcdir-error-reason");
  return it == trailers.end() ? "" : std::string(it->second.data(), it->second.size());
}

std::vector<std::string> Ids(const google::protobuf::RepeatedPtrField<v1::DataCenter>& dcs) {
  std::vector<std::string> ids;
  for (const auto& dc : dcs) ids.push_back(dc.id());
  return ids;
}

}  // namespace dcdir::testing

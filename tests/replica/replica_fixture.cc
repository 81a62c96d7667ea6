#include "tests/replica/replica_fixture.h"

#include <utility>

#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "tests/testing/health_report.h"
#include "tests/testing/metrics_reader.h"
#include "tests/testing/server_fixture.h"

namespace dcdir::testing {
namespace {

const core::RealClock kRealClock;

}  // namespace

absl::StatusOr<std::unique_ptr<Replica>> Replica::Start(ReplicaOptions options) {
  std::unique_ptr<Replica> r(new Replica());
  store::RedisStore::Options store_options;
  store_options.url = options.redis_url;
  auto store = store::RedisStore::Create(std::move(store_options));
  if (!store.ok()) return store.status();
  r->store_ = *std::move(store);
  auto topology = options.topology ? options.topology : ExampleTopology();
  if (topology == nullptr) return absl::InternalError("cannot load the example world");
  api::ServerOptions server_options;
  server_options.listen_address = "127.0.0.1:0";
  server_options.state = options.state;
  auto server = api::DcdirServer::Start(topology, r->store_.get(),
                                        options.clock ? options.clock : &kRealClock,
                                        std::move(server_options));
  if (!server.ok()) return server.status();
  r->server_ = *std::move(server);
  r->channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(r->server_->port()),
                                    grpc::InsecureChannelCredentials());
  r->directory_ = v1::DirectoryService::NewStub(r->channel_);
  r->reporting_ = v1::ReportingService::NewStub(r->channel_);
  r->admin_ = v1::AdminService::NewStub(r->channel_);
  return r;
}

Replica::~Replica() {
  if (server_) server_->Shutdown(absl::ZeroDuration());
  server_.reset();
  store_.reset();
}

grpc::Status Replica::Report(const std::string& dc_id, v1::HealthStatus status, double congestion,
                             absl::Duration ttl, v1::ReportHealthResponse* response) {
  const v1::HealthReport report = HealthReportOf(dc_id, status, congestion, ttl);
  v1::ReportHealthResponse ignored;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  return reporting_->ReportHealth(&context, report, response ? response : &ignored);
}

grpc::Status Replica::Get(const std::string& country, v1::Directory* out,
                          const std::string& client_id, const std::string& tenant) {
  v1::GetDirectoryRequest request;
  request.set_client_country(country);
  request.set_client_id(client_id);
  request.set_tenant_id(tenant);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  return directory_->GetDirectory(&context, request, out);
}

std::optional<double> Replica::Metric(const std::string& name,
                                      const std::map<std::string, std::string>& labels) const {
  return MetricValue(*server_->registry(), name, labels);
}

}  // namespace dcdir::testing

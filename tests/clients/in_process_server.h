#ifndef DCDIR_TESTS_CLIENTS_IN_PROCESS_SERVER_H_
#define DCDIR_TESTS_CLIENTS_IN_PROCESS_SERVER_H_

// A real dcdir server on 127.0.0.1:0 inside the test process, serving the example world, plus
// helpers to report health and read its metrics. (Tests may use service/; the client may not.)

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "dcdir/v1/admin.grpc.pb.h"
#include "dcdir/v1/reporting.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "service/api/server.h"
#include "service/config/config_loader.h"
#include "service/core/clock.h"
#include "service/core/topology.h"
#include "service/store/in_memory_store.h"

namespace dcdir::testing {

class InProcessServer {
 public:
  InProcessServer() {
    auto world = config::LoadWorldFile(DCDIR_SOURCE_DIR "/deploy/config/world.yaml");
    EXPECT_TRUE(world.ok()) << world.status();
    auto topology = core::Topology::Compile(*world);
    EXPECT_TRUE(topology.ok()) << topology.status();
    api::ServerOptions options;
    options.listen_address = "127.0.0.1:0";
    auto server = api::DcdirServer::Start(*topology, &store_, &clock_, options);
    EXPECT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    channel_ = grpc::CreateChannel(address(), grpc::InsecureChannelCredentials());
  }
  ~InProcessServer() { Shutdown(); }

  std::string address() const { return absl::StrCat("127.0.0.1:", port_or_zero()); }
  int port_or_zero() const { return server_ ? server_->port() : 0; }
  api::DcdirServer& server() { return *server_; }

  // Stops serving (the port then refuses connections).
  void Shutdown() {
    if (server_) server_->Shutdown(absl::ZeroDuration());
  }

  // Reports a DC's health through the real ReportingService; retries while the server is
  // still building its first snapshot (NOT_READY), bounded.
  void Report(const std::string& dc, v1::HealthStatus status, double congestion = 0.1) {
    auto stub = v1::ReportingService::NewStub(channel_);
    grpc::Status s;
    for (int i = 0; i < 100; ++i) {
      v1::HealthReport report;
      report.set_datacenter_id(dc);
      report.set_status(status);
      report.set_congestion(congestion);
      report.mutable_ttl()->set_seconds(600);
      v1::ReportHealthResponse response;
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
      s = stub->ReportHealth(&context, report, &response);
      if (s.error_code() != grpc::StatusCode::UNAVAILABLE) break;
      absl::SleepFor(absl::Milliseconds(20));
    }
    ASSERT_TRUE(s.ok()) << dc << ": " << s.error_message();
  }

  void ReportAll(const std::vector<std::string>& dcs, v1::HealthStatus status,
                 double congestion = 0.1) {
    for (const std::string& dc : dcs) Report(dc, status, congestion);
  }

  // The value of a counter with exactly these labels; -1 when absent.
  double CounterValue(const std::string& name,
                      const std::vector<std::pair<std::string, std::string>>& labels) {
    for (const prometheus::MetricFamily& family : server_->registry()->Collect()) {
      if (family.name != name) continue;
      for (const prometheus::ClientMetric& metric : family.metric) {
        bool match = metric.label.size() == labels.size();
        for (const auto& [k, v] : labels) {
          bool found = false;
          for (const prometheus::ClientMetric::Label& l : metric.label) {
            if (l.name == k && l.value == v) found = true;
          }
          match = match && found;
        }
        if (match) return metric.counter.value;
      }
    }
    return -1;
  }

 private:
  core::RealClock clock_;
  store::InMemoryStore store_;
  std::unique_ptr<api::DcdirServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace dcdir::testing

#endif  // DCDIR_TESTS_CLIENTS_IN_PROCESS_SERVER_H_

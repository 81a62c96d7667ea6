// SIGTERM with --shutdown_delay on the real binary: the health service says NOT_SERVING at once
// (load balancers stop sending new calls) while GetDirectory is still answered; then the drain
// runs and the process exits 0.

#include <signal.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "dcdir/v1/directory.grpc.pb.h"
#include "dcdir/v1/reporting.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"

namespace dcdir::testing {
namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

constexpr char kToken[] = "shutdown-test-token";

std::optional<int> WaitForPort(Subprocess& server) {
  const std::regex listening(R"(listening on 127\.0\.0\.1:(\d+))");
  for (int i = 0; i < 2000; ++i) {
    std::smatch m;
    const std::string err = server.err();
    int port = 0;
    if (std::regex_search(err, m, listening) && absl::SimpleAtoi(m[1].str(), &port)) return port;
    if (server.Wait(absl::Milliseconds(5)).has_value()) return std::nullopt;
  }
  return std::nullopt;
}

TEST(ShutdownTest, ShutdownDelayAnswersWhileNotServingThenDrainsAndExitsZero) {
  const std::string dir = MakeTempDir();
  const std::string token_file = dir + "/token";
  std::ofstream(token_file) << kToken << "\n";
  Subprocess server({DCDIR_SERVER_BIN, "--config=" DCDIR_SOURCE_DIR "/deploy/config/world.yaml",
                     "--grpc_host=127.0.0.1", "--grpc_port=0", "--metrics_port=0",
                     "--auth_token_file=" + token_file, "--shutdown_delay=3s",
                     "--shutdown_grace=1s"});
  const std::optional<int> port = WaitForPort(server);
  ASSERT_TRUE(port.has_value()) << server.err();
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", *port),
                                     grpc::InsecureChannelCredentials());
  auto health = grpc::health::v1::Health::NewStub(channel);
  auto directory = v1::DirectoryService::NewStub(channel);
  auto reporting = v1::ReportingService::NewStub(channel);
  auto deadline = [] { return std::chrono::system_clock::now() + std::chrono::seconds(2); };
  auto health_status = [&] {
    grpc::ClientContext context;
    context.set_deadline(deadline());
    HealthCheckResponse response;
    const grpc::Status s = health->Check(&context, HealthCheckRequest(), &response);
    return s.ok() ? response.status() : HealthCheckResponse::UNKNOWN;
  };
  auto get_us = [&](v1::Directory* d) {
    v1::GetDirectoryRequest request;
    request.set_client_country("US");
    request.set_client_id("k");
    grpc::ClientContext context;
    context.set_deadline(deadline());
    return directory->GetDirectory(&context, request, d);
  };
  for (const char* dc : {"us-sjc", "us-den", "us-nyc", "us-iad"}) {
    v1::HealthReport report;
    report.set_datacenter_id(dc);
    report.set_status(v1::HEALTH_STATUS_HEALTHY);
    report.set_congestion(0.1);
    grpc::ClientContext context;
    context.set_deadline(deadline());
    context.AddMetadata("authorization", absl::StrCat("Bearer ", kToken));
    v1::ReportHealthResponse response;
    ASSERT_TRUE(reporting->ReportHealth(&context, report, &response).ok()) << dc;
  }
  v1::Directory before;
  ASSERT_TRUE(get_us(&before).ok());
  ASSERT_GT(before.primaries_size(), 0);
  ASSERT_EQ(health_status(), HealthCheckResponse::SERVING);

  server.Signal(SIGTERM);
  bool not_serving = false;
  for (int i = 0; i < 500 && !not_serving; ++i) {
    not_serving = health_status() == HealthCheckResponse::NOT_SERVING;
    if (!not_serving) absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_TRUE(not_serving) << server.err();
  // Within the 3 s delay: still answered, still NOT_SERVING, the process still running.
  v1::Directory during;
  const grpc::Status s = get_us(&during);
  EXPECT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
  ASSERT_EQ(during.primaries_size(), before.primaries_size());
  EXPECT_EQ(during.primaries(0).id(), before.primaries(0).id());
  EXPECT_EQ(health_status(), HealthCheckResponse::NOT_SERVING);
  EXPECT_FALSE(server.Wait(absl::ZeroDuration()).has_value());

  const std::optional<int> code = server.Wait(absl::Seconds(15));
  ASSERT_TRUE(code.has_value()) << "still running 15 s after SIGTERM";
  EXPECT_EQ(*code, 0) << server.err();
  EXPECT_NE(server.err().find("NOT_SERVING, draining in 3s"), std::string::npos) << server.err();
}

}  // namespace
}  // namespace dcdir::testing

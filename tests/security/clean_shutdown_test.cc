// SIGTERM on the real binary, with what a running server has open: the metrics HTTP server
// stops without an error line, and an open grpc.health.v1.Health/Watch stream (a Kubernetes
// probe, a load balancer) sees NOT_SERVING and ends, so it does not hold the drain until
// --shutdown_grace runs out.

#include <signal.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/spawned_server.h"

namespace dcdir::testing {
namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kWorld[] = DCDIR_SOURCE_DIR "/deploy/config/world.yaml";

TEST(CleanShutdownTest, TheMetricsServerStopsWithoutAnErrorLine) {
  auto server = SpawnedServer::Start({.config_path = kWorld});
  ASSERT_TRUE(server.ok()) << server.status();
  // The metrics server is up and has served a scrape.
  ASSERT_THAT((*server)->MetricsText(), HasSubstr("dcdir_build_info"));
  (*server)->process().Signal(SIGTERM);
  const std::optional<int> code = (*server)->process().Wait(absl::Seconds(30));
  ASSERT_TRUE(code.has_value()) << (*server)->log();
  EXPECT_EQ(*code, 0) << (*server)->log();
  const std::string log = (*server)->log();
  EXPECT_THAT(log, HasSubstr("stopped"));
  EXPECT_THAT(log, Not(HasSubstr("MHD_quiesce_daemon")));
  EXPECT_THAT(log, Not(HasSubstr("MHD_USE_ITC")));
}

// A health Watch held open through SIGTERM (a client that does not close it at NOT_SERVING): the
// server ends it, so the drain does not wait for it until --shutdown_grace (60 s here) runs out.
TEST(CleanShutdownTest, AnOpenHealthWatchSeesNotServingAndDoesNotHoldTheDrain) {
  auto server = SpawnedServer::Start(
      {.config_path = kWorld, .flags = {"--shutdown_grace=60s", "--shutdown_delay=0s"}});
  ASSERT_TRUE(server.ok()) << server.status();
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*server)->port()),
                                     grpc::InsecureChannelCredentials());
  auto health = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;  // no deadline: only the server may end this call
  auto watch = health->Watch(&context, HealthCheckRequest());
  HealthCheckResponse response;
  ASSERT_TRUE(watch->Read(&response));
  ASSERT_EQ(response.status(), HealthCheckResponse::SERVING);

  (*server)->process().Signal(SIGTERM);
  const absl::Time signalled = absl::Now();
  ASSERT_TRUE(watch->Read(&response)) << (*server)->log();
  EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING);
  // The server ends the stream (the client never cancels it).
  while (watch->Read(&response)) {
    EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING);
  }
  const grpc::Status finished = watch->Finish();
  // 30 s: far less than the 60 s grace it used to wait for, far more than a drain takes.
  const std::optional<int> code = (*server)->process().Wait(absl::Seconds(30));
  ASSERT_TRUE(code.has_value()) << "still running 30 s after SIGTERM (grace 60 s); stream "
                                << finished.error_code() << " " << finished.error_message()
                                << "\n" << (*server)->log();
  EXPECT_EQ(*code, 0) << (*server)->log();
  EXPECT_LT(absl::Now() - signalled, absl::Seconds(30));
}

}  // namespace
}  // namespace dcdir::testing

// SIGTERM on the real binary, with what a running server has open: the metrics HTTP server
// stops without an error line.

#include <signal.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/spawned_server.h"

namespace dcdir::testing {
namespace {

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

}  // namespace
}  // namespace dcdir::testing

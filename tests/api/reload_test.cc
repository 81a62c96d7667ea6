// Config reload through a running server: a bad new file is rejected and the old config keeps
// serving; a good one is served from then on.

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/config/config_loader.h"
#include "service/config/config_watcher.h"
#include "tests/testing/metrics_reader.h"
#include "tests/testing/server_fixture.h"

namespace dcdir {
namespace {

using ::testing::ElementsAre;
using testing::Ids;
using testing::MetricValue;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  std::ofstream(tmp) << text;
  ASSERT_EQ(std::rename(tmp.c_str(), path.c_str()), 0);
}

TEST(ConfigReloadTest, BadFilesAreRejectedAndTheOldConfigKeepsServing) {
  const std::string path = ::testing::TempDir() + "/reload_world.yaml";
  const std::string original = ReadFile(testing::ExampleWorldPath());
  WriteFile(path, original);
  auto topology = config::LoadTopologyFile(path);
  ASSERT_TRUE(topology.ok()) << topology.status();
  testing::TestServer t({.topology = *topology});
  config::ConfigWatcher watcher(
      path, (*topology)->world().version,
      [&](absl::StatusOr<std::shared_ptr<const core::Topology>> next) {
        t.server().ApplyConfig(next);
      });
  t.Report(v1::HEALTH_STATUS_HEALTHY);
  v1::Directory before;
  ASSERT_TRUE(t.Get("US", &before).ok());
  EXPECT_THAT(Ids(before.secondaries()), ElementsAre("ca-yyz", "ca-yvr", "mx-qro", "eu-ams"));

  // 1. Not YAML at all.
  WriteFile(path, "regions: [\n");
  EXPECT_FALSE(watcher.CheckNow());  // first read: not settled yet
  EXPECT_TRUE(watcher.CheckNow());
  EXPECT_EQ(MetricValue(t.registry(), "dcdir_config_reload_total", {{"result", "error"}}), 1.0);
  // 2. The 2020 mistake: a mainland-China DC on the US backup list.
  WriteFile(path, absl::StrReplaceAll(original, {{"secondaries: [ca-yyz, ca-yvr, mx-qro, eu-ams]",
                                                  "secondaries: [ca-yyz, cn-pek, mx-qro, eu-ams]"}}));
  EXPECT_FALSE(watcher.CheckNow());  // first read: not settled yet
  EXPECT_TRUE(watcher.CheckNow());
  EXPECT_EQ(MetricValue(t.registry(), "dcdir_config_reload_total", {{"result", "error"}}), 2.0);
  EXPECT_EQ(MetricValue(t.registry(), "dcdir_config_reload_total", {{"result", "success"}}), 0.0);
  v1::Directory during;
  ASSERT_TRUE(t.Get("US", &during).ok());
  EXPECT_EQ(Ids(during.secondaries()), Ids(before.secondaries()));
  EXPECT_EQ(during.config_version(), before.config_version());

  // 3. A good change is served at once, health kept.
  WriteFile(path, absl::StrReplaceAll(original, {{"secondaries: [ca-yyz, ca-yvr, mx-qro, eu-ams]",
                                                  "secondaries: [ca-yvr, mx-qro]"}}));
  EXPECT_FALSE(watcher.CheckNow());  // first read: not settled yet
  EXPECT_TRUE(watcher.CheckNow());
  EXPECT_EQ(MetricValue(t.registry(), "dcdir_config_reload_total", {{"result", "success"}}), 1.0);
  v1::Directory after;
  ASSERT_TRUE(t.Get("US", &after).ok());
  EXPECT_THAT(Ids(after.secondaries()), ElementsAre("ca-yvr", "mx-qro"));
  EXPECT_NE(after.config_version(), before.config_version());
  EXPECT_EQ(after.primaries_size(), 4);
}

// The served file is broken, then restored: the restored file is what is served already, so
// nothing is replaced (no new snapshot) and the reload counts as unchanged, not as a success.
TEST(ConfigReloadTest, RestoringTheServedFileAfterARejectedEditIsUnchanged) {
  const std::string path = ::testing::TempDir() + "/restore_world.yaml";
  const std::string original = ReadFile(testing::ExampleWorldPath());
  WriteFile(path, original);
  auto topology = config::LoadTopologyFile(path);
  ASSERT_TRUE(topology.ok()) << topology.status();
  testing::TestServer t({.topology = *topology});
  std::vector<api::DcdirServer::ReloadResult> results;
  config::ConfigWatcher watcher(
      path, (*topology)->world().version,
      [&](absl::StatusOr<std::shared_ptr<const core::Topology>> next) {
        results.push_back(t.server().ApplyConfig(next));
      });
  t.Report(v1::HEALTH_STATUS_HEALTHY);
  v1::Directory before;
  ASSERT_TRUE(t.Get("US", &before).ok());

  WriteFile(path, "regions: [\n");
  EXPECT_FALSE(watcher.CheckNow());
  EXPECT_TRUE(watcher.CheckNow());
  WriteFile(path, original);
  EXPECT_FALSE(watcher.CheckNow());
  EXPECT_TRUE(watcher.CheckNow());
  EXPECT_THAT(results, ElementsAre(api::DcdirServer::ReloadResult::kInvalid,
                                   api::DcdirServer::ReloadResult::kUnchanged));
  EXPECT_EQ(MetricValue(t.registry(), "dcdir_config_reload_total", {{"result", "error"}}), 1.0);
  EXPECT_EQ(MetricValue(t.registry(), "dcdir_config_reload_total", {{"result", "unchanged"}}),
            1.0);
  EXPECT_EQ(MetricValue(t.registry(), "dcdir_config_reload_total", {{"result", "success"}}), 0.0);
  v1::Directory after;
  ASSERT_TRUE(t.Get("US", &after).ok());
  EXPECT_EQ(after.config_version(), before.config_version());
  EXPECT_EQ(after.snapshot_version(), before.snapshot_version());  // nothing was replaced
}

}  // namespace
}  // namespace dcdir

#include "service/config/config_watcher.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/config/config_loader.h"
#include "tests/config/test_util.h"
#include "tests/testing/notification.h"

namespace dcdir::config {
namespace {

using ::dcdir::config::testing::MakeTempDir;
using ::dcdir::config::testing::ReadFileOrDie;
using ::dcdir::config::testing::ReplaceOnce;
using ::dcdir::config::testing::WriteFile;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// What a server does with the watcher: keep the served world, replace it only with a good one.
class Server {
 public:
  explicit Server(core::World world) : served_(std::move(world)) {}
  ConfigWatcher::OnChange Callback() {
    return [this](absl::StatusOr<std::shared_ptr<const core::Topology>> topology) {
      std::lock_guard<std::mutex> lock(mu_);
      if (topology.ok()) {
        served_ = (*topology)->world();
        ++reloads_;
      } else {
        errors_.push_back(topology.status());
      }
    };
  }
  core::World served() {
    std::lock_guard<std::mutex> lock(mu_);
    return served_;
  }
  int reloads() {
    std::lock_guard<std::mutex> lock(mu_);
    return reloads_;
  }
  std::vector<absl::Status> errors() {
    std::lock_guard<std::mutex> lock(mu_);
    return errors_;
  }

 private:
  std::mutex mu_;
  core::World served_ ABSL_GUARDED_BY(mu_);
  int reloads_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<absl::Status> errors_ ABSL_GUARDED_BY(mu_);
};

class ConfigWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    path_ = dir_ + "/world.yaml";
    original_ = ReadFileOrDie(DCDIR_WORLD_YAML);
    WriteFile(path_, original_);
    absl::StatusOr<core::World> world = LoadWorldFile(path_);
    ASSERT_TRUE(world.ok()) << world.status();
    server_.emplace(*std::move(world));
  }

  // The example world with one edit that keeps it valid.
  std::string Edited() const {
    return ReplaceOnce(original_, "answer_ttl: 60s", "answer_ttl: 90s");
  }

  std::string dir_;
  std::string path_;
  std::string original_;
  std::optional<Server> server_;
};

TEST_F(ConfigWatcherTest, UnchangedFileIsNotReported) {
  ConfigWatcher watcher(path_, server_->served().version, server_->Callback());
  EXPECT_FALSE(watcher.CheckNow());
  // Rewriting the same bytes is no change either.
  WriteFile(path_, original_);
  EXPECT_FALSE(watcher.CheckNow());
  EXPECT_EQ(server_->reloads(), 0);
  EXPECT_TRUE(server_->errors().empty());
}

TEST_F(ConfigWatcherTest, ChangeIsLoadedOnce) {
  ConfigWatcher watcher(path_, server_->served().version, server_->Callback());
  WriteFile(path_, Edited());
  EXPECT_FALSE(watcher.CheckNow());  // first read: not settled yet
  EXPECT_TRUE(watcher.CheckNow());
  EXPECT_EQ(server_->reloads(), 1);
  EXPECT_EQ(server_->served().thresholds.answer_ttl, absl::Seconds(90));
  EXPECT_EQ(server_->served().version, ContentVersion(Edited()));
  EXPECT_EQ(watcher.last_seen_version(), ContentVersion(Edited()));
  EXPECT_FALSE(watcher.CheckNow());
  EXPECT_EQ(server_->reloads(), 1);
}

TEST_F(ConfigWatcherTest, BadFileIsReportedOnceAndOldWorldKeepsServing) {
  const std::string old_version = server_->served().version;
  ConfigWatcher watcher(path_, old_version, server_->Callback());
  std::string bad = ReplaceOnce(original_, "secondaries: [ca-yyz, ca-yvr, mx-qro, eu-ams]",
                                "secondaries: [ca-yyz, ca-yvr, mx-qro, eu-ams, cn-pek]");
  WriteFile(path_, bad);
  EXPECT_FALSE(watcher.CheckNow());  // first read: not settled yet
  EXPECT_TRUE(watcher.CheckNow());
  ASSERT_EQ(server_->errors().size(), 1u);
  EXPECT_EQ(server_->errors()[0].code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(server_->errors()[0].message()), StartsWith(absl::StrCat(path_, ":")));
  EXPECT_THAT(std::string(server_->errors()[0].message()),
              HasSubstr("\"cn-pek\" in regions.us.secondaries is denied by deny rule "
                        "\"cn-sovereign\""));
  EXPECT_EQ(server_->served().version, old_version);
  EXPECT_EQ(server_->reloads(), 0);
  // The same bad content is not reported again on the next polls.
  EXPECT_FALSE(watcher.CheckNow());
  EXPECT_FALSE(watcher.CheckNow());
  EXPECT_EQ(server_->errors().size(), 1u);
  // A fixed file is loaded.
  WriteFile(path_, Edited());
  EXPECT_FALSE(watcher.CheckNow());  // first read: not settled yet
  EXPECT_TRUE(watcher.CheckNow());
  EXPECT_EQ(server_->reloads(), 1);
  EXPECT_EQ(server_->served().version, ContentVersion(Edited()));
}

TEST_F(ConfigWatcherTest, DistinctBadContentsAreEachReported) {
  ConfigWatcher watcher(path_, server_->served().version, server_->Callback());
  WriteFile(path_, "regions: [\n");
  EXPECT_FALSE(watcher.CheckNow());  // first read: not settled yet
  EXPECT_TRUE(watcher.CheckNow());
  WriteFile(path_, "regions: []\n");
  EXPECT_FALSE(watcher.CheckNow());  // first read: not settled yet
  EXPECT_TRUE(watcher.CheckNow());
  ASSERT_EQ(server_->errors().size(), 2u);
  EXPECT_THAT(std::string(server_->errors()[0].message()), HasSubstr("YAML syntax error"));
  EXPECT_THAT(std::string(server_->errors()[1].message()),
              HasSubstr("regions must be a non-empty list"));
}

TEST_F(ConfigWatcherTest, MissingFileIsReportedOnce) {
  ConfigWatcher watcher(path_, server_->served().version, server_->Callback());
  ASSERT_EQ(unlink(path_.c_str()), 0);
  EXPECT_FALSE(watcher.CheckNow());  // first read: not settled yet
  EXPECT_TRUE(watcher.CheckNow());
  EXPECT_FALSE(watcher.CheckNow());
  ASSERT_EQ(server_->errors().size(), 1u);
  EXPECT_EQ(server_->errors()[0].code(), absl::StatusCode::kNotFound);
  // Back with the served content: it is read again (same world).
  WriteFile(path_, original_);
  EXPECT_FALSE(watcher.CheckNow());  // first read: not settled yet
  EXPECT_TRUE(watcher.CheckNow());
  EXPECT_EQ(server_->reloads(), 1);
  EXPECT_EQ(server_->served().version, ContentVersion(original_));
}

// Kubernetes mounts a ConfigMap as world.yaml -> ..data/world.yaml, ..data -> ..2024_v1, and
// updates it by pointing ..data at a new directory with one atomic rename.
TEST_F(ConfigWatcherTest, FollowsConfigMapSymlinkSwap) {
  const std::string mount = MakeTempDir();
  ASSERT_EQ(mkdir((mount + "/..v1").c_str(), 0755), 0);
  ASSERT_EQ(mkdir((mount + "/..v2").c_str(), 0755), 0);
  WriteFile(mount + "/..v1/world.yaml", original_);
  WriteFile(mount + "/..v2/world.yaml", Edited());
  ASSERT_EQ(symlink("..v1", (mount + "/..data").c_str()), 0);
  ASSERT_EQ(symlink("..data/world.yaml", (mount + "/world.yaml").c_str()), 0);

  ConfigWatcher watcher(mount + "/world.yaml", ContentVersion(original_), server_->Callback());
  EXPECT_FALSE(watcher.CheckNow());
  ASSERT_EQ(symlink("..v2", (mount + "/..data_tmp").c_str()), 0);
  ASSERT_EQ(rename((mount + "/..data_tmp").c_str(), (mount + "/..data").c_str()), 0);
  EXPECT_FALSE(watcher.CheckNow());  // first read: not settled yet
  EXPECT_TRUE(watcher.CheckNow());
  EXPECT_EQ(server_->reloads(), 1);
  EXPECT_EQ(server_->served().thresholds.answer_ttl, absl::Seconds(90));
  EXPECT_FALSE(watcher.CheckNow());
}

// A file rewritten in place by a slow writer changes between polls: nothing is handed on
// until the same content has been read twice in a row, and then only that content.
TEST_F(ConfigWatcherTest, AFileStillBeingWrittenIsNeverHandedOn) {
  ConfigWatcher watcher(path_, server_->served().version, server_->Callback());
  const std::string full = Edited();
  const std::string part1 = full.substr(0, full.size() / 3);
  const std::string part2 = full.substr(0, 2 * full.size() / 3);
  for (const std::string& prefix : {part1, part2}) {
    WriteFile(path_, prefix);
    EXPECT_FALSE(watcher.CheckNow());
  }
  WriteFile(path_, full);
  EXPECT_FALSE(watcher.CheckNow());  // changed since the last read: not settled
  EXPECT_TRUE(watcher.CheckNow());   // the same content twice in a row: handed on
  EXPECT_EQ(server_->reloads(), 1);
  EXPECT_TRUE(server_->errors().empty());  // the prefixes were never parsed
  EXPECT_EQ(server_->served().version, ContentVersion(full));
  // Back to a content seen before, still only after it settled.
  WriteFile(path_, part1);
  EXPECT_FALSE(watcher.CheckNow());
  WriteFile(path_, full);
  EXPECT_FALSE(watcher.CheckNow());  // the served content again: nothing to do
  EXPECT_EQ(server_->reloads(), 1);
  EXPECT_TRUE(server_->errors().empty());
}

// A FIFO at the config path: opened without blocking, refused as not a regular file, reported
// once; neither the check nor Stop() hangs.
TEST_F(ConfigWatcherTest, AFifoIsRefusedWithoutHanging) {
  const std::string fifo = dir_ + "/fifo.yaml";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  ConfigWatcher watcher(fifo, server_->served().version, server_->Callback());
  // A blocking open would wait here for a writer for ever (ctest's timeout fails the test).
  EXPECT_FALSE(watcher.CheckNow());
  EXPECT_TRUE(watcher.CheckNow());
  EXPECT_FALSE(watcher.CheckNow());  // reported once
  watcher.Start(absl::Milliseconds(1));
  absl::SleepFor(absl::Milliseconds(20));
  watcher.Stop();
  ASSERT_EQ(server_->errors().size(), 1u);
  EXPECT_EQ(server_->errors()[0].code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(server_->errors()[0].message()),
              HasSubstr("not a regular file (a FIFO, device or directory is never read)"));
  EXPECT_THAT(LoadWorldFile(fifo).status().message(), HasSubstr("not a regular file"));
}

TEST_F(ConfigWatcherTest, BackgroundPollingReportsAChange) {
  dcdir::testing::Notification changed;
  std::optional<absl::StatusOr<std::shared_ptr<const core::Topology>>> got;
  ConfigWatcher watcher(path_, server_->served().version,
                        [&](absl::StatusOr<std::shared_ptr<const core::Topology>> topology) {
                          if (changed.HasBeenNotified()) return;
                          got = std::move(topology);
                          changed.Notify();
                        });
  WriteFile(path_, Edited());
  watcher.Start(absl::Milliseconds(1));
  changed.WaitForNotification();  // no deadline: a watcher that never polls hangs (ctest timeout)
  watcher.Stop();
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(got->ok()) << got->status();
  EXPECT_EQ((**got)->world().version, ContentVersion(Edited()));
  EXPECT_EQ(watcher.last_seen_version(), ContentVersion(Edited()));
}

TEST_F(ConfigWatcherTest, StopWithoutStartAndTwiceIsHarmless) {
  ConfigWatcher watcher(path_, server_->served().version, server_->Callback());
  watcher.Stop();
  watcher.Start(absl::Hours(1));
  watcher.Stop();  // returns at once although the interval is an hour
  watcher.Stop();
  WriteFile(path_, Edited());
  EXPECT_FALSE(watcher.CheckNow());  // still usable synchronously: first read, not settled
  EXPECT_TRUE(watcher.CheckNow());
}

}  // namespace
}  // namespace dcdir::config

// The snapshot file (service/runtime/snapshot_file.h): its format, checksum and age checks, the
// atomic write, the saver's choice of what to write, and DirectoryState serving a saved state
// after a restart while the store is away (stale, frozen health, compliance from the config).

#include "service/runtime/snapshot_file.h"

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "service/core/topology.h"
#include "service/runtime/directory_state.h"
#include "tests/testing/example_world.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/flaky_store.h"
#include "tests/testing/poll.h"
#include "tests/testing/temp_dir.h"

namespace dcdir::runtime {
namespace {

using core::HealthStatus;

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

core::HealthRecord Record(HealthStatus status, double congestion, absl::Time at) {
  return {status, congestion, false, at, at + absl::Seconds(30)};
}

SavedState Sample() {
  SavedState saved;
  saved.written_at = kT0 + absl::Seconds(2);
  saved.health_time = kT0 + absl::Milliseconds(1500);
  saved.state.health["us-sjc"] = Record(HealthStatus::kHealthy, 0.25, kT0);
  saved.state.health["us-nyc"] = Record(HealthStatus::kDown, 0.1, kT0 + absl::Seconds(1));
  saved.state.health["odd|id%"] = Record(HealthStatus::kDraining, 0.5, kT0);
  saved.state.tenants.push_back({"acme", "eu", {"eu", "in"}, kT0});
  saved.state.tenants.push_back({"zeta", "us", {}, kT0 + absl::Seconds(3)});
  return saved;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void WriteAll(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

TEST(SnapshotFileTest, EncodesTheDocumentedFormatAndRoundTrips) {
  const SavedState saved = Sample();
  const std::string text = EncodeSavedState(saved);
  // Sorted DC ids, escaped, then tenants in the given order, then the checksum line.
  const std::string expected_body =
      "dcdir-snapshot 1\n"
      "written_at 1800000002000000\n"
      "health_time 1800000001500000\n"
      "h odd%7Cid%25|h1|2|0.5|0|1800000000000000|1800000030000000\n"
      "h us-nyc|h1|3|0.10000000000000001|0|1800000001000000|1800000031000000\n"
      "h us-sjc|h1|1|0.25|0|1800000000000000|1800000030000000\n"
      "t t1|acme|eu|eu,in|1800000000000000\n"
      "t t1|zeta|us||1800000003000000\n";
  ASSERT_EQ(text.substr(0, expected_body.size()), expected_body);
  EXPECT_EQ(text.size(), expected_body.size() + std::string("crc32 01234567\n").size());
  EXPECT_EQ(text.substr(expected_body.size(), 6), "crc32 ");
  absl::StatusOr<SavedState> decoded = DecodeSavedState(text);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->written_at, saved.written_at);
  EXPECT_EQ(decoded->health_time, saved.health_time);
  EXPECT_EQ(decoded->state.health, saved.state.health);
  EXPECT_EQ(decoded->state.tenants, saved.state.tenants);
  EXPECT_EQ(EncodeSavedState(*decoded), text);  // same state, same bytes
}

TEST(SnapshotFileTest, AFlippedByteIsDataLossATornFileIsRejected) {
  const std::string text = EncodeSavedState(Sample());
  std::string flipped = text;
  flipped[flipped.find("0.25")] = '9';  // still a valid record: only the checksum notices
  EXPECT_EQ(DecodeSavedState(flipped).status().code(), absl::StatusCode::kDataLoss);
  // Cut anywhere (a torn write without the rename): never accepted.
  for (size_t cut : {size_t{0}, size_t{10}, text.size() / 2, text.size() - 1}) {
    absl::Status status = DecodeSavedState(text.substr(0, cut)).status();
    EXPECT_FALSE(status.ok()) << "cut at " << cut;
  }
  const std::string v2 = absl::StrReplaceAll(text, {{"dcdir-snapshot 1", "dcdir-snapshot 2"}});
  EXPECT_FALSE(DecodeSavedState(v2).ok());
  EXPECT_EQ(DecodeSavedState("garbage\n").status().code(), absl::StatusCode::kInvalidArgument);
}

// A tenant id no store holds (core::IsValidTenantId) makes the whole file unreadable, like any
// other bad line; the checksum is right, so only the id check notices.
TEST(SnapshotFileTest, ATenantIdOutsideTheRuleIsABadLine) {
  for (const std::string id : {"a|b", "bad id!", "a:b"}) {
    SavedState saved = Sample();
    saved.state.tenants.push_back({id, "eu", {}, kT0});
    absl::StatusOr<SavedState> decoded = DecodeSavedState(EncodeSavedState(saved));
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument) << id;
    EXPECT_EQ(decoded.status().message(), "not a snapshot file: line 9: bad tenant policy") << id;
  }
}

TEST(SnapshotFileTest, WritesAtomicallyAndReadsBackWithinTheMaximumAge) {
  const std::string dir = testing::MakeTempDir();
  ASSERT_FALSE(dir.empty());
  const std::string path = dir + "/state";
  const SavedState saved = Sample();
  ASSERT_TRUE(WriteSavedState(path, saved).ok());
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  EXPECT_EQ(ReadAll(path), EncodeSavedState(saved));

  absl::StatusOr<SavedState> read =
      ReadSavedState(path, absl::Minutes(10), saved.written_at + absl::Minutes(10));
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(EncodeSavedState(*read), EncodeSavedState(saved));

  absl::Status old = ReadSavedState(path, absl::Minutes(10),
                                    saved.written_at + absl::Minutes(10) + absl::Seconds(1))
                         .status();
  EXPECT_EQ(old.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(old.message().find("too old"), std::string::npos) << old;

  absl::Status future =
      ReadSavedState(path, absl::Minutes(10), saved.written_at - absl::Minutes(2)).status();
  EXPECT_EQ(future.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(future.message().find("in the future"), std::string::npos) << future;

  absl::Status missing = ReadSavedState(dir + "/none", absl::Minutes(10), saved.written_at).status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);

  std::string corrupt = ReadAll(path);
  corrupt[corrupt.find("acme")] = 'A';
  WriteAll(path, corrupt);
  absl::Status bad = ReadSavedState(path, absl::Minutes(10), saved.written_at).status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(bad.message().find("corrupt"), std::string::npos) << bad;
}

std::shared_ptr<const core::Topology> Compile(const core::World& world) {
  auto topology = core::Topology::Compile(world);
  EXPECT_TRUE(topology.ok()) << topology.status();
  return *topology;
}

class SavedStateTest : public ::testing::Test {
 protected:
  // A replica that loaded: every DC healthy, us-sjc DOWN, tenant acme (eu + in).
  std::shared_ptr<const core::Snapshot> LoadedSnapshot() {
    testing::FlakyStore store;
    DirectoryState state(Compile(testing::ExampleWorld()), &store, &clock_);
    EXPECT_TRUE(state.Initialize().ok());
    for (const core::DataCenter& dc : testing::ExampleWorld().datacenters) {
      EXPECT_TRUE(state.ReportHealth(dc.id, dc.id == "us-sjc" ? HealthStatus::kDown
                                                               : HealthStatus::kHealthy,
                                     0.2, absl::Seconds(30))
                      .ok());
    }
    EXPECT_TRUE(state.SetTenant({"acme", "eu", {"eu", "in"}, absl::InfinitePast()}).ok());
    return state.Current();
  }

  testing::FakeClock clock_{kT0};
};

TEST_F(SavedStateTest, SavedStateOfAFreshSnapshotHoldsItsRecordsAndTenants) {
  const auto snapshot = LoadedSnapshot();
  const SavedState saved = SavedStateOf(*snapshot, kT0 + absl::Seconds(9));
  EXPECT_EQ(saved.written_at, kT0 + absl::Seconds(9));
  EXPECT_EQ(saved.health_time, snapshot->built_at);
  EXPECT_EQ(saved.state.health.size(), 21u);
  EXPECT_EQ(saved.state.health.at("us-sjc").status, HealthStatus::kDown);
  EXPECT_EQ(saved.state.health.at("eu-ams").status, HealthStatus::kHealthy);
  ASSERT_EQ(saved.state.tenants.size(), 1u);
  EXPECT_EQ(saved.state.tenants[0].tenant_id, "acme");
  EXPECT_EQ(saved.state.tenants[0].allowed_regions, (std::vector<std::string>{"eu", "in"}));
}

TEST_F(SavedStateTest, ARestartWhileTheStoreIsAwayServesTheSavedStateStaleAndFrozen) {
  const auto before = LoadedSnapshot();
  SavedState saved = SavedStateOf(*before, clock_.Now());
  saved.state.health["not-in-the-config"] = Record(HealthStatus::kHealthy, 0.1, kT0);
  absl::StatusOr<SavedState> file = DecodeSavedState(EncodeSavedState(saved));
  ASSERT_TRUE(file.ok()) << file.status();

  // The restarted replica runs a tighter config: eu-ams is gone from the topology.
  core::World tighter = testing::ExampleWorld();
  for (core::Region& region : tighter.regions) {
    std::erase(region.primaries, "eu-ams");
    std::erase(region.secondaries, "eu-ams");
  }
  std::erase_if(tighter.datacenters, [](const core::DataCenter& dc) { return dc.id == "eu-ams"; });
  const auto topology = Compile(tighter);
  testing::FlakyStore store;
  store.set_available(false);
  DirectoryState state(topology, &store, &clock_);
  EXPECT_EQ(state.Initialize().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(state.Current(), nullptr);

  ASSERT_TRUE(state.InitializeFromSaved(file->state, file->health_time).ok());
  auto served = state.Current();
  ASSERT_NE(served, nullptr);
  EXPECT_TRUE(served->stale);
  EXPECT_EQ(served->built_at, before->built_at);
  EXPECT_EQ(served->topology, topology);  // compliance from the config it runs with
  EXPECT_EQ(served->dcs.size(), 20u);
  EXPECT_FALSE(served->usable.Contains(topology->DcIndex("us-sjc")));  // DOWN in the file
  EXPECT_TRUE(served->usable.Contains(topology->DcIndex("eu-fra")));
  ASSERT_NE(served->tenants->Find("acme"), nullptr);
  EXPECT_EQ(state.InitializeFromSaved(file->state, file->health_time).code(),
            absl::StatusCode::kFailedPrecondition);

  // Frozen while the store is away: an hour later nothing has expired.
  clock_.Advance(absl::Hours(1));
  state.Refresh();
  EXPECT_EQ(state.Current(), served);
  EXPECT_TRUE(state.Current()->usable.Contains(topology->DcIndex("eu-fra")));

  // The store is back (it holds only a fresh us-sjc report): served from the store, fresh.
  store.set_available(true);
  ASSERT_TRUE(store.PutHealth("us-sjc", Record(HealthStatus::kHealthy, 0.3, clock_.MonotonicNow()))
                  .ok());
  state.Refresh();
  auto fresh = state.Current();
  EXPECT_FALSE(fresh->stale);
  EXPECT_TRUE(fresh->usable.Contains(topology->DcIndex("us-sjc")));
  EXPECT_FALSE(fresh->usable.Contains(topology->DcIndex("eu-fra")));  // never reported here
  EXPECT_EQ(fresh->tenants->Find("acme"), nullptr);
}

TEST_F(SavedStateTest, TheSaverWritesFreshSnapshotsThrottledAndNeverStaleOnes) {
  const std::string dir = testing::MakeTempDir();
  ASSERT_FALSE(dir.empty());
  const std::string path = dir + "/state";
  const auto fresh = LoadedSnapshot();
  auto stale = std::make_shared<core::Snapshot>(*fresh);
  stale->stale = true;
  stale->version += 1;

  {  // Only a stale snapshot: nothing is written, even on stop.
    SnapshotSaver saver(path, &clock_);
    saver.Start();
    saver.Offer(stale);
    saver.Stop();
    EXPECT_EQ(saver.writes(), 0u);
    EXPECT_FALSE(std::filesystem::exists(path));
  }
  // The fake clock does not move: after the first write, the next is held back by the
  // one-write-per-second throttle until Stop() flushes the newest.
  SnapshotSaver saver(path, &clock_);
  saver.Start();
  saver.Offer(fresh);
  ASSERT_TRUE(testing::PollUntil([&] { return saver.writes() == 1; }, absl::Seconds(10)));
  EXPECT_EQ(ReadAll(path), EncodeSavedState(SavedStateOf(*fresh, clock_.Now())));
  auto newer = std::make_shared<core::Snapshot>(*fresh);
  newer->version += 2;
  newer->built_at += absl::Seconds(5);
  saver.Offer(newer);
  saver.Offer(stale);  // the newest is stale: the fresh one before it stays written
  EXPECT_EQ(saver.writes(), 1u);
  saver.Offer(newer);
  saver.Stop();
  EXPECT_EQ(saver.writes(), 2u);
  absl::StatusOr<SavedState> read = ReadSavedState(path, absl::Minutes(1), clock_.Now());
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->health_time, newer->built_at);
}

}  // namespace
}  // namespace dcdir::runtime

// Unit tests of DirectoryState (service/runtime/directory_state.h) with a FakeClock and the
// in-memory store: change messages, periodic resync, stale mode and self-preservation. The
// maintenance thread is not started (the tests call Refresh() themselves), except in the
// concurrency test, which is also what ThreadSanitizer checks (label tsan).

#include "service/runtime/directory_state.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "service/core/topology.h"
#include "service/store/in_memory_store.h"
#include "tests/testing/example_world.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/flaky_store.h"

namespace dcdir::runtime {
namespace {

using core::HealthStatus;

std::shared_ptr<const core::Topology> Example() {
  auto topology = core::Topology::Compile(testing::ExampleWorld());
  EXPECT_TRUE(topology.ok()) << topology.status();
  return *topology;
}

std::vector<std::string> AllIds() {
  std::vector<std::string> ids;
  for (const core::DataCenter& dc : testing::ExampleWorld().datacenters) ids.push_back(dc.id);
  return ids;
}

// An in-memory store whose change messages can be lost (to prove the periodic resync repairs
// it), which counts the reads made through it, and which can run a hook in the middle of a
// health read (after the value was read, before it is returned).
class LossyStore final : public store::Store {
 public:
  store::InMemoryStore& inner() { return inner_; }
  void set_drop_changes(bool drop) { drop_ = drop; }
  void set_read_hook(std::function<void()> hook) { read_hook_ = std::move(hook); }

  int load_all_calls() const { return load_all_calls_; }
  int health_reads() const { return health_reads_; }
  // Every tenant id read by GetTenant / GetTenants, in order.
  const std::vector<std::string>& tenants_read() const { return tenants_read_; }
  void ResetCounts() {
    load_all_calls_ = 0;
    health_reads_ = 0;
    tenants_read_.clear();
  }

  absl::StatusOr<store::StoreState> LoadAll() override {
    ++load_all_calls_;
    return inner_.LoadAll();
  }
  absl::StatusOr<core::HealthMap> LoadHealth() override { return inner_.LoadHealth(); }
  absl::StatusOr<std::optional<store::TenantChanges>> TenantChangesSince(
      const store::TenantLogPosition& since) override {
    return inner_.TenantChangesSince(since);
  }
  absl::StatusOr<std::vector<store::TenantRead>> GetTenants(
      const std::vector<std::string>& ids) override {
    tenants_read_.insert(tenants_read_.end(), ids.begin(), ids.end());
    return inner_.GetTenants(ids);
  }
  absl::StatusOr<std::optional<core::HealthRecord>> GetHealth(std::string_view id) override {
    ++health_reads_;
    auto record = inner_.GetHealth(id);
    if (read_hook_) std::exchange(read_hook_, nullptr)();
    return record;
  }
  absl::Status PutHealth(std::string_view id, const core::HealthRecord& r) override {
    return inner_.PutHealth(id, r);
  }
  absl::StatusOr<std::optional<core::TenantPolicy>> GetTenant(std::string_view id) override {
    tenants_read_.emplace_back(id);
    return inner_.GetTenant(id);
  }
  absl::Status PutTenant(const core::TenantPolicy& p) override { return inner_.PutTenant(p); }
  absl::StatusOr<bool> DeleteTenant(std::string_view id) override {
    return inner_.DeleteTenant(id);
  }
  void SetChangeListener(std::function<void(const store::Change&)> listener) override {
    inner_.SetChangeListener([this, listener](const store::Change& c) {
      if (!drop_) listener(c);
    });
  }
  bool Available() const override { return true; }

 private:
  store::InMemoryStore inner_;
  std::atomic<bool> drop_{false};
  std::function<void()> read_hook_;
  int load_all_calls_ = 0;
  int health_reads_ = 0;
  std::vector<std::string> tenants_read_;
};

class DirectoryStateTest : public ::testing::Test {
 protected:
  void Make(store::Store* store, DirectoryStateOptions options = {}) {
    state_ = std::make_unique<DirectoryState>(Example(), store, &clock_, options);
    ASSERT_TRUE(state_->Initialize().ok());
  }
  void ReportAll(HealthStatus status, int count = 21,
                 absl::Duration ttl = absl::Seconds(30)) {
    const auto ids = AllIds();
    for (int i = 0; i < count; ++i) {
      ASSERT_TRUE(state_->ReportHealth(ids[i], status, 0.1, ttl).ok()) << ids[i];
    }
  }
  int UsableCount() const { return static_cast<int>(Usable().size()); }
  std::vector<std::string> Usable() const {
    std::vector<std::string> out;
    auto s = state_->Current();
    for (uint32_t i = 0; i < s->dcs.size(); ++i) {
      if (s->usable.Contains(i)) out.push_back(s->topology->dc(i).id);
    }
    return out;
  }
  HealthStatus StatusOf(const std::string& id) const {
    auto s = state_->Current();
    return s->dcs[s->topology->DcIndex(id)].status;
  }

  testing::FakeClock clock_;
  std::unique_ptr<DirectoryState> state_;
};

TEST_F(DirectoryStateTest, MassExpiryKeepsLastKnownHealthUntilReportsComeBack) {
  store::InMemoryStore store;
  Make(&store);
  ReportAll(HealthStatus::kHealthy);
  ASSERT_TRUE(state_->ReportHealth("us-sjc", HealthStatus::kDown, 0.1, absl::Seconds(30)).ok());
  EXPECT_FALSE(state_->self_preservation_active());
  clock_.Advance(absl::Seconds(31));  // every report expired 1 s ago
  state_->Refresh();
  EXPECT_TRUE(state_->self_preservation_active());
  EXPECT_EQ(state_->self_preservation().expired, 21);
  EXPECT_EQ(UsableCount(), 20);  // all but us-sjc, which stays DOWN
  EXPECT_EQ(StatusOf("us-sjc"), HealthStatus::kDown);
  EXPECT_EQ(StatusOf("us-nyc"), HealthStatus::kHealthy);

  // Long after the window the episode goes on.
  clock_.Advance(absl::Minutes(2));
  state_->Refresh();
  EXPECT_TRUE(state_->self_preservation_active());
  EXPECT_EQ(UsableCount(), 20);

  // Reports come back: 10 of 21 is not enough, 11 is.
  ReportAll(HealthStatus::kHealthy, 10);
  EXPECT_TRUE(state_->self_preservation_active());
  EXPECT_EQ(UsableCount(), 21);  // us-sjc is among the 10 renewed, now HEALTHY
  const auto ids = AllIds();
  ASSERT_TRUE(state_->ReportHealth(ids[10], HealthStatus::kHealthy, 0.1, absl::Seconds(30)).ok());
  EXPECT_FALSE(state_->self_preservation_active());
  EXPECT_EQ(UsableCount(), 11);
  EXPECT_EQ(StatusOf(ids[20]), HealthStatus::kUnknown);
  state_->Refresh();
  EXPECT_FALSE(state_->self_preservation_active());
}

TEST_F(DirectoryStateTest, MinorityExpiryIsRealExpiry) {
  store::InMemoryStore store;
  Make(&store);
  ReportAll(HealthStatus::kHealthy);
  clock_.Advance(absl::Seconds(20));
  ReportAll(HealthStatus::kHealthy, 11);
  clock_.Advance(absl::Seconds(11));  // the other 10 expired 1 s ago
  state_->Refresh();
  EXPECT_FALSE(state_->self_preservation_active());
  EXPECT_EQ(state_->self_preservation().expired, 10);
  EXPECT_EQ(UsableCount(), 11);
  EXPECT_EQ(StatusOf(AllIds()[20]), HealthStatus::kUnknown);
}

TEST_F(DirectoryStateTest, SelfPreservationCanBeTurnedOff) {
  store::InMemoryStore store;
  Make(&store, {.self_preservation = false});
  ReportAll(HealthStatus::kHealthy);
  clock_.Advance(absl::Seconds(31));
  state_->Refresh();
  EXPECT_FALSE(state_->self_preservation_active());
  EXPECT_EQ(UsableCount(), 0);
}

TEST_F(DirectoryStateTest, HealthThatExpiredWhileTheStoreWasAwayIsJudgedByRealExpiry) {
  testing::FlakyStore store;
  Make(&store);
  ReportAll(HealthStatus::kHealthy, 21);
  // One DC reported with a long TTL: still alive when the store comes back.
  ASSERT_TRUE(state_->ReportHealth("eu-ams", HealthStatus::kHealthy, 0.1, absl::Minutes(10)).ok());
  store.set_available(false);
  state_->Refresh();
  EXPECT_TRUE(state_->Current()->stale);
  clock_.Advance(absl::Minutes(5));
  state_->Refresh();
  // Frozen while away: nobody can renew.
  EXPECT_TRUE(state_->Current()->stale);
  EXPECT_EQ(UsableCount(), 21);
  EXPECT_FALSE(state_->self_preservation_active());
  store.set_available(true);
  state_->Refresh();
  EXPECT_FALSE(state_->Current()->stale);
  // Expired 4.5 min ago: judged by real expiry (no burst within the window was seen).
  EXPECT_FALSE(state_->self_preservation_active());
  EXPECT_EQ(Usable(), std::vector<std::string>{"eu-ams"});
  EXPECT_EQ(StatusOf("us-nyc"), HealthStatus::kUnknown);
}

TEST_F(DirectoryStateTest, MassExpiryDuringAShortOutageStartsSelfPreservationOnReturn) {
  testing::FlakyStore store;
  Make(&store);
  ReportAll(HealthStatus::kHealthy);
  clock_.Advance(absl::Seconds(28));
  store.set_available(false);
  state_->Refresh();
  clock_.Advance(absl::Seconds(4));  // everything expired 2 s ago, while away
  state_->Refresh();
  EXPECT_FALSE(state_->self_preservation_active());
  EXPECT_EQ(UsableCount(), 21);
  store.set_available(true);
  state_->Refresh();
  EXPECT_FALSE(state_->Current()->stale);
  EXPECT_TRUE(state_->self_preservation_active());
  EXPECT_EQ(UsableCount(), 21);
}

TEST_F(DirectoryStateTest, StoreLossFreezesAnActiveEpisode) {
  testing::FlakyStore store;
  Make(&store);
  ReportAll(HealthStatus::kHealthy);
  clock_.Advance(absl::Seconds(31));
  state_->Refresh();
  ASSERT_TRUE(state_->self_preservation_active());
  store.set_available(false);
  clock_.Advance(absl::Minutes(3));
  state_->Refresh();
  EXPECT_TRUE(state_->Current()->stale);
  EXPECT_TRUE(state_->self_preservation_active());
  EXPECT_EQ(UsableCount(), 21);
  EXPECT_EQ(state_->ReportHealth("us-nyc", HealthStatus::kHealthy, 0.1, absl::Seconds(30))
                .status()
                .code(),
            absl::StatusCode::kUnavailable);
}

TEST_F(DirectoryStateTest, ChangeMessageIsAppliedOnTheNextRefresh) {
  store::InMemoryStore store;
  Make(&store);
  // Another replica writes straight into the shared store.
  core::HealthRecord r;
  r.status = HealthStatus::kHealthy;
  r.reported_at = clock_.Now();
  r.expires_at = clock_.Now() + absl::Seconds(30);
  const uint64_t version = state_->Current()->version;
  ASSERT_TRUE(store.PutHealth("jp-tyo", r).ok());
  EXPECT_EQ(StatusOf("jp-tyo"), HealthStatus::kUnknown);  // not yet
  state_->Refresh();
  EXPECT_EQ(StatusOf("jp-tyo"), HealthStatus::kHealthy);
  EXPECT_EQ(state_->Current()->version, version + 1);
  // A tenant policy too.
  ASSERT_TRUE(store.PutTenant({"acme", "us", {"ca"}, clock_.Now()}).ok());
  state_->Refresh();
  ASSERT_TRUE(state_->GetTenant("acme").ok());
  EXPECT_EQ(state_->GetTenant("acme")->allowed_regions, std::vector<std::string>{"ca"});
  ASSERT_TRUE(*store.DeleteTenant("acme"));
  state_->Refresh();
  EXPECT_EQ(state_->GetTenant("acme").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(DirectoryStateTest, PeriodicResyncRepairsALostChangeMessage) {
  LossyStore store;
  Make(&store, {.resync_interval = absl::Seconds(5)});
  store.set_drop_changes(true);
  core::HealthRecord r;
  r.status = HealthStatus::kHealthy;
  r.reported_at = clock_.Now();
  r.expires_at = clock_.Now() + absl::Minutes(1);
  ASSERT_TRUE(store.inner().PutHealth("au-syd", r).ok());
  clock_.Advance(absl::Seconds(4));
  state_->Refresh();
  EXPECT_EQ(StatusOf("au-syd"), HealthStatus::kUnknown);  // the message was lost
  clock_.Advance(absl::Seconds(1));
  state_->Refresh();  // resync due
  EXPECT_EQ(StatusOf("au-syd"), HealthStatus::kHealthy);
}

TEST_F(DirectoryStateTest, OwnWritesAreVisibleAtOnce) {
  store::InMemoryStore store;
  Make(&store);
  ASSERT_TRUE(state_->ReportHealth("in-bom", HealthStatus::kHealthy, 0.2, absl::Seconds(30)).ok());
  EXPECT_EQ(StatusOf("in-bom"), HealthStatus::kHealthy);
  ASSERT_TRUE(state_->SetTenant({"globex", "jp", {}, absl::InfinitePast()}).ok());
  EXPECT_TRUE(state_->GetTenant("globex").ok());
}

// Writers, readers, the store's change messages and the maintenance thread all at once: every
// reader sees versions only grow, listeners hear every publish in order, and the final snapshot
// holds each DC's last report.
TEST_F(DirectoryStateTest, ConcurrentReportsReadersAndMaintenanceThreadAgree) {
  store::InMemoryStore store;
  DirectoryStateOptions options;
  options.tick = absl::Milliseconds(1);
  Make(&store, options);
  std::mutex published_mu;
  std::vector<uint64_t> published;
  state_->AddSnapshotListener([&](const std::shared_ptr<const core::Snapshot>& s) {
    std::lock_guard<std::mutex> lock(published_mu);
    published.push_back(s->version);
  });
  state_->Start();

  const std::vector<std::string> ids = AllIds();
  constexpr int kWriters = 3, kRounds = 60;
  std::atomic<bool> readers_stop{false};
  std::atomic<int> reader_errors{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      uint64_t last = 0;
      while (!readers_stop.load()) {
        auto s = state_->Current();
        if (s == nullptr || s->version < last || s->dcs.size() != ids.size()) ++reader_errors;
        if (s != nullptr) last = s->version;
      }
    });
  }
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int round = 0; round < kRounds; ++round) {
        for (size_t i = w; i < ids.size(); i += kWriters) {
          // Last round: even DCs end HEALTHY, odd ones DOWN.
          const bool healthy = round + 1 < kRounds ? round % 2 == 0 : i % 2 == 0;
          EXPECT_TRUE(state_->ReportHealth(ids[i],
                                           healthy ? HealthStatus::kHealthy : HealthStatus::kDown,
                                           0.1, absl::Seconds(30))
                          .ok());
        }
      }
    });
  }
  for (std::thread& t : writers) t.join();
  readers_stop = true;
  for (std::thread& t : readers) t.join();
  state_->Stop();
  state_->Refresh();

  EXPECT_EQ(reader_errors.load(), 0);
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(StatusOf(ids[i]), i % 2 == 0 ? HealthStatus::kHealthy : HealthStatus::kDown)
        << ids[i];
  }
  std::lock_guard<std::mutex> lock(published_mu);
  ASSERT_GE(published.size(), ids.size() * kRounds);  // every report publishes
  for (size_t i = 1; i < published.size(); ++i) {
    ASSERT_LT(published[i - 1], published[i]) << "publish " << i;
  }
  EXPECT_EQ(published.back(), state_->Current()->version);
}

TEST_F(DirectoryStateTest, OwnWritesAreNotReadBack) {
  LossyStore store;
  Make(&store);
  store.ResetCounts();
  ASSERT_TRUE(state_->ReportHealth("us-nyc", HealthStatus::kHealthy, 0.1, absl::Seconds(30)).ok());
  ASSERT_TRUE(state_->ReportHealth("us-nyc", HealthStatus::kDown, 0.1, absl::Seconds(30)).ok());
  ASSERT_TRUE(state_->SetTenant({"acme", "us", {"ca"}, absl::InfinitePast()}).ok());
  ASSERT_TRUE(state_->DeleteTenant("acme").ok());
  EXPECT_EQ(state_->DeleteTenant("acme").code(), absl::StatusCode::kNotFound);
  state_->Refresh();
  // Every change message was this replica's own echo: nothing is read back.
  EXPECT_EQ(store.health_reads(), 0);
  EXPECT_TRUE(store.tenants_read().empty());
  EXPECT_EQ(StatusOf("us-nyc"), HealthStatus::kDown);

  // Another replica's write is read, once.
  core::HealthRecord r;
  r.status = HealthStatus::kHealthy;
  r.reported_at = clock_.Now();
  r.expires_at = clock_.Now() + absl::Seconds(30);
  ASSERT_TRUE(store.inner().PutHealth("us-nyc", r).ok());
  state_->Refresh();
  EXPECT_EQ(store.health_reads(), 1);
  EXPECT_EQ(StatusOf("us-nyc"), HealthStatus::kHealthy);
}

// A store read that began before a local write of the same key and returns after it must not
// put the older value back.
TEST_F(DirectoryStateTest, AReadOverlappingALocalWriteKeepsTheLocalValue) {
  LossyStore store;
  Make(&store);
  core::HealthRecord down;
  down.status = HealthStatus::kDown;
  down.reported_at = clock_.Now();
  down.expires_at = clock_.Now() + absl::Seconds(30);
  ASSERT_TRUE(store.inner().PutHealth("us-nyc", down).ok());  // another replica: DOWN
  // While the maintenance pass reads that DOWN record, this replica accepts a HEALTHY report
  // (the state lock is free during the read, so the report does not wait for it).
  store.set_read_hook([this] {
    ASSERT_TRUE(
        state_->ReportHealth("us-nyc", HealthStatus::kHealthy, 0.1, absl::Seconds(30)).ok());
  });
  state_->Refresh();
  EXPECT_EQ(store.health_reads(), 1);
  EXPECT_EQ(StatusOf("us-nyc"), HealthStatus::kHealthy);
  state_->Refresh();
  EXPECT_EQ(StatusOf("us-nyc"), HealthStatus::kHealthy);
}

// Listeners run after the state lock is released: one that calls back into the state (which
// takes the lock) must not deadlock, whoever publishes.
TEST_F(DirectoryStateTest, ListenersRunOutsideTheStateLock) {
  LossyStore store;
  Make(&store);
  std::vector<uint64_t> heard;
  state_->AddSnapshotListener([&](const std::shared_ptr<const core::Snapshot>& s) {
    EXPECT_EQ(state_->topology(), s->topology);  // takes the state lock
    EXPECT_FALSE(state_->self_preservation().active);
    heard.push_back(s->version);
  });
  ASSERT_TRUE(state_->ReportHealth("us-nyc", HealthStatus::kHealthy, 0.1, absl::Seconds(30)).ok());
  ASSERT_TRUE(state_->SetTenant({"acme", "us", {"ca"}, absl::InfinitePast()}).ok());
  state_->ReplaceTopology(Example());
  clock_.Advance(absl::Seconds(31));  // expiry: published by the maintenance pass
  state_->Refresh();
  ASSERT_EQ(heard.size(), 4u);
  for (size_t i = 1; i < heard.size(); ++i) EXPECT_EQ(heard[i], heard[i - 1] + 1);
}

// The frequent resync reads only the tenants the store's log lists as changed; every policy is
// read only at start and by the (rarer) full resync.
TEST_F(DirectoryStateTest, TenantResyncReadsOnlyWhatChanged) {
  LossyStore store;
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(store.inner().PutTenant({absl::StrCat("t", i), "us", {"ca"}, clock_.Now()}).ok());
  }
  Make(&store, {.resync_interval = absl::Seconds(5), .full_resync_interval = absl::Seconds(60)});
  EXPECT_EQ(store.load_all_calls(), 1);
  ASSERT_EQ(state_->Current()->tenants->size(), 1000u);
  const std::shared_ptr<const core::TenantTable> before = state_->Current()->tenants;

  store.set_drop_changes(true);  // the messages are lost: only the resync can tell
  ASSERT_TRUE(store.inner().PutTenant({"t7", "jp", {}, clock_.Now()}).ok());
  ASSERT_TRUE(store.inner().PutTenant({"new", "eu", {}, clock_.Now()}).ok());
  ASSERT_TRUE(*store.inner().DeleteTenant("t9"));
  store.ResetCounts();
  clock_.Advance(absl::Seconds(5));
  state_->Refresh();
  EXPECT_EQ(store.load_all_calls(), 0);
  std::vector<std::string> read = store.tenants_read();
  std::sort(read.begin(), read.end());
  EXPECT_EQ(read, (std::vector<std::string>{"new", "t7", "t9"}));
  const auto& tenants = *state_->Current()->tenants;
  EXPECT_EQ(tenants.size(), 1000u);
  EXPECT_EQ(tenants.Find("t7")->policy.home_region, "jp");
  EXPECT_NE(tenants.Find("new"), nullptr);
  EXPECT_EQ(tenants.Find("t9"), nullptr);
  EXPECT_EQ(tenants.Find("t500"), before->Find("t500"));  // untouched tenants are shared

  // Nothing changed: the next resync reads no tenant at all.
  store.ResetCounts();
  clock_.Advance(absl::Seconds(5));
  state_->Refresh();
  EXPECT_TRUE(store.tenants_read().empty());
  EXPECT_EQ(store.load_all_calls(), 0);

  // The full resync reads everything, and finds nothing new.
  const uint64_t version = state_->Current()->version;
  clock_.Advance(absl::Seconds(60));
  state_->Refresh();
  EXPECT_EQ(store.load_all_calls(), 1);
  EXPECT_EQ(state_->Current()->tenants->size(), 1000u);
  EXPECT_EQ(state_->Current()->version, version);  // nothing to publish
}

TEST_F(DirectoryStateTest, OrphanedTenantCountFollowsEachChange) {
  LossyStore store;
  Make(&store);
  auto orphaned = [&] { return state_->Current()->orphaned_tenants; };
  EXPECT_EQ(orphaned(), 0u);
  ASSERT_TRUE(state_->SetTenant({"a", "us", {"mars"}, absl::InfinitePast()}).ok());
  EXPECT_EQ(orphaned(), 1u);
  ASSERT_TRUE(state_->SetTenant({"b", "atlantis", {}, absl::InfinitePast()}).ok());
  EXPECT_EQ(orphaned(), 2u);
  ASSERT_TRUE(state_->SetTenant({"a", "us", {"ca"}, absl::InfinitePast()}).ok());
  EXPECT_EQ(orphaned(), 1u);
  // From another replica, through the store's change message.
  ASSERT_TRUE(store.inner().PutTenant({"c", "us", {"pluto"}, clock_.Now()}).ok());
  state_->Refresh();
  EXPECT_EQ(orphaned(), 2u);
  ASSERT_TRUE(state_->DeleteTenant("b").ok());
  EXPECT_EQ(orphaned(), 1u);
  ASSERT_TRUE(*store.inner().DeleteTenant("c"));
  state_->Refresh();
  EXPECT_EQ(orphaned(), 0u);
  EXPECT_EQ(state_->Current()->tenants->size(), 1u);
}

}  // namespace
}  // namespace dcdir::runtime

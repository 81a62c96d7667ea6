#include "service/core/snapshot.h"

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/core/health.h"
#include "service/core/ranking.h"
#include "tests/core/core_test_util.h"
#include "tests/testing/example_world.h"
#include "tests/testing/fake_clock.h"

namespace dcdir::core {
namespace {

class SnapshotTest : public ::testing::Test {
 protected:
  std::shared_ptr<const Topology> topo_ = MustCompile(testing::ExampleWorld());
  uint32_t Dc(const char* id) const { return topo_->DcIndex(id); }
};

TEST_F(SnapshotTest, BuildsPerDcState) {
  HealthMap health;
  health["us-sjc"] = Record(HealthStatus::kHealthy, 0.2, false, kT0, absl::Seconds(30));
  health["us-den"] = Record(HealthStatus::kHealthy, 0.9, true, kT0, absl::Seconds(30));
  health["us-nyc"] = Record(HealthStatus::kDown, 0.0, false, kT0, absl::Seconds(5));
  health["us-iad"] = Record(HealthStatus::kHealthy, 0.1, false, kT0 - absl::Seconds(60));
  health["xx-unknown"] = Record(HealthStatus::kHealthy);  // ignored
  auto s = BuildSnapshot(topo_, health, nullptr, 7, kT0 + absl::Seconds(1), true);
  EXPECT_EQ(s->version, 7u);
  EXPECT_TRUE(s->stale);
  EXPECT_EQ(s->built_at, kT0 + absl::Seconds(1));
  ASSERT_EQ(s->dcs.size(), 21u);
  const DcState& sjc = s->dcs[Dc("us-sjc")];
  EXPECT_EQ(sjc.status, HealthStatus::kHealthy);
  EXPECT_TRUE(sjc.usable);
  EXPECT_FALSE(sjc.congested);
  EXPECT_DOUBLE_EQ(sjc.weight, 400000 * 0.8);
  EXPECT_EQ(topo_->dc_id_hash(Dc("us-sjc")), StableHash64("us-sjc"));
  EXPECT_EQ(sjc.record, health["us-sjc"]);
  EXPECT_TRUE(s->dcs[Dc("us-den")].congested);
  EXPECT_TRUE(s->dcs[Dc("us-den")].usable);
  EXPECT_EQ(s->dcs[Dc("us-nyc")].status, HealthStatus::kDown);
  EXPECT_FALSE(s->dcs[Dc("us-nyc")].usable);
  EXPECT_EQ(s->dcs[Dc("us-iad")].status, HealthStatus::kUnknown);  // expired
  EXPECT_EQ(s->dcs[Dc("ca-yyz")].status, HealthStatus::kUnknown);  // never reported
  EXPECT_TRUE(s->usable.Contains(Dc("us-sjc")));
  EXPECT_TRUE(s->usable.Contains(Dc("us-den")));
  EXPECT_FALSE(s->usable.Contains(Dc("us-nyc")));
  EXPECT_FALSE(s->usable.Contains(Dc("us-iad")));
  // The DOWN DC expires earlier (kT0+5s) but only usable DCs count.
  EXPECT_EQ(s->next_expiry, kT0 + absl::Seconds(30));
  ASSERT_NE(s->tenants, nullptr);
  EXPECT_TRUE(s->tenants->empty());
}

TEST_F(SnapshotTest, TtlWithFakeClock) {
  testing::FakeClock clock(kT0);
  const Thresholds t;
  HealthMap health;
  health["jp-tyo"] = AcceptReport(std::nullopt, HealthStatus::kHealthy, 0.1, absl::Seconds(10),
                                  clock.Now(), t);
  health["jp-osa"] = AcceptReport(std::nullopt, HealthStatus::kHealthy, 0.1,
                                  absl::ZeroDuration(), clock.Now(), t);
  auto s1 = BuildSnapshot(topo_, health, nullptr, 1, clock.Now(), false);
  EXPECT_TRUE(s1->dcs[Dc("jp-tyo")].usable);
  EXPECT_EQ(s1->next_expiry, kT0 + absl::Seconds(10));
  clock.Advance(absl::Seconds(10));
  auto s2 = BuildSnapshot(topo_, health, nullptr, 2, clock.Now(), false);
  EXPECT_EQ(s2->dcs[Dc("jp-tyo")].status, HealthStatus::kUnknown);
  EXPECT_FALSE(s2->dcs[Dc("jp-tyo")].usable);
  EXPECT_TRUE(s2->dcs[Dc("jp-osa")].usable);
  EXPECT_EQ(s2->next_expiry, kT0 + absl::Seconds(30));
  clock.Advance(absl::Seconds(20));
  auto s3 = BuildSnapshot(topo_, health, nullptr, 3, clock.Now(), false);
  EXPECT_TRUE(s3->usable.Empty());
  EXPECT_EQ(s3->next_expiry, absl::InfiniteFuture());
}

TEST_F(SnapshotTest, CompileTenants) {
  std::vector<TenantPolicy> tenants = testing::ExampleTenants();
  tenants.push_back({"lost", "atlantis", {"us"}});         // unknown home: nothing
  tenants.push_back({"partial", "jp", {"mars", "au"}});    // unknown region dropped
  tenants.push_back({"home-only", "ca", {}});             // home never opted out
  auto map = CompileTenants(*topo_, tenants);
  ASSERT_EQ(map->size(), 6u);
  auto allowed_regions = [&](const char* tenant) {
    std::vector<std::string> out;
    const DcSet& s = map->Find(tenant)->allowed;
    for (uint32_t i = 0; i < topo_->dc_count(); ++i) {
      if (s.Contains(i)) out.push_back(topo_->dc(i).id);
    }
    return out;
  };
  using ::testing::ElementsAre;
  EXPECT_THAT(allowed_regions("acme"),
              ElementsAre("us-sjc", "us-den", "us-nyc", "us-iad", "ca-yyz", "ca-yvr"));
  EXPECT_THAT(allowed_regions("globex"), ElementsAre("jp-tyo", "jp-osa"));
  EXPECT_TRUE(allowed_regions("lost").empty());
  EXPECT_THAT(allowed_regions("partial"), ElementsAre("jp-tyo", "jp-osa", "au-syd", "au-mel"));
  EXPECT_THAT(allowed_regions("home-only"), ElementsAre("ca-yyz", "ca-yvr"));
  EXPECT_EQ(map->Find("partial")->policy.allowed_regions,
            (std::vector<std::string>{"mars", "au"}));  // policy kept as given
  EXPECT_EQ(map->orphaned(), 2u);  // lost, partial
}

TEST(SnapshotHolderTest, PublishGetGeneration) {
  SnapshotHolder holder;
  EXPECT_EQ(holder.Get(), nullptr);
  EXPECT_EQ(holder.generation(), 0u);
  auto a = std::make_shared<Snapshot>();
  a->version = 10;
  holder.Publish(a);
  EXPECT_EQ(holder.generation(), 1u);
  EXPECT_EQ(holder.Get(), a);
  EXPECT_EQ(holder.Get(), a);  // cached path
  auto b = std::make_shared<Snapshot>();
  b->version = 10;  // same version: still a new publication
  holder.Publish(b);
  EXPECT_EQ(holder.generation(), 2u);
  EXPECT_EQ(holder.Get(), b);
  holder.Publish(nullptr);
  EXPECT_EQ(holder.Get(), nullptr);
  EXPECT_EQ(holder.generation(), 3u);
}

TEST(SnapshotHolderTest, TwoHoldersInOneThreadDoNotMix) {
  SnapshotHolder h1, h2;
  auto a = std::make_shared<Snapshot>();
  auto b = std::make_shared<Snapshot>();
  h1.Publish(a);
  h2.Publish(b);  // both at generation 1
  EXPECT_EQ(h1.Get(), a);
  EXPECT_EQ(h2.Get(), b);
  EXPECT_EQ(h1.Get(), a);
  {
    SnapshotHolder h3;  // a new holder never sees another holder's cache
    EXPECT_EQ(h3.Get(), nullptr);
  }
}

// Readers in threads always see a whole, published snapshot, and never go back in time.
TEST(SnapshotHolderTest, ConcurrentReadersSeeConsistentSnapshots) {
  SnapshotHolder holder;
  auto make = [](uint64_t v) {
    auto s = std::make_shared<Snapshot>();
    s->version = v;
    s->built_at = absl::FromUnixSeconds(static_cast<int64_t>(v));
    s->dcs.resize(v % 7 + 1);
    s->dcs.back().weight = static_cast<double>(v);
    return s;
  };
  holder.Publish(make(1));
  constexpr uint64_t kLast = 2000;
  std::atomic<bool> failed{false};
  std::atomic<uint64_t> reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 4; ++r) {
    readers.emplace_back([&] {
      uint64_t last = 0;
      while (true) {
        std::shared_ptr<const Snapshot> s = holder.Get();
        reads.fetch_add(1, std::memory_order_relaxed);
        if (s == nullptr || s->version < last ||
            s->built_at != absl::FromUnixSeconds(static_cast<int64_t>(s->version)) ||
            s->dcs.size() != s->version % 7 + 1 ||
            s->dcs.back().weight != static_cast<double>(s->version)) {
          failed = true;
          return;
        }
        last = s->version;
        if (last == kLast) return;
      }
    });
  }
  for (uint64_t v = 2; v <= kLast; ++v) holder.Publish(make(v));
  for (auto& t : readers) t.join();
  EXPECT_FALSE(failed.load());
  EXPECT_EQ(holder.generation(), kLast);
  EXPECT_EQ(holder.Get()->version, kLast);
  EXPECT_GE(reads.load(), 4u);
}

}  // namespace
}  // namespace dcdir::core

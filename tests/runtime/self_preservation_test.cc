// Unit tests of the self-preservation rule (service/core/self_preservation.h): pure functions
// over a health map and a time, no clock, no store. The boundaries the rule is fenced by: the
// minimum number of reporting DCs (9 vs 10), exactly half, the spread over regions (a whole
// region dying with its agents), the maximum episode duration, and the config switch.

#include "service/core/self_preservation.h"

#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "service/core/answer.h"
#include "service/core/topology.h"
#include "tests/testing/example_world.h"
#include "tests/testing/synthetic_world.h"

namespace dcdir::core {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);
const absl::Duration kWindow = absl::Seconds(5);
const absl::Duration kTtl = absl::Seconds(30);

std::shared_ptr<const Topology> Example() {
  static const auto* topology = new std::shared_ptr<const Topology>(
      *Topology::Compile(testing::ExampleWorld()));
  return *topology;
}

std::vector<std::string> AllIds() {
  std::vector<std::string> ids;
  for (const DataCenter& dc : Example()->world().datacenters) ids.push_back(dc.id);
  return ids;
}

HealthRecord Rec(HealthStatus status, absl::Time reported, absl::Duration ttl = kTtl) {
  HealthRecord r;
  r.status = status;
  r.congestion = 0.1;
  r.reported_at = reported;
  r.expires_at = reported + ttl;
  return r;
}

// Every DC of the example world (21) reported HEALTHY at kT0 (expires at kT0 + 30 s).
HealthMap AllHealthyAtT0() {
  HealthMap h;
  for (const std::string& id : AllIds()) h[id] = Rec(HealthStatus::kHealthy, kT0);
  return h;
}

// Renews the first `n` DCs (in topology order) at `at`.
void Renew(HealthMap& h, int n, absl::Time at) {
  const auto ids = AllIds();
  for (int i = 0; i < n; ++i) h[ids[i]] = Rec(HealthStatus::kHealthy, at);
}

SelfPreservation Decide(const HealthMap& h, absl::Time now, const SelfPreservation& prev = {}) {
  return DecideSelfPreservation(*Example(), h, prev, now);
}

std::shared_ptr<const Topology> Compile(World world) {
  auto t = Topology::Compile(std::move(world));
  EXPECT_TRUE(t.ok()) << t.status();
  return *t;
}

TEST(SelfPreservationTest, ExampleWorldUsesTheDocumentedDefaults) {
  const SelfPreservationConfig& c = Example()->world().self_preservation;
  EXPECT_TRUE(c.enabled);
  EXPECT_EQ(c.min_reporting_dcs, 10u);
  EXPECT_EQ(c.expired_share, 0.5);
  EXPECT_EQ(c.window, kWindow);
  EXPECT_EQ(c.max_duration, absl::Minutes(5));
}

TEST(SelfPreservationTest, InactiveWhileReportsAreAlive) {
  const SelfPreservation d = Decide(AllHealthyAtT0(), kT0 + absl::Seconds(29));
  EXPECT_FALSE(d.active);
  EXPECT_EQ(d.alive, 21);
  EXPECT_EQ(d.expired, 0);
  EXPECT_EQ(d.window_start, absl::InfinitePast());
}

TEST(SelfPreservationTest, MassExpiryWithinOneWindowActivates) {
  const absl::Time now = kT0 + absl::Seconds(31);
  const SelfPreservation d = Decide(AllHealthyAtT0(), now);
  EXPECT_TRUE(d.active);
  EXPECT_EQ(d.counted, 21);
  EXPECT_EQ(d.alive, 0);
  EXPECT_EQ(d.expired, 21);
  EXPECT_EQ(d.regions, 10);
  EXPECT_EQ(d.spread, 10);
  EXPECT_EQ(d.window_start, now - kWindow);
  EXPECT_EQ(d.episode_start, now);
}

// 3 regions of 4 DCs (12 DCs): the same mass expiry with 9 and with 10 reporting DCs.
TEST(SelfPreservationTest, NeverEngagesBelowTheMinimumOfReportingDcs) {
  const auto topology = Compile(testing::SyntheticWorld(3, 4));
  auto decide = [&](int reporting) {
    HealthMap h;
    // Spread over the regions: DC d of region r for r in 0..2, d in 0..3, the first `reporting`.
    int n = 0;
    for (uint32_t d = 0; d < 4 && n < reporting; ++d) {
      for (uint32_t r = 0; r < 3 && n < reporting; ++r, ++n) {
        h[absl::StrFormat("r%03d-d%d", r, d)] = Rec(HealthStatus::kHealthy, kT0);
      }
    }
    return DecideSelfPreservation(*topology, h, {}, kT0 + absl::Seconds(31));
  };
  const SelfPreservation nine = decide(9);
  EXPECT_FALSE(nine.active);
  EXPECT_EQ(nine.counted, 9);
  EXPECT_EQ(nine.expired, 9);
  EXPECT_EQ(nine.spread, 3);
  const SelfPreservation ten = decide(10);
  EXPECT_TRUE(ten.active);
  EXPECT_EQ(ten.counted, 10);
  EXPECT_EQ(ten.expired, 10);
}

// The small world: 2 DCs, one stops reporting. Never kept, whatever the share.
TEST(SelfPreservationTest, ATwoDcWorldNeverKeepsADeadDc) {
  World w = testing::SyntheticWorld(2, 1);
  const auto topology = Compile(std::move(w));
  HealthMap h;
  h["r000-d0"] = Rec(HealthStatus::kHealthy, kT0, absl::Seconds(3));
  h["r001-d0"] = Rec(HealthStatus::kHealthy, kT0 + absl::Seconds(7), absl::Seconds(3));
  const SelfPreservation d = DecideSelfPreservation(*topology, h, {}, kT0 + absl::Seconds(8));
  EXPECT_FALSE(d.active);
  EXPECT_EQ(d.counted, 2);
  EXPECT_EQ(d.alive, 1);
  EXPECT_EQ(d.expired, 0);  // expired at +3 s, more than a window ago
  EXPECT_FALSE(DecideSelfPreservation(*topology, h, {}, kT0 + absl::Seconds(3)).active);
}

// 2 regions of 10 DCs. A whole region dying together with its agents is an outage, not broken
// reporters: exactly half the DCs expire at once, but all in one region.
TEST(SelfPreservationTest, AWholeRegionDyingWithItsAgentsIsNotKept) {
  const auto topology = Compile(testing::SyntheticWorld(2, 10));
  HealthMap h;
  for (uint32_t d = 0; d < 10; ++d) {
    h[absl::StrFormat("r000-d%d", d)] = Rec(HealthStatus::kHealthy, kT0 + absl::Seconds(20));
    h[absl::StrFormat("r001-d%d", d)] = Rec(HealthStatus::kHealthy, kT0);  // r001 dies
  }
  const SelfPreservation region = DecideSelfPreservation(*topology, h, {}, kT0 + absl::Seconds(31));
  EXPECT_FALSE(region.active);
  EXPECT_EQ(region.expired, 10);
  EXPECT_EQ(region.alive, 10);
  EXPECT_EQ(region.spread, 1);
  EXPECT_EQ(region.regions, 2);
  // The same number of expiries spread over both regions (5 + 5) is broken reporters.
  for (uint32_t d = 0; d < 5; ++d) {
    h[absl::StrFormat("r000-d%d", d)] = Rec(HealthStatus::kHealthy, kT0);
    h[absl::StrFormat("r001-d%d", d)] = Rec(HealthStatus::kHealthy, kT0 + absl::Seconds(20));
  }
  const SelfPreservation spread = DecideSelfPreservation(*topology, h, {}, kT0 + absl::Seconds(31));
  EXPECT_TRUE(spread.active);
  EXPECT_EQ(spread.expired, 10);
  EXPECT_EQ(spread.spread, 2);
}

TEST(SelfPreservationTest, EpisodeEndsAtItsMaximumAndItsRecordsNeverStartAnother) {
  HealthMap h = AllHealthyAtT0();
  const absl::Time start = kT0 + absl::Seconds(31);
  SelfPreservation d = Decide(h, start);
  ASSERT_TRUE(d.active);
  // Just under the maximum: still kept.
  d = Decide(h, start + absl::Minutes(5) - absl::Milliseconds(1), d);
  EXPECT_TRUE(d.active);
  EXPECT_TRUE(IsKept(d, h["us-sjc"], start + absl::Minutes(5) - absl::Milliseconds(1)));
  // At the maximum: ended, every kept record expires for real.
  const absl::Time end = start + absl::Minutes(5);
  d = Decide(h, end, d);
  EXPECT_FALSE(d.active);
  EXPECT_TRUE(d.ended_by_max_duration);
  EXPECT_EQ(d.floor, end);
  EXPECT_FALSE(IsKept(d, h["us-sjc"], end));
  // ... and those records do not start a new episode afterwards.
  d = Decide(h, end + absl::Milliseconds(100), d);
  EXPECT_FALSE(d.active);
  EXPECT_FALSE(d.ended_by_max_duration);
  EXPECT_EQ(d.expired, 0);
  EXPECT_EQ(d.floor, end);
  // New reports, then a new mass expiry: a new episode may start.
  for (const std::string& id : AllIds()) h[id] = Rec(HealthStatus::kHealthy, end + absl::Seconds(1));
  d = Decide(h, end + absl::Seconds(32), d);
  EXPECT_TRUE(d.active);
  EXPECT_EQ(d.expired, 21);
  EXPECT_EQ(d.episode_start, end + absl::Seconds(32));
}

TEST(SelfPreservationTest, SwitchedOffInTheConfigOrByTheCaller) {
  World w = testing::ExampleWorld();
  w.self_preservation.enabled = false;
  const auto off = Compile(std::move(w));
  const SelfPreservation by_config =
      DecideSelfPreservation(*off, AllHealthyAtT0(), {}, kT0 + absl::Seconds(31));
  EXPECT_FALSE(by_config.active);
  const SelfPreservation by_caller = DecideSelfPreservation(
      *Example(), AllHealthyAtT0(), {}, kT0 + absl::Seconds(31), /*enabled=*/false);
  EXPECT_FALSE(by_caller.active);
}

TEST(SelfPreservationTest, ExactlyHalfActivatesJustUnderHalfDoesNot) {
  // 20 reported DCs (the last one never reported: not counted), 10 renewed.
  HealthMap h = AllHealthyAtT0();
  h.erase(AllIds().back());
  Renew(h, 10, kT0 + absl::Seconds(20));
  const SelfPreservation half = Decide(h, kT0 + absl::Seconds(31));
  EXPECT_TRUE(half.active);
  EXPECT_EQ(half.alive, 10);
  EXPECT_EQ(half.expired, 10);
  Renew(h, 11, kT0 + absl::Seconds(20));
  const SelfPreservation under = Decide(h, kT0 + absl::Seconds(31));
  EXPECT_FALSE(under.active);
  EXPECT_EQ(under.alive, 11);
  EXPECT_EQ(under.expired, 9);
}

TEST(SelfPreservationTest, ExpiriesOlderThanTheWindowDoNotActivate) {
  // Everything expired 6 s ago with a 5 s window: nobody saw a burst (e.g. a replica starting,
  // or the store returning after a long outage): real expiry applies.
  const SelfPreservation d = Decide(AllHealthyAtT0(), kT0 + absl::Seconds(36));
  EXPECT_FALSE(d.active);
  EXPECT_EQ(d.expired, 0);
  EXPECT_EQ(d.alive, 0);
}

TEST(SelfPreservationTest, SpreadOutExpiriesDoNotActivate) {
  // 21 DCs, DC i's last report expiring at kT0 + 30 s + i: one reporter dies per second.
  HealthMap h = AllHealthyAtT0();
  const auto ids = AllIds();
  for (int i = 0; i < 21; ++i) h[ids[i]] = Rec(HealthStatus::kHealthy, kT0 + absl::Seconds(i));
  // At +35 s: DCs 1..5 expired within (30 s, 35 s], 15 alive.
  const SelfPreservation d = Decide(h, kT0 + absl::Seconds(35));
  EXPECT_FALSE(d.active);
  EXPECT_EQ(d.expired, 5);
  EXPECT_EQ(d.alive, 15);
  // At +44 s: DCs 10..14 expired within (39 s, 44 s], 6 alive: still under half.
  EXPECT_FALSE(Decide(h, kT0 + absl::Seconds(44)).active);
  // At +45 s: 5 expired within the window, 5 alive: half of what was alive 5 s ago is gone, but
  // only in 4 of the 10 regions (in-bom, in-hyd, sg-sin, hk-hkg, jp-tyo): not kept.
  const SelfPreservation late = Decide(h, kT0 + absl::Seconds(45));
  EXPECT_FALSE(late.active);
  EXPECT_EQ(late.expired, 5);
  EXPECT_EQ(late.alive, 5);
  EXPECT_EQ(late.spread, 4);
}

TEST(SelfPreservationTest, RecordsOfUnknownDcsAreIgnored) {
  HealthMap h;
  h["us-sjc"] = Rec(HealthStatus::kHealthy, kT0 + absl::Seconds(10));
  h["us-den"] = Rec(HealthStatus::kHealthy, kT0 + absl::Seconds(10));
  h["gone-1"] = Rec(HealthStatus::kHealthy, kT0);
  h["gone-2"] = Rec(HealthStatus::kHealthy, kT0);
  h["gone-3"] = Rec(HealthStatus::kHealthy, kT0);
  const SelfPreservation d = Decide(h, kT0 + absl::Seconds(31));
  EXPECT_FALSE(d.active);
  EXPECT_EQ(d.alive, 2);
  EXPECT_EQ(d.expired, 0);
}

TEST(SelfPreservationTest, EpisodeOutlastsTheWindowAndCoversLaterExpiries) {
  HealthMap h = AllHealthyAtT0();
  Renew(h, 4, kT0 + absl::Seconds(25));  // 4 more reporters die a bit later
  const SelfPreservation first = Decide(h, kT0 + absl::Seconds(31));
  ASSERT_TRUE(first.active);
  EXPECT_EQ(first.expired, 17);
  EXPECT_EQ(first.alive, 4);
  // A minute later: all 21 expired, the early ones long before now - window.
  const SelfPreservation later = Decide(h, kT0 + absl::Minutes(2), first);
  EXPECT_TRUE(later.active);
  EXPECT_EQ(later.window_start, first.window_start);
  EXPECT_EQ(later.expired, 21);
  EXPECT_EQ(later.alive, 0);
  EXPECT_TRUE(IsKept(later, h["us-sjc"], kT0 + absl::Minutes(2)));
}

TEST(SelfPreservationTest, LiftsWhenReportsComeBack) {
  HealthMap h = AllHealthyAtT0();
  const absl::Time t1 = kT0 + absl::Seconds(31);
  SelfPreservation d = Decide(h, t1);
  ASSERT_TRUE(d.active);
  const absl::Time t2 = kT0 + absl::Seconds(90);
  Renew(h, 10, t2);  // 10 of 21 back: 11 still expired, still half or more
  d = Decide(h, t2, d);
  EXPECT_TRUE(d.active);
  EXPECT_EQ(d.alive, 10);
  EXPECT_EQ(d.expired, 11);
  Renew(h, 11, t2);  // 11 back, 10 expired: fewer than half
  d = Decide(h, t2, d);
  EXPECT_FALSE(d.active);
  EXPECT_EQ(d.alive, 11);
  EXPECT_EQ(d.expired, 10);
  EXPECT_FALSE(IsKept(d, h[AllIds().back()], t2));
  // ... and it does not come straight back on the next evaluation.
  EXPECT_FALSE(Decide(h, t2 + absl::Milliseconds(100), d).active);
}

TEST(SelfPreservationTest, RecordsWithoutExpiryCountAsAlive) {
  HealthMap h = AllHealthyAtT0();
  const auto ids = AllIds();
  for (int i = 0; i < 11; ++i) h[ids[i]].expires_at = absl::InfiniteFuture();
  const SelfPreservation d = Decide(h, kT0 + absl::Seconds(31));
  EXPECT_FALSE(d.active);
  EXPECT_EQ(d.alive, 11);
  EXPECT_EQ(d.expired, 10);
}

TEST(SelfPreservationTest, SnapshotKeepsLastKnownHealthAndNeverRelaxesAnything) {
  HealthMap h = AllHealthyAtT0();
  h["us-sjc"] = Rec(HealthStatus::kDown, kT0);
  h["us-den"] = Rec(HealthStatus::kDraining, kT0);
  h["us-nyc"].congestion = 0.95;
  h["us-nyc"].congested = true;
  const absl::Time now = kT0 + absl::Seconds(31);
  const SelfPreservation d = Decide(h, now);
  ASSERT_TRUE(d.active);
  auto s = BuildSnapshotWithSelfPreservation(Example(), h, nullptr, 7, now, false, d);
  const Topology& t = *Example();
  EXPECT_EQ(s->kept, 21u);
  const auto& sjc = s->dcs[t.DcIndex("us-sjc")];
  EXPECT_EQ(sjc.status, HealthStatus::kDown);  // DOWN stays DOWN
  EXPECT_FALSE(sjc.usable);
  EXPECT_TRUE(sjc.health_kept);
  EXPECT_EQ(s->dcs[t.DcIndex("us-den")].status, HealthStatus::kDraining);
  EXPECT_FALSE(s->dcs[t.DcIndex("us-den")].usable);
  const auto& nyc = s->dcs[t.DcIndex("us-nyc")];
  EXPECT_EQ(nyc.status, HealthStatus::kHealthy);
  EXPECT_TRUE(nyc.usable);
  EXPECT_TRUE(nyc.congested);
  // The snapshot shows the records as stored: their real expiry.
  EXPECT_EQ(nyc.record.expires_at, kT0 + kTtl);
  EXPECT_EQ(s->next_expiry, absl::InfiniteFuture());
  EXPECT_EQ(s->version, 7u);
  EXPECT_EQ(s->built_at, now);

  // Compliance is untouched: a US client never gets a Chinese DC (deny rule), and a DC that
  // is DOWN is not offered.
  AnswerRequest request{.country = "US", .tenant_id = "", .client_id = "k"};
  const Answer a = ComputeAnswer(*s, request);
  ASSERT_EQ(a.error, AnswerError::kNone);
  for (const auto& list : {a.primaries, a.secondaries}) {
    for (const Pick& p : list) {
      EXPECT_NE(t.dc(p.dc).country, "CN") << t.dc(p.dc).id;
      EXPECT_NE(t.dc(p.dc).id, "us-sjc");
      EXPECT_NE(t.dc(p.dc).id, "us-den");
    }
  }
  // China's clients: deny rules leave them only Chinese DCs, kept alive like the others.
  const Answer cn = ComputeAnswer(*s, AnswerRequest{.country = "CN"});
  ASSERT_EQ(cn.error, AnswerError::kNone);
  for (const Pick& p : cn.primaries) EXPECT_EQ(t.dc(p.dc).country, "CN");
  for (const Pick& p : cn.secondaries) EXPECT_EQ(t.dc(p.dc).country, "CN");
}

TEST(SelfPreservationTest, InactiveDecisionBuildsTheSameSnapshotAsBuildSnapshot) {
  HealthMap h = AllHealthyAtT0();
  const absl::Time now = kT0 + absl::Seconds(31);
  auto plain = BuildSnapshot(Example(), h, nullptr, 1, now, false);
  auto same = BuildSnapshotWithSelfPreservation(Example(), h, nullptr, 1, now, false, {});
  EXPECT_TRUE(plain->usable.Empty());
  EXPECT_TRUE(same->usable.Empty());
  EXPECT_EQ(same->dcs[0].status, HealthStatus::kUnknown);
  EXPECT_FALSE(same->dcs[0].health_kept);
  EXPECT_EQ(same->kept, 0u);
}

}  // namespace
}  // namespace dcdir::core

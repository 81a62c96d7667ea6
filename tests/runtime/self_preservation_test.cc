// Unit tests of the self-preservation rule (service/core/self_preservation.h): pure functions
// over a health map and a time, no clock, no store.

#include "service/core/self_preservation.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "service/core/answer.h"
#include "service/core/topology.h"
#include "tests/testing/example_world.h"

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
  return DecideSelfPreservation(*Example(), h, prev, now, kWindow);
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
  EXPECT_EQ(d.alive, 0);
  EXPECT_EQ(d.expired, 21);
  EXPECT_EQ(d.window_start, now - kWindow);
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
  // At +45 s: 5 expired within the window, 5 alive: half of what was alive 5 s ago is gone.
  const SelfPreservation late = Decide(h, kT0 + absl::Seconds(45));
  EXPECT_TRUE(late.active);
  EXPECT_EQ(late.expired, 5);
  EXPECT_EQ(late.alive, 5);
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
  const auto& sjc = s->dcs[t.DcIndex("us-sjc")];
  EXPECT_EQ(sjc.status, HealthStatus::kDown);  // DOWN stays DOWN
  EXPECT_FALSE(sjc.usable);
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
}

}  // namespace
}  // namespace dcdir::core

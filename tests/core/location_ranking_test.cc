// Ranking by where the client is (issue 13): estimates, the latency band, spillover,
// subdivisions, observed RTTs and nearest top-ups, on the example world with explicit ranking
// settings (so that tuning the defaults does not change what these tests pin).

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/core/answer.h"
#include "service/core/ranking.h"
#include "tests/core/core_test_util.h"
#include "tests/testing/example_world.h"

namespace dcdir::core {
namespace {

using ::testing::ElementsAre;

constexpr GeoPoint kSaoPaulo{-23.55, -46.63};
constexpr GeoPoint kSeattle{47.61, -122.33};
constexpr GeoPoint kNewYork{40.71, -74.01};
constexpr GeoPoint kChicago{41.88, -87.63};

World TestWorld() {
  World w = testing::ExampleWorld();
  w.ranking.rtt_base = absl::Milliseconds(10);
  w.ranking.path_stretch = 1.5;
  w.ranking.latency_band_absolute = absl::Milliseconds(5);
  w.ranking.latency_band_relative = 0.2;
  w.ranking.spill_start = 0.70;
  w.ranking.nearest_secondaries = false;
  w.ranking.rtt_max_age = absl::Minutes(10);
  w.subdivisions = {
      {"US-WA", std::nullopt, GeoPoint{47.61, -122.33}},
      {"US-HI", std::string("jp"), GeoPoint{21.31, -157.86}},  // a made-up mapping for the test
      {"CA-QC", std::nullopt, std::nullopt},
  };
  return w;
}

class LocationRankingTest : public ::testing::Test {
 protected:
  void SetUp() override { Reset(TestWorld()); }
  void Reset(World w) {
    topo_ = MustCompile(std::move(w));
    health_.clear();
    for (const DataCenter& dc : topo_->world().datacenters) {
      health_[dc.id] = Record(HealthStatus::kHealthy);
    }
  }
  std::shared_ptr<const Snapshot> Snap() {
    return BuildSnapshot(topo_, health_, CompileTenants(*topo_, {}), 1, kT0 + absl::Seconds(1),
                         false);
  }
  Answer Get(AnswerRequest req) {
    auto s = Snap();
    Answer a = ComputeAnswer(*s, req);
    EXPECT_EQ(Explain(*s, req).answer, a);
    EXPECT_EQ(ComputeAnswer(*s, req), a);  // deterministic
    return a;
  }
  std::string First(const Answer& a) {
    return a.primaries.empty() ? "" : topo_->dc(a.primaries[0].dc).id;
  }
  // How many of `clients` client ids get each DC first.
  std::map<std::string, int> FirstChoices(AnswerRequest req, int clients) {
    std::map<std::string, int> out;
    auto s = Snap();
    for (int k = 0; k < clients; ++k) {
      const std::string id = absl::StrCat("client-", k);
      req.client_id = id;
      const Answer a = ComputeAnswer(*s, req);
      ++out[First(a)];
    }
    return out;
  }
  std::vector<std::string> Prim(const Answer& a) { return Ids(*topo_, a.primaries); }
  std::vector<std::string> Sec(const Answer& a) { return Ids(*topo_, a.secondaries); }

  std::shared_ptr<const Topology> topo_;
  HealthMap health_;
};

TEST(RankingModelTest, EstimateIsBasePlusStretchedFibreRoundTrip) {
  RankingSettings r;
  r.rtt_base = absl::Milliseconds(10);
  r.path_stretch = 1.5;
  const RttModel m = MakeRttModel(r, 0.85);
  EXPECT_DOUBLE_EQ(EstimateRttMs(m, 0), 10.0);
  EXPECT_DOUBLE_EQ(EstimateRttMs(m, 1000), 10.0 + 2 * 1.5 * 1000 / 200.0);  // 25 ms
  r.latency_band_absolute = absl::Milliseconds(5);
  r.latency_band_relative = 0.2;
  const RttModel b = MakeRttModel(r, 0.85);
  EXPECT_DOUBLE_EQ(BandLimitMs(b, 10), 15);    // absolute margin wins
  EXPECT_DOUBLE_EQ(BandLimitMs(b, 100), 120);  // relative margin wins
}

TEST(RankingModelTest, UnitVectorDistanceMatchesHaversine) {
  const std::vector<GeoPoint> points = {kSaoPaulo, kSeattle, kNewYork, {0, 0},      {89.9, 10},
                                        {-33.87, 151.21},   {35.68, 139.69}, {51.5, -0.12}};
  for (const GeoPoint& a : points) {
    for (const GeoPoint& b : points) {
      EXPECT_NEAR(UnitDistanceKm(ToUnitVector(a), ToUnitVector(b)), DistanceKm(a, b), 0.001);
    }
  }
  // New York - Ashburn, ~350 km.
  EXPECT_NEAR(UnitDistanceKm(ToUnitVector(kNewYork), ToUnitVector({39.04, -77.49})), 350, 5);
}

TEST(RankingModelTest, SpillShareGrowsLinearlyFromSpillStartToCongestionEnter) {
  RankingSettings r;
  r.spill_start = 0.70;
  const RttModel m = MakeRttModel(r, 0.85);
  EXPECT_DOUBLE_EQ(SpillShare(m, 0.5), 0);
  EXPECT_DOUBLE_EQ(SpillShare(m, 0.70), 0);
  EXPECT_NEAR(SpillShare(m, 0.775), 0.5, 1e-12);
  EXPECT_DOUBLE_EQ(SpillShare(m, 0.85), 1);
  EXPECT_DOUBLE_EQ(SpillShare(m, 0.99), 1);
  EXPECT_DOUBLE_EQ(SpillShare(m, std::nan("")), 0);
}

TEST(RankingModelTest, SpillDrawIsUniformAndIndependentOfTheRendezvousDraw) {
  // Fraction of 20,000 clients under 0.25 for one DC: a uniform draw gives 0.25 +- 0.01 (3.3
  // sigma); and it must not be the rendezvous order in disguise.
  const uint64_t dc = StableHash64("br-gru");
  int below = 0;
  for (int k = 0; k < 20000; ++k) {
    const double d = SpillDraw(StableHash64(absl::StrCat("client-", k)), dc);
    ASSERT_GE(d, 0);
    ASSERT_LT(d, 1);
    below += d < 0.25;
  }
  EXPECT_NEAR(below / 20000.0, 0.25, 0.01);
  EXPECT_EQ(SpillDraw(StableHash64("k"), dc), SpillDraw(StableHash64("k"), dc));
}

TEST_F(LocationRankingTest, SaoPauloClientGetsSaoPauloFirstForEveryClientId) {
  // Without a location the latam primaries are spread by headroom: some clients get mx-qro.
  auto without = FirstChoices({"BR", "", "", 0}, 400);
  EXPECT_GT(without["mx-qro"], 50);
  // With one, mx-qro (7,400 km away) is outside the band: everybody gets br-gru first.
  AnswerRequest req{"BR", "", "", 0};
  req.location = kSaoPaulo;
  auto with = FirstChoices(req, 400);
  EXPECT_EQ(with["br-gru"], 400);
  const Answer a = Get(req);
  EXPECT_EQ(a.location_source, LocationSource::kDeclared);
  EXPECT_THAT(Prim(a), ElementsAre("br-gru", "mx-qro"));
}

TEST_F(LocationRankingTest, SeattleBySubdivisionPointGetsSanJoseFirst) {
  AnswerRequest req{"US", "", "", 0};
  req.subdivision = "US-WA";
  auto firsts = FirstChoices(req, 400);
  EXPECT_EQ(firsts["us-sjc"], 400);
  req.client_id = "k";
  const Answer a = Get(req);
  EXPECT_EQ(a.location_source, LocationSource::kSubdivision);
  EXPECT_EQ(a.location, kSeattle);
  // sjc (1,140 km: 27.1 ms) alone in the band (limit 32.5 ms); den (1,640 km: 34.6 ms) next,
  // then the East Coast nearest first: nyc (3,870 km) before iad (3,720 km)? No: iad is nearer.
  EXPECT_THAT(Prim(a), ElementsAre("us-sjc", "us-den", "us-iad", "us-nyc"));
  EXPECT_EQ(a.region, topo_->RegionIndex("us"));
}

TEST_F(LocationRankingTest, DeclaredLocationWinsOverSubdivisionPointAndGeoIp) {
  AnswerRequest req{"US", "", "k", 0};
  req.subdivision = "US-WA";
  req.location = kNewYork;
  req.geoip_location = kSeattle;
  const Answer a = Get(req);
  EXPECT_EQ(a.location_source, LocationSource::kDeclared);
  EXPECT_EQ(a.location, kNewYork);
  req.location.reset();
  EXPECT_EQ(Get(req).location_source, LocationSource::kSubdivision);
  req.subdivision = "";
  const Answer g = Get(req);
  EXPECT_EQ(g.location_source, LocationSource::kGeoIp);
  EXPECT_EQ(First(g), "us-sjc");
  // A subdivision without a point does not hide GeoIP.
  AnswerRequest qc{"CA", "", "k", 0};
  qc.subdivision = "CA-QC";
  qc.geoip_location = GeoPoint{45.50, -73.57};  // Montreal
  EXPECT_EQ(Get(qc).location_source, LocationSource::kGeoIp);
  EXPECT_EQ(First(Get(qc)), "ca-yyz");
}

TEST_F(LocationRankingTest, SubdivisionWithItsOwnRegionIsItsOwnClientClass) {
  AnswerRequest req{"US", "", "k", 0};
  req.subdivision = "US-HI";
  const Answer a = Get(req);
  EXPECT_EQ(a.region, topo_->RegionIndex("jp"));
  EXPECT_THAT(Prim(a), ::testing::UnorderedElementsAre("jp-tyo", "jp-osa"));
  // Cross-border is against the client's country (US), whatever its region.
  EXPECT_TRUE(a.primaries[0].cross_border);
  // A subdivision of another country is ignored (the API rejects it; the core is defensive).
  AnswerRequest other{"CA", "", "k", 0};
  other.subdivision = "US-HI";
  EXPECT_EQ(Get(other).region, topo_->RegionIndex("ca"));
  // An unknown subdivision of the right country is just the country.
  AnswerRequest unknown{"US", "", "k", 0};
  unknown.subdivision = "US-ZZ";
  const Answer u = Get(unknown);
  EXPECT_EQ(u.region, topo_->RegionIndex("us"));
  EXPECT_EQ(u.location_source, LocationSource::kNone);
}

TEST_F(LocationRankingTest, SubdivisionRegionStillObeysDenyRules) {
  World w = TestWorld();
  w.subdivisions.push_back({"CN-SH", std::string("us"), std::nullopt});
  Reset(w);
  // The rules are evaluated for (CN, us): cn-sovereign (clients not in region cn) denies the cn
  // DCs to this class, although its country is CN. The answer never contains a denied DC.
  AnswerRequest req{"CN", "", "k", 0};
  req.subdivision = "CN-SH";
  const Answer a = Get(req);
  EXPECT_EQ(a.region, topo_->RegionIndex("us"));
  for (const auto* list : {&a.primaries, &a.secondaries}) {
    for (const Pick& p : *list) EXPECT_NE(topo_->dc(p.dc).region, "cn");
  }
  const ResolvedClient c = topo_->Resolve("CN", "CN-SH");
  EXPECT_FALSE(c.cls->allowed.Contains(topo_->DcIndex("cn-pek")));
  EXPECT_EQ(c.cls->denying_rule[topo_->DcIndex("cn-pek")], 0);  // cn-sovereign
}

TEST_F(LocationRankingTest, BandIsSpreadByHeadroomAndOthersFollowNearestFirst) {
  // Philadelphia: nyc (130 km: 12.0 ms) and iad (230 km: 13.4 ms) are in the band (limit
  // 17.0 ms); den (2,490 km: 47 ms) and sjc (3,990 km: 70 ms) follow, nearest first.
  AnswerRequest req{"US", "", "", 0};
  req.location = GeoPoint{39.95, -75.17};
  auto firsts = FirstChoices(req, 1000);
  EXPECT_EQ(firsts["us-den"] + firsts["us-sjc"], 0);
  EXPECT_GT(firsts["us-nyc"], 350);
  EXPECT_GT(firsts["us-iad"], 350);
  auto s = Snap();
  for (int k = 0; k < 50; ++k) {
    const std::string id = absl::StrCat("c", k);
    req.client_id = id;
    const Answer a = ComputeAnswer(*s, req);
    ASSERT_EQ(a.primaries.size(), 4u);
    EXPECT_EQ(topo_->dc(a.primaries[2].dc).id, "us-den");
    EXPECT_EQ(topo_->dc(a.primaries[3].dc).id, "us-sjc");
    const Explanation ex = Explain(*s, req);
    EXPECT_TRUE(ex.verdicts[topo_->DcIndex("us-nyc")].in_latency_band);
    EXPECT_TRUE(ex.verdicts[topo_->DcIndex("us-iad")].in_latency_band);
    EXPECT_FALSE(ex.verdicts[topo_->DcIndex("us-den")].in_latency_band);
    EXPECT_EQ(ex.verdicts[topo_->DcIndex("us-den")].rtt_source, RttSource::kDistance);
    EXPECT_NEAR(ex.verdicts[topo_->DcIndex("us-nyc")].estimated_rtt_ms, 11.95, 0.1);
  }
}

TEST_F(LocationRankingTest, CongestedGroupStillLast) {
  health_["us-sjc"].congestion = 0.9;
  health_["us-sjc"].congested = true;
  AnswerRequest req{"US", "", "k", 0};
  req.location = kSeattle;
  const Answer a = Get(req);
  EXPECT_THAT(Prim(a), ElementsAre("us-den", "us-iad", "us-nyc", "us-sjc"));
  EXPECT_TRUE(a.primaries[3].congested);
  EXPECT_FALSE(a.fallback_active);
}

TEST_F(LocationRankingTest, ObservedRttOverridesTheEstimate) {
  AnswerRequest req{"US", "", "k", 0};
  req.location = kSeattle;
  const ObservedRtt rtts[] = {{"us-iad", absl::Milliseconds(12), absl::Seconds(30)},
                              {"no-such-dc", absl::Milliseconds(1), absl::Seconds(1)},
                              {"us-sjc", absl::Milliseconds(90), absl::Hours(2)}};  // too old
  req.observed_rtts = rtts;
  const Answer a = Get(req);
  // iad measured 12 ms: best, alone in the band (limit 17 ms); sjc's stale 90 ms is ignored
  // (its distance estimate 27 ms is used), unknown ids are ignored.
  EXPECT_THAT(Prim(a), ElementsAre("us-iad", "us-sjc", "us-den", "us-nyc"));
  const Explanation ex = Explain(*Snap(), req);
  EXPECT_EQ(ex.verdicts[topo_->DcIndex("us-iad")].rtt_source, RttSource::kObserved);
  EXPECT_DOUBLE_EQ(ex.verdicts[topo_->DcIndex("us-iad")].estimated_rtt_ms, 12);
  EXPECT_EQ(ex.verdicts[topo_->DcIndex("us-sjc")].rtt_source, RttSource::kDistance);
  EXPECT_EQ(ex.verdicts[topo_->DcIndex("cn-pek")].rtt_source, RttSource::kDistance);
}

TEST_F(LocationRankingTest, ObservedRttsWithoutLocationPutUnmeasuredDcsBeforeFarOnes) {
  AnswerRequest req{"US", "", "k", 0};
  const ObservedRtt rtts[] = {{"us-nyc", absl::Milliseconds(20), absl::ZeroDuration()},
                              {"us-sjc", absl::Milliseconds(80), absl::ZeroDuration()}};
  req.observed_rtts = rtts;
  const Answer a = Get(req);
  EXPECT_EQ(a.location_source, LocationSource::kNone);
  // Band {nyc}; no estimate {den, iad} by score; outside {sjc}.
  ASSERT_EQ(a.primaries.size(), 4u);
  EXPECT_EQ(First(a), "us-nyc");
  EXPECT_EQ(topo_->dc(a.primaries[3].dc).id, "us-sjc");
  const Explanation ex = Explain(*Snap(), req);
  EXPECT_EQ(ex.verdicts[topo_->DcIndex("us-den")].rtt_source, RttSource::kNone);
}

TEST_F(LocationRankingTest, SpilloverMovesAGrowingStableShareOfClients) {
  AnswerRequest req{"BR", "", "", 0};
  req.location = kSaoPaulo;
  std::vector<std::vector<bool>> moved;  // per congestion level, per client: got mx-qro first
  for (double c : {0.5, 0.70, 0.74, 0.775, 0.82, 0.849}) {
    health_["br-gru"].congestion = c;
    health_["br-gru"].congested = false;
    auto s = Snap();
    std::vector<bool> m;
    int count = 0;
    for (int k = 0; k < 2000; ++k) {
      const std::string id = absl::StrCat("client-", k);
      req.client_id = id;
      const Answer a = ComputeAnswer(*s, req);
      ASSERT_EQ(a.primaries.size(), 2u);
      m.push_back(First(a) == "mx-qro");
      count += m.back();
      // Never across the boundary, never adding a DC.
      EXPECT_FALSE(a.primaries[0].congested);
    }
    const double share = (c - 0.70) / 0.15;
    EXPECT_NEAR(count / 2000.0, std::max(0.0, share), 0.035) << "congestion " << c;
    moved.push_back(std::move(m));
  }
  // Monotone: a client moved at a lower congestion is still moved at a higher one.
  for (size_t level = 1; level < moved.size(); ++level) {
    for (size_t k = 0; k < moved[level].size(); ++k) {
      if (moved[level - 1][k]) {
        EXPECT_TRUE(moved[level][k]) << "client " << k;
      }
    }
  }
  // Explain says which DC moved.
  health_["br-gru"].congestion = 0.80;
  auto s = Snap();
  for (int k = 0; k < 100; ++k) {
    const std::string id = absl::StrCat("client-", k);
    req.client_id = id;
    const Explanation ex = Explain(*s, req);
    EXPECT_EQ(ex.verdicts[topo_->DcIndex("br-gru")].spilled,
              topo_->dc(ex.answer.primaries[0].dc).id == "mx-qro");
  }
}

TEST_F(LocationRankingTest, NoSpilloverWithoutAnEstimate) {
  // Without a location the headroom weight sheds load already; answers stay as before.
  health_["br-gru"].congestion = 0.84;
  auto s = Snap();
  for (int k = 0; k < 200; ++k) {
    const std::string id = absl::StrCat("client-", k);
    AnswerRequest req{"BR", "", id, 0};
    const Explanation ex = Explain(*s, req);
    EXPECT_FALSE(ex.verdicts[topo_->DcIndex("br-gru")].spilled);
    EXPECT_FALSE(ex.verdicts[topo_->DcIndex("br-gru")].in_latency_band);
    EXPECT_EQ(ex.verdicts[topo_->DcIndex("br-gru")].rtt_source, RttSource::kNone);
  }
}

TEST_F(LocationRankingTest, TopUpsAreNearestToTheClient) {
  // eu clients: configured secondary eu-dub; min_secondaries 2 -> one top-up, which the
  // eu-residency rule keeps inside eu... all eu DCs are primaries or configured: use a region
  // with room. sg: secondaries hk, jp-tyo, au-syd, in-bom (4 >= 2): no top-ups. Make one.
  World w = TestWorld();
  w.thresholds.min_secondaries = 3;
  w.regions[2].secondaries = {"us-iad"};  // latam: one configured secondary
  Reset(w);
  AnswerRequest req{"BR", "", "k", 0};
  // Without a location: nearest to latam's reference point (Brasilia): us-iad configured, then
  // the two nearest others.
  const Answer ref = Get(req);
  req.location = GeoPoint{19.43, -99.13};  // Mexico City
  const Answer near = Get(req);
  EXPECT_EQ(Sec(near)[0], "us-iad");
  // From Mexico City the nearest non-candidates are us-den and us-sjc.
  EXPECT_THAT(Sec(near), ElementsAre("us-iad", "us-den", "us-sjc"));
  EXPECT_NE(Sec(ref), Sec(near));
}

TEST_F(LocationRankingTest, NearestSecondariesOrdersConfiguredSecondariesByEstimate) {
  AnswerRequest req{"US", "", "k", 0};
  req.location = kSeattle;
  EXPECT_THAT(Sec(Get(req)), ElementsAre("ca-yyz", "ca-yvr", "mx-qro", "eu-ams"));
  World w = TestWorld();
  w.ranking.nearest_secondaries = true;
  Reset(w);
  EXPECT_THAT(Sec(Get(req)), ElementsAre("ca-yvr", "ca-yyz", "mx-qro", "eu-ams"));
  // Without an estimate: configured order.
  req.location.reset();
  EXPECT_THAT(Sec(Get(req)), ElementsAre("ca-yyz", "ca-yvr", "mx-qro", "eu-ams"));
}

TEST_F(LocationRankingTest, ComplianceIsNeverRelaxedByLocation) {
  // A client in Germany located in New York still gets only eu DCs.
  AnswerRequest req{"DE", "", "k", 0};
  req.location = kNewYork;
  const Answer a = Get(req);
  for (const auto* list : {&a.primaries, &a.secondaries}) {
    for (const Pick& p : *list) EXPECT_EQ(topo_->dc(p.dc).region, "eu");
  }
  // A chinese client located in Chicago: only cn DCs.
  AnswerRequest cn{"CN", "", "k", 0};
  cn.location = kChicago;
  const Answer c = Get(cn);
  EXPECT_THAT(Prim(c), ::testing::UnorderedElementsAre("cn-pek", "cn-sha"));
  EXPECT_TRUE(c.secondaries.empty());
}

}  // namespace
}  // namespace dcdir::core

#include "service/core/answer.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/core/ranking.h"
#include "tests/core/core_test_util.h"
#include "tests/testing/example_world.h"

namespace dcdir::core {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

// The example world, every DC HEALTHY at congestion 0.1 unless a test says otherwise.
class AnswerTest : public ::testing::Test {
 protected:
  void SetUp() override { Reset(testing::ExampleWorld()); }

  void Reset(World w) {
    topo_ = MustCompile(std::move(w));
    health_.clear();
    for (const DataCenter& dc : topo_->world().datacenters) {
      health_[dc.id] = Record(HealthStatus::kHealthy);
    }
  }
  void Set(const std::string& id, HealthStatus s) { health_[id].status = s; }
  void Congest(const std::string& id) {
    health_[id].congestion = 0.9;
    health_[id].congested = true;
  }
  void DownRegion(const std::string& region) {
    for (const DataCenter& dc : topo_->world().datacenters) {
      if (dc.region == region) Set(dc.id, HealthStatus::kDown);
    }
  }
  std::shared_ptr<const Snapshot> Snap() {
    return BuildSnapshot(topo_, health_, CompileTenants(*topo_, tenants_), 1,
                         kT0 + absl::Seconds(1), false);
  }
  Answer Get(std::string_view country, std::string_view tenant = "",
             std::string_view client = "client-1", uint32_t max_secondaries = 0) {
    auto s = Snap();
    AnswerRequest req{country, tenant, client, max_secondaries};
    Answer a = ComputeAnswer(*s, req);
    // Explain must always tell the same answer.
    EXPECT_EQ(Explain(*s, req).answer, a);
    return a;
  }
  std::vector<std::string> Prim(const Answer& a) { return Ids(*topo_, a.primaries); }
  std::vector<std::string> Sec(const Answer& a) { return Ids(*topo_, a.secondaries); }
  uint32_t Dc(const std::string& id) { return topo_->DcIndex(id); }

  std::shared_ptr<const Topology> topo_;
  HealthMap health_;
  std::vector<TenantPolicy> tenants_ = testing::ExampleTenants();
};

TEST_F(AnswerTest, UsClientAllHealthy) {
  Answer a = Get("US");
  EXPECT_EQ(a.error, AnswerError::kNone);
  EXPECT_EQ(a.region, topo_->RegionIndex("us"));
  EXPECT_THAT(Prim(a), UnorderedElementsAre("us-sjc", "us-den", "us-nyc", "us-iad"));
  EXPECT_THAT(Sec(a), ElementsAre("ca-yyz", "ca-yvr", "mx-qro", "eu-ams"));
  EXPECT_FALSE(a.fallback_active);
  EXPECT_EQ(a.secondary_attempts, 2u);
  EXPECT_THAT(a.cross_border_fallback_dcs, IsEmpty());
  for (const Pick& p : a.primaries) {
    EXPECT_FALSE(p.cross_border);
    EXPECT_FALSE(p.congested);
  }
  for (const Pick& p : a.secondaries) EXPECT_TRUE(p.cross_border);
}

TEST_F(AnswerTest, UsClientWithAcmeGetsOnlyUsAndCa) {
  Answer a = Get("US", "acme", "user-7");
  EXPECT_THAT(Prim(a), UnorderedElementsAre("us-sjc", "us-den", "us-nyc", "us-iad"));
  EXPECT_THAT(Sec(a), ElementsAre("ca-yyz", "ca-yvr"));
}

TEST_F(AnswerTest, UsOutageFallsBackToCanadaAcrossTheBorder) {
  DownRegion("us");
  Answer a = Get("US");
  EXPECT_EQ(a.error, AnswerError::kNone);
  EXPECT_THAT(Prim(a), IsEmpty());
  EXPECT_THAT(Sec(a), ElementsAre("ca-yyz", "ca-yvr", "mx-qro", "eu-ams"));
  EXPECT_TRUE(a.fallback_active);
  EXPECT_TRUE(a.secondaries[0].cross_border);
  EXPECT_TRUE(a.secondaries[1].cross_border);
  EXPECT_THAT(IdList(*topo_, a.cross_border_fallback_dcs), ElementsAre("ca-yyz", "ca-yvr"));
  // Same with acme.
  Answer b = Get("US", "acme");
  EXPECT_THAT(Sec(b), ElementsAre("ca-yyz", "ca-yvr"));
  EXPECT_THAT(IdList(*topo_, b.cross_border_fallback_dcs), ElementsAre("ca-yyz", "ca-yvr"));
}

TEST_F(AnswerTest, CrossBorderFallbackCountsOnlyTheFirstAttempts) {
  DownRegion("ca");
  Set("us-sjc", HealthStatus::kDown);
  Set("us-den", HealthStatus::kDown);
  Set("us-nyc", HealthStatus::kDown);
  Set("us-iad", HealthStatus::kDraining);
  // A CA client: primaries ca-* down; secondaries us-nyc.. down; eu-ams remains + top-up.
  Answer a = Get("CA");
  EXPECT_TRUE(a.fallback_active);
  ASSERT_GE(a.secondaries.size(), 2u);
  // eu-ams is the only eligible configured secondary; top-up: nearest to Ottawa is mx-qro.
  EXPECT_THAT(Sec(a), ElementsAre("eu-ams", "mx-qro"));
  EXPECT_THAT(IdList(*topo_, a.cross_border_fallback_dcs), ElementsAre("eu-ams", "mx-qro"));
  // Only congested primaries: fallback_active, and only the first secondary_attempts count.
  Reset(testing::ExampleWorld());
  Set("ca-yyz", HealthStatus::kDown);
  Congest("us-sjc");
  Congest("us-den");
  Congest("us-nyc");
  Congest("us-iad");
  Answer b = Get("PR");  // PR maps to us; its DCs are in "US", so everything is cross-border
  EXPECT_TRUE(b.fallback_active);  // only congested primaries
  EXPECT_THAT(Prim(b), UnorderedElementsAre("us-sjc", "us-den", "us-nyc", "us-iad"));
  EXPECT_THAT(Sec(b), ElementsAre("ca-yvr", "mx-qro", "eu-ams"));
  EXPECT_THAT(IdList(*topo_, b.cross_border_fallback_dcs), ElementsAre("ca-yvr", "mx-qro"));
  for (const Pick& p : b.primaries) {
    EXPECT_TRUE(p.congested);
    EXPECT_TRUE(p.cross_border);
  }
}

TEST_F(AnswerTest, EuClientNeverGetsANonEuDc) {
  const std::vector<std::string> eu_countries = {"DE", "FR", "IE", "NL", "GB", "CH", "NO"};
  for (int outage = 0; outage < 4; ++outage) {
    Reset(testing::ExampleWorld());
    if (outage & 1) {
      Set("eu-ams", HealthStatus::kDown);
      Set("eu-fra", HealthStatus::kDown);
    }
    if (outage & 2) Set("eu-dub", HealthStatus::kDraining);
    for (const std::string& c : eu_countries) {
      for (const char* tenant : {"", "umbrella", "acme"}) {
        Answer a = Get(c, tenant);
        for (const Pick& p : a.primaries) EXPECT_EQ(topo_->dc(p.dc).region, "eu") << c;
        for (const Pick& p : a.secondaries) EXPECT_EQ(topo_->dc(p.dc).region, "eu") << c;
      }
    }
  }
  Reset(testing::ExampleWorld());
  Answer a = Get("DE");
  EXPECT_THAT(Prim(a), UnorderedElementsAre("eu-ams", "eu-fra"));
  EXPECT_THAT(Sec(a), ElementsAre("eu-dub"));  // no other allowed DC to top up with
  Set("eu-ams", HealthStatus::kDown);
  Set("eu-fra", HealthStatus::kDown);
  Answer b = Get("DE");
  EXPECT_THAT(Prim(b), IsEmpty());
  EXPECT_THAT(Sec(b), ElementsAre("eu-dub"));
  EXPECT_TRUE(b.fallback_active);
  EXPECT_THAT(IdList(*topo_, b.cross_border_fallback_dcs), ElementsAre("eu-dub"));  // IE != DE
  Set("eu-dub", HealthStatus::kDown);
  EXPECT_EQ(Get("DE").error, AnswerError::kNoHealthyCompliantDatacenter);
}

TEST_F(AnswerTest, CnClientWithCnDownIsUnavailableNeverAbroad) {
  Answer ok = Get("CN");
  EXPECT_THAT(Prim(ok), UnorderedElementsAre("cn-pek", "cn-sha"));
  EXPECT_THAT(Sec(ok), IsEmpty());
  DownRegion("cn");
  Answer a = Get("CN");
  EXPECT_EQ(a.error, AnswerError::kNoHealthyCompliantDatacenter);
  EXPECT_EQ(ReasonToken(a.error), "NO_HEALTHY_COMPLIANT_DATACENTER");
  EXPECT_EQ(a.region, topo_->RegionIndex("cn"));
  EXPECT_THAT(a.primaries, IsEmpty());
  EXPECT_THAT(a.secondaries, IsEmpty());
  EXPECT_FALSE(a.fallback_active);
}

TEST_F(AnswerTest, NobodyElseGetsACnDc) {
  DownRegion("us");
  DownRegion("ca");
  DownRegion("latam");
  DownRegion("eu");
  DownRegion("jp");
  DownRegion("hk");
  DownRegion("sg");
  for (const char* c : {"US", "JP", "HK", "SG", "IN", "ZA"}) {
    Answer a = Get(c);
    for (const Pick& p : a.primaries) EXPECT_NE(topo_->dc(p.dc).region, "cn") << c;
    for (const Pick& p : a.secondaries) EXPECT_NE(topo_->dc(p.dc).region, "cn") << c;
  }
}

TEST_F(AnswerTest, TenantAllowedNothingCompliantIsFailedPrecondition) {
  // globex allows only jp; eu-residency forbids jp to a German client.
  Answer a = Get("DE", "globex");
  EXPECT_EQ(a.error, AnswerError::kNoCompliantDatacenter);
  EXPECT_EQ(ReasonToken(a.error), "NO_COMPLIANT_DATACENTER");
  EXPECT_EQ(a.region, topo_->RegionIndex("eu"));
  EXPECT_EQ(Get("CN", "acme").error, AnswerError::kNoCompliantDatacenter);
  // A tenant whose home region does not exist (after a config change) is allowed nothing.
  tenants_.push_back({"lost", "atlantis", {"us"}});
  EXPECT_EQ(Get("US", "lost").error, AnswerError::kNoCompliantDatacenter);
}

TEST_F(AnswerTest, TenantAllowedNothingUsableIsUnavailable) {
  DownRegion("jp");
  Answer a = Get("US", "globex");
  EXPECT_EQ(a.error, AnswerError::kNoHealthyCompliantDatacenter);
  EXPECT_EQ(ReasonToken(a.error), "NO_HEALTHY_COMPLIANT_DATACENTER");
}

TEST_F(AnswerTest, TenantHomeRegionIsNeverOptedOutAndRulesStillApply) {
  // A US client of globex (home jp): only jp DCs, none is a us candidate: topped up, nearest
  // to the us reference point first (Tokyo 9717 km, Osaka 10045 km).
  Answer a = Get("US", "globex");
  EXPECT_THAT(Prim(a), IsEmpty());
  EXPECT_THAT(Sec(a), ElementsAre("jp-tyo", "jp-osa"));
  EXPECT_TRUE(a.fallback_active);
  // A tenant listing no region still has its home region.
  tenants_.push_back({"home-only", "jp", {}});
  EXPECT_THAT(Sec(Get("US", "home-only")), ElementsAre("jp-tyo", "jp-osa"));
  // A tenant allowing cn does not beat the cn-sovereign rule.
  tenants_.push_back({"wants-cn", "us", {"cn"}});
  Answer c = Get("US", "wants-cn");
  for (const Pick& p : c.secondaries) EXPECT_NE(topo_->dc(p.dc).region, "cn");
  EXPECT_THAT(Sec(c), IsEmpty());  // configured secondaries are ca/latam/eu; top-up: none
  EXPECT_THAT(Prim(c), UnorderedElementsAre("us-sjc", "us-den", "us-nyc", "us-iad"));
}

TEST_F(AnswerTest, UnknownOrEmptyTenantMeansNoRestriction) {
  Answer none = Get("US", "", "k");
  EXPECT_EQ(Get("US", "no-such-tenant", "k"), none);
  EXPECT_THAT(Sec(none), ElementsAre("ca-yyz", "ca-yvr", "mx-qro", "eu-ams"));
}

TEST_F(AnswerTest, MaxSecondariesCutsTheList) {
  Answer a = Get("US", "", "client-1", 1);
  EXPECT_THAT(Sec(a), ElementsAre("ca-yyz"));
  Answer b = Get("US", "", "client-1", 3);
  EXPECT_THAT(Sec(b), ElementsAre("ca-yyz", "ca-yvr", "mx-qro"));
  Answer c = Get("US", "", "client-1", 10);
  EXPECT_THAT(Sec(c), ElementsAre("ca-yyz", "ca-yvr", "mx-qro", "eu-ams"));
}

TEST_F(AnswerTest, TopUpWhenSecondariesAreTooFew) {
  // umbrella (eu, us) on a US client: configured eligible = eu-ams only; one top-up: the
  // nearest other allowed DC to the us reference: eu-dub (6706 km) before eu-fra (7761 km).
  Answer a = Get("US", "umbrella");
  EXPECT_THAT(Sec(a), ElementsAre("eu-ams", "eu-dub"));
  const GeoPoint us_ref = topo_->region_config(topo_->RegionIndex("us")).reference;
  EXPECT_LT(DistanceKm(us_ref, topo_->dc(Dc("eu-dub")).location),
            DistanceKm(us_ref, topo_->dc(Dc("eu-fra")).location));
  // No top-up once the minimum is met.
  World w = testing::ExampleWorld();
  w.thresholds.min_secondaries = 1;
  Reset(std::move(w));
  EXPECT_THAT(Sec(Get("US", "umbrella")), ElementsAre("eu-ams"));
}

TEST_F(AnswerTest, SecondaryOrderCongestionFirstThenConfiguredThenTopUps) {
  // India: configured sg-sin, eu-fra, jp-tyo; minimum 4 -> one top-up (hk-hkg, 3641 km;
  // cn-* nearer but denied, sg-sin already configured).
  World w = testing::ExampleWorld();
  w.thresholds.min_secondaries = 4;
  Reset(std::move(w));
  EXPECT_THAT(Sec(Get("IN")), ElementsAre("sg-sin", "eu-fra", "jp-tyo", "hk-hkg"));
  Congest("sg-sin");
  Answer a = Get("IN");
  EXPECT_THAT(Sec(a), ElementsAre("eu-fra", "jp-tyo", "hk-hkg", "sg-sin"));
  EXPECT_TRUE(a.secondaries[3].congested);
  EXPECT_FALSE(a.secondaries[2].congested);
  // A congested top-up comes only when no non-congested one exists, and last.
  Congest("hk-hkg");
  Answer b = Get("IN");
  EXPECT_THAT(Sec(b), ElementsAre("eu-fra", "jp-tyo", "jp-osa", "sg-sin"));
  // The nearest non-congested eligible DC after hk-hkg (3641 km) is jp-osa (5710 km).
  DownRegion("jp");
  DownRegion("eu");
  DownRegion("au");
  DownRegion("ca");
  DownRegion("us");
  DownRegion("latam");
  Answer c = Get("IN");
  EXPECT_THAT(Sec(c), ElementsAre("sg-sin", "hk-hkg"));  // configured congested, then top-up
}

TEST_F(AnswerTest, CongestedPrimariesComeLast) {
  Congest("us-sjc");
  for (int k = 0; k < 50; ++k) {
    Answer a = Get("US", "", absl::StrCat("client-", k));
    ASSERT_EQ(a.primaries.size(), 4u);
    EXPECT_EQ(topo_->dc(a.primaries[3].dc).id, "us-sjc");
    EXPECT_TRUE(a.primaries[3].congested);
    EXPECT_FALSE(a.fallback_active);
  }
}

TEST_F(AnswerTest, PrimaryOrderIsStablePerClientAndSpreadAcrossClients) {
  std::vector<int> first(topo_->dc_count(), 0);
  for (int k = 0; k < 400; ++k) {
    const std::string id = absl::StrCat("client-", k);
    Answer a = Get("US", "", id);
    EXPECT_EQ(Get("US", "", id), a);
    ++first[a.primaries[0].dc];
  }
  // Every US DC is somebody's first choice.
  for (const char* id : {"us-sjc", "us-den", "us-nyc", "us-iad"}) EXPECT_GT(first[Dc(id)], 40);
}

TEST_F(AnswerTest, PrimaryOrderIsTheRendezvousOrder) {
  auto s = Snap();
  Answer a = ComputeAnswer(*s, {"US", "", "client-9", 0});
  const uint64_t c = StableHash64("client-9");
  // us has four primaries (us-sjc, us-den, us-nyc, us-iad), all healthy: three comparisons.
  ASSERT_EQ(a.primaries.size(), 4u);
  for (size_t k = 1; k < a.primaries.size(); ++k) {
    const uint32_t i = a.primaries[k - 1].dc, j = a.primaries[k].dc;
    EXPECT_GT(RendezvousScore(c, s->topology->dc_id_hash(i), s->dcs[i].weight),
              RendezvousScore(c, s->topology->dc_id_hash(j), s->dcs[j].weight));
  }
}

TEST_F(AnswerTest, CountryNotMapped) {
  // With the default region: served as a us client.
  Answer a = Get("ZA");
  EXPECT_EQ(a.region, topo_->RegionIndex("us"));
  EXPECT_EQ(a.error, AnswerError::kNone);
  World w = testing::ExampleWorld();
  w.default_region.reset();
  Reset(std::move(w));
  Answer b = Get("ZA");
  EXPECT_EQ(b.error, AnswerError::kCountryNotMapped);
  EXPECT_EQ(ReasonToken(b.error), "COUNTRY_NOT_MAPPED");
  EXPECT_EQ(b.region, kNoIndex);
  EXPECT_EQ(ReasonToken(AnswerError::kNone), "");
}

TEST_F(AnswerTest, EmptyStoreIsUnavailable) {
  health_.clear();
  Answer a = Get("US");
  EXPECT_EQ(a.error, AnswerError::kNoHealthyCompliantDatacenter);
}

TEST_F(AnswerTest, ExplainVerdicts) {
  Set("us-nyc", HealthStatus::kDown);
  Set("us-iad", HealthStatus::kDraining);
  health_.erase("ca-yvr");
  Congest("us-den");
  tenants_.push_back({"t", "us", {"ca", "latam", "cn"}});
  auto s = Snap();
  Explanation ex = Explain(*s, {"US", "t", "client-1", 1});
  ASSERT_NE(ex.tenant, nullptr);
  EXPECT_EQ(ex.tenant->tenant_id, "t");
  EXPECT_EQ(ex.answer, ComputeAnswer(*s, {"US", "t", "client-1", 1}));
  ASSERT_EQ(ex.verdicts.size(), 21u);
  auto v = [&](const char* id) { return ex.verdicts[Dc(id)]; };
  EXPECT_EQ(v("cn-pek").kind, VerdictKind::kExcluded);
  EXPECT_EQ(v("cn-pek").reason, VerdictReason::kDenyRule);  // rule beats tenant control
  EXPECT_EQ(v("cn-pek").rule_index, 0);
  EXPECT_EQ(v("eu-ams").reason, VerdictReason::kTenantControl);
  EXPECT_EQ(v("eu-ams").rule_index, -1);
  EXPECT_EQ(v("us-nyc").reason, VerdictReason::kStatus);
  EXPECT_EQ(v("us-iad").reason, VerdictReason::kStatus);
  EXPECT_EQ(v("ca-yvr").reason, VerdictReason::kExpired);
  EXPECT_EQ(v("us-sjc").kind, VerdictKind::kPrimary);
  EXPECT_EQ(v("us-sjc").reason, VerdictReason::kCandidate);
  EXPECT_EQ(v("us-sjc").rank, 1u);
  EXPECT_EQ(v("us-den").kind, VerdictKind::kPrimary);
  EXPECT_EQ(v("us-den").reason, VerdictReason::kCongested);
  EXPECT_EQ(v("us-den").rank, 2u);
  EXPECT_EQ(v("ca-yyz").kind, VerdictKind::kSecondary);
  EXPECT_EQ(v("ca-yyz").reason, VerdictReason::kCandidate);
  EXPECT_EQ(v("ca-yyz").rank, 1u);
  EXPECT_TRUE(v("ca-yyz").cross_border);
  EXPECT_EQ(v("mx-qro").kind, VerdictKind::kExcluded);
  EXPECT_EQ(v("mx-qro").reason, VerdictReason::kCutByMaxSecondaries);
  EXPECT_EQ(v("br-gru").reason, VerdictReason::kNotACandidate);
  EXPECT_EQ(v("br-gru").kind, VerdictKind::kExcluded);
  EXPECT_FALSE(v("us-sjc").cross_border);
}

TEST_F(AnswerTest, ExplainMarksTopUps) {
  auto s = Snap();
  Explanation ex = Explain(*s, {"US", "umbrella", "k", 0});
  EXPECT_EQ(ex.verdicts[Dc("eu-ams")].reason, VerdictReason::kCandidate);
  EXPECT_EQ(ex.verdicts[Dc("eu-dub")].kind, VerdictKind::kSecondary);
  EXPECT_EQ(ex.verdicts[Dc("eu-dub")].reason, VerdictReason::kTopUp);
  EXPECT_EQ(ex.verdicts[Dc("eu-dub")].rank, 2u);
  EXPECT_EQ(ex.verdicts[Dc("eu-fra")].reason, VerdictReason::kNotACandidate);
  EXPECT_EQ(ex.verdicts[Dc("ca-yyz")].reason, VerdictReason::kTenantControl);
}

TEST_F(AnswerTest, ExplainOnErrors) {
  auto s = Snap();
  Explanation ex = Explain(*s, {"DE", "globex", "k", 0});
  EXPECT_EQ(ex.answer.error, AnswerError::kNoCompliantDatacenter);
  EXPECT_EQ(ex.verdicts[Dc("jp-tyo")].reason, VerdictReason::kDenyRule);
  EXPECT_EQ(ex.verdicts[Dc("jp-tyo")].rule_index, 2);  // eu-residency
  EXPECT_EQ(ex.verdicts[Dc("eu-fra")].reason, VerdictReason::kTenantControl);
}

}  // namespace
}  // namespace dcdir::core

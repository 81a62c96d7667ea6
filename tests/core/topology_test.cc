#include "service/core/topology.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/core/ranking.h"
#include "tests/core/core_test_util.h"
#include "tests/testing/example_world.h"

namespace dcdir::core {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

void ExpectInvalid(World w, const std::string& names) {
  auto t = Topology::Compile(std::move(w));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(t.status().message(), HasSubstr(names));
}

TEST(TopologyCompileTest, ExampleWorldCompiles) {
  auto t = MustCompile(testing::ExampleWorld());
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->dc_count(), 21u);
  EXPECT_EQ(t->region_count(), 10u);
  EXPECT_EQ(t->DcIndex("us-sjc"), 0u);
  EXPECT_EQ(t->DcIndex("cn-sha"), 20u);
  EXPECT_EQ(t->DcIndex("nope"), kNoIndex);
  EXPECT_EQ(t->RegionIndex("ca"), 1u);
  EXPECT_EQ(t->RegionIndex("nope"), kNoIndex);
  EXPECT_EQ(t->dc_region()[t->DcIndex("eu-dub")], t->RegionIndex("eu"));
  const CompiledRegion& us = t->region(t->RegionIndex("us"));
  EXPECT_THAT(us.primaries, ElementsAre(0u, 1u, 2u, 3u));
  EXPECT_THAT(us.secondaries, ElementsAre(t->DcIndex("ca-yyz"), t->DcIndex("ca-yvr"),
                                          t->DcIndex("mx-qro"), t->DcIndex("eu-ams")));
  EXPECT_TRUE(us.primary_set.Contains(2));
  EXPECT_FALSE(us.primary_set.Contains(4));
  EXPECT_TRUE(us.members.Contains(3));
  EXPECT_FALSE(us.members.Contains(4));
}

TEST(TopologyCompileTest, HomeRegionMappingThenDefault) {
  auto t = MustCompile(testing::ExampleWorld());
  EXPECT_EQ(t->HomeRegion("DE"), t->RegionIndex("eu"));
  EXPECT_EQ(t->HomeRegion("CN"), t->RegionIndex("cn"));
  EXPECT_EQ(t->HomeRegion("ZA"), t->RegionIndex("us"));  // default region
  World w = testing::ExampleWorld();
  w.default_region.reset();
  auto t2 = MustCompile(std::move(w));
  EXPECT_EQ(t2->HomeRegion("ZA"), kNoIndex);
}

TEST(TopologyCompileTest, ClassesPreEvaluateTheRules) {
  auto t = MustCompile(testing::ExampleWorld());
  const uint32_t pek = t->DcIndex("cn-pek");
  const uint32_t sjc = t->DcIndex("us-sjc");
  const uint32_t fra = t->DcIndex("eu-fra");
  const ClientClass& us = t->ClassFor("US", t->HomeRegion("US"));
  EXPECT_FALSE(us.allowed.Contains(pek));
  EXPECT_EQ(us.denying_rule[pek], 0);  // cn-sovereign
  EXPECT_TRUE(us.allowed.Contains(sjc));
  EXPECT_EQ(us.denying_rule[sjc], -1);
  const ClientClass& cn = t->ClassFor("CN", t->HomeRegion("CN"));
  EXPECT_TRUE(cn.allowed.Contains(pek));
  EXPECT_EQ(cn.denying_rule[sjc], 1);  // cn-residency
  const ClientClass& de = t->ClassFor("DE", t->HomeRegion("DE"));
  EXPECT_EQ(de.denying_rule[sjc], 2);  // eu-residency
  EXPECT_EQ(de.denying_rule[pek], 0);  // cn-sovereign comes first
  EXPECT_TRUE(de.allowed.Contains(fra));
  // An unmapped country: the "other country" class of the default region.
  const ClientClass& za = t->ClassFor("ZA", t->HomeRegion("ZA"));
  EXPECT_FALSE(za.allowed.Contains(pek));
  EXPECT_TRUE(za.allowed.Contains(fra));
}

TEST(TopologyCompileTest, CountriesNamedOnlyInRulesGetTheirOwnClass) {
  World w = testing::ExampleWorld();
  // Unmapped ZA (served by the default region us) may not use eu-dub.
  w.deny_rules.push_back({"za-no-dub",
                          {Condition{SelectorField::kCountry, false, {"ZA"}}},
                          {Condition{SelectorField::kDataCenter, false, {"eu-dub"}}}});
  auto t = MustCompile(std::move(w));
  const uint32_t dub = t->DcIndex("eu-dub");
  EXPECT_EQ(t->ClassFor("ZA", t->HomeRegion("ZA")).denying_rule[dub], 3);
  EXPECT_TRUE(t->ClassFor("ZW", t->HomeRegion("ZW")).allowed.Contains(dub));
  EXPECT_TRUE(t->ClassFor("US", t->HomeRegion("US")).allowed.Contains(dub));
}

// Who a region's clients are, in the documented order, each class with its rules evaluated.
TEST(TopologyCompileTest, ClientClassesListEveryClassOfARegionInOrder) {
  World w;
  w.regions = {{"a", "A", {0, 0}, {"a1"}, {}}, {"b", "B", {0, 0}, {"b1"}, {}}};
  w.datacenters = {{"a1", "a", "AA", "", {0, 0}, {}, 1}, {"b1", "b", "BB", "", {0, 1}, {}, 1}};
  w.countries = {{"CC", "a"}, {"BB", "b"}, {"AA", "a"}};
  w.default_region = "a";
  w.deny_rules = {
      {"xx-no-b1",
       {Condition{SelectorField::kCountry, false, {"XX", "AA"}}},
       {Condition{SelectorField::kDataCenter, false, {"b1"}}}},
      {"others-no-a1",
       {Condition{SelectorField::kCountry, true, {"AA", "BB", "CC", "XX"}}},
       {Condition{SelectorField::kDataCenter, false, {"a1"}}}},
  };
  w.subdivisions = {Subdivision{"AA-01", "b", std::nullopt}, Subdivision{"AA-02", {}, {}}};
  auto t = MustCompile(std::move(w));
  const uint32_t a1 = t->DcIndex("a1");
  const uint32_t b1 = t->DcIndex("b1");

  const std::vector<const ClientClass*>& a = t->client_classes(t->RegionIndex("a"));
  ASSERT_EQ(a.size(), 4u);
  EXPECT_EQ(a[0]->kind, ClientClassKind::kMappedCountry);
  EXPECT_EQ(a[0]->country, "CC");
  EXPECT_EQ(a[1]->kind, ClientClassKind::kMappedCountry);
  EXPECT_EQ(a[1]->country, "AA");
  EXPECT_EQ(a[1]->denying_rule[b1], 0);  // xx-no-b1 names AA too
  EXPECT_FALSE(a[1]->allowed.Contains(b1));
  EXPECT_EQ(a[2]->kind, ClientClassKind::kRuleNamedCountry);
  EXPECT_EQ(a[2]->country, "XX");
  EXPECT_EQ(a[2]->denying_rule[b1], 0);
  EXPECT_EQ(a[2]->denying_rule[a1], -1);
  EXPECT_EQ(a[3]->kind, ClientClassKind::kAnyOtherCountry);
  EXPECT_EQ(a[3]->country, "");
  EXPECT_EQ(a[3]->denying_rule[a1], 1);  // the negated selector matches any other country
  EXPECT_EQ(a[3]->denying_rule[b1], -1);
  EXPECT_FALSE(a[3]->allowed.Contains(a1));
  EXPECT_TRUE(a[3]->allowed.Contains(b1));
  for (const ClientClass* cls : a) EXPECT_EQ(cls->region, t->RegionIndex("a"));
  // The classes are the ones the answer resolves clients to.
  EXPECT_EQ(t->Resolve("CC", "").cls, a[0]);
  EXPECT_EQ(t->Resolve("XX", "").cls, a[2]);
  EXPECT_EQ(t->Resolve("ZA", "").cls, a[3]);

  const std::vector<const ClientClass*>& b = t->client_classes(t->RegionIndex("b"));
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0]->kind, ClientClassKind::kMappedCountry);
  EXPECT_EQ(b[0]->country, "BB");
  EXPECT_EQ(b[1]->kind, ClientClassKind::kSubdivision);
  EXPECT_EQ(b[1]->country, "AA");
  EXPECT_EQ(b[1]->subdivision, "AA-01");
  EXPECT_EQ(b[1]->region, t->RegionIndex("b"));
  EXPECT_EQ(b[1]->denying_rule[b1], 0);  // its clients are still AA's
  EXPECT_EQ(t->Resolve("AA", "AA-01").cls, b[1]);
}

TEST(TopologyCompileTest, NoDefaultRegionNoOtherCountryClass) {
  World w = testing::ExampleWorld();
  w.default_region.reset();
  auto t = MustCompile(std::move(w));
  for (uint32_t r = 0; r < t->region_count(); ++r) {
    for (const ClientClass* cls : t->client_classes(r)) {
      EXPECT_EQ(cls->kind, ClientClassKind::kMappedCountry) << cls->country;
    }
  }
}

TEST(TopologyCompileTest, ByDistanceNearestFirstTiesByIndex) {
  World w;
  w.regions = {{"r", "R", {0, 0}, {"far"}, {}}};
  w.datacenters = {{"far", "r", "AA", "", {0, 10}, {}, 1},
                   {"tie-b", "r", "AA", "", {0, 1}, {}, 1},
                   {"tie-a", "r", "AA", "", {0, -1}, {}, 1},
                   {"near", "r", "AA", "", {0, 0.5}, {}, 1}};
  auto t = MustCompile(std::move(w));
  EXPECT_THAT(t->region(0).by_distance, ElementsAre(3u, 1u, 2u, 0u));

  auto ex = MustCompile(testing::ExampleWorld());
  const CompiledRegion& us = ex->region(ex->RegionIndex("us"));
  ASSERT_EQ(us.by_distance.size(), 21u);
  for (size_t k = 1; k < us.by_distance.size(); ++k) {
    EXPECT_LE(DistanceKm(ex->region_config(0).reference, ex->dc(us.by_distance[k - 1]).location),
              DistanceKm(ex->region_config(0).reference, ex->dc(us.by_distance[k]).location));
  }
  EXPECT_EQ(ex->dc(us.by_distance[0]).id, "us-den");
}

TEST(TopologyCompileTest, DcsInRegions) {
  auto t = MustCompile(testing::ExampleWorld());
  DcSet s = t->DcsInRegions({t->RegionIndex("jp"), t->RegionIndex("au")});
  for (uint32_t i = 0; i < t->dc_count(); ++i) {
    const std::string& r = t->dc(i).region;
    EXPECT_EQ(s.Contains(i), r == "jp" || r == "au") << t->dc(i).id;
  }
}

TEST(TopologyValidationTest, DuplicateDcId) {
  World w = testing::ExampleWorld();
  w.datacenters.push_back(w.datacenters[3]);
  ExpectInvalid(std::move(w), "duplicate datacenter id \"us-iad\"");
}

TEST(TopologyValidationTest, DuplicateRegionId) {
  World w = testing::ExampleWorld();
  w.regions.push_back(w.regions[1]);
  ExpectInvalid(std::move(w), "duplicate region id \"ca\"");
}

TEST(TopologyValidationTest, DcInUnknownRegion) {
  World w = testing::ExampleWorld();
  w.datacenters[2].region = "mars";
  ExpectInvalid(std::move(w), "\"us-nyc\" names unknown region \"mars\"");
}

TEST(TopologyValidationTest, UnknownPrimaryAndSecondary) {
  World w = testing::ExampleWorld();
  w.regions[0].primaries.push_back("us-lax");
  ExpectInvalid(std::move(w), "unknown primary datacenter \"us-lax\"");
  World w2 = testing::ExampleWorld();
  w2.regions[0].secondaries.push_back("ca-yul");
  ExpectInvalid(std::move(w2), "unknown secondary datacenter \"ca-yul\"");
}

TEST(TopologyValidationTest, DuplicateCandidate) {
  World w = testing::ExampleWorld();
  w.regions[0].secondaries.push_back("ca-yyz");
  ExpectInvalid(std::move(w), "secondary datacenter \"ca-yyz\" twice");
}

TEST(TopologyValidationTest, CountryMappedToUnknownRegion) {
  World w = testing::ExampleWorld();
  w.countries.emplace_back("ZA", "africa");
  ExpectInvalid(std::move(w), "country \"ZA\" is mapped to unknown region \"africa\"");
}

TEST(TopologyValidationTest, CountryMappedTwice) {
  World w = testing::ExampleWorld();
  w.countries.emplace_back("US", "ca");
  ExpectInvalid(std::move(w), "country \"US\" is mapped twice");
}

TEST(TopologyValidationTest, UnknownDefaultRegion) {
  World w = testing::ExampleWorld();
  w.default_region = "atlantis";
  ExpectInvalid(std::move(w), "default region \"atlantis\"");
}

TEST(TopologyValidationTest, ClientSelectorByDatacenter) {
  World w = testing::ExampleWorld();
  w.deny_rules.push_back(
      {"weird", {Condition{SelectorField::kDataCenter, false, {"us-sjc"}}}, {}});
  ExpectInvalid(std::move(w), "deny rule \"weird\"");
}

TEST(TopologyValidationTest, RuleNamingUnknownRegionOrDc) {
  World w = testing::ExampleWorld();
  w.deny_rules.push_back({"typo", {}, {Condition{SelectorField::kRegion, false, {"cm"}}}});
  ExpectInvalid(std::move(w), "names unknown region \"cm\"");
  World w2 = testing::ExampleWorld();
  w2.deny_rules.push_back(
      {"typo2", {}, {Condition{SelectorField::kDataCenter, true, {"us-sjx"}}}});
  ExpectInvalid(std::move(w2), "names unknown datacenter \"us-sjx\"");
}

}  // namespace
}  // namespace dcdir::core

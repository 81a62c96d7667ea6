// The compliance ratchet (service/core/compliance_diff.h): every kind of loosening a reload can
// carry, and tightening, on the example world.

#include "service/core/compliance_diff.h"

#include <algorithm>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/example_world.h"

namespace dcdir::core {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::shared_ptr<const Topology> Compile(World w, const std::string& version) {
  w.version = version;
  auto t = Topology::Compile(std::move(w));
  EXPECT_TRUE(t.ok()) << t.status();
  return *t;
}

DenyRule* Rule(World& w, const std::string& name) {
  for (DenyRule& r : w.deny_rules) {
    if (r.name == name) return &r;
  }
  ADD_FAILURE() << "no rule " << name;
  return nullptr;
}

// The clients that got `dc` in `pairs`.
std::vector<std::string> ClientsOf(const std::vector<PairChange>& pairs, const std::string& dc) {
  std::vector<std::string> out;
  for (const PairChange& p : pairs) {
    if (p.datacenter == dc) out.push_back(p.client);
  }
  return out;
}

// Clients that only cn-sovereign keeps away from mainland China: every country the example world
// maps outside eu (eu-residency) and cn, any other country (homed in us), and the subdivisions
// of those countries.
size_t OutsideEuAndCn() {
  const World w = testing::ExampleWorld();
  size_t n = 1;  // "any other country" (default region us)
  for (const auto& [country, region] : w.countries) {
    if (region != "eu" && region != "cn") ++n;
  }
  // The world's subdivisions are client keys of their own, homed in their country's region.
  for (const core::Subdivision& sub : w.subdivisions) {
    EXPECT_FALSE(sub.region.has_value()) << sub.code;
    std::string region = *w.default_region;
    for (const auto& [country, r] : w.countries) {
      if (country == sub.code.substr(0, 2)) region = r;
    }
    if (region != "eu" && region != "cn") ++n;
  }
  return n;
}

TEST(ComplianceDiffTest, SameWorldChangesNothing) {
  const auto served = Compile(testing::ExampleWorld(), "0000000000000001");
  const auto next = Compile(testing::ExampleWorld(), "0000000000000002");
  const ComplianceDiff d = DiffCompliance(*served, *next);
  EXPECT_THAT(d.loosened, IsEmpty());
  EXPECT_THAT(d.tightened, IsEmpty());
  EXPECT_FALSE(d.loosens());
}

TEST(ComplianceDiffTest, ADroppedRuleLoosensEveryPairItDenied) {
  World w = testing::ExampleWorld();
  w.deny_rules.erase(w.deny_rules.begin());  // cn-sovereign
  const auto served = Compile(testing::ExampleWorld(), "0000000000000001");
  const auto next = Compile(w, "0000000000000002");
  const ComplianceDiff d = DiffCompliance(*served, *next);
  ASSERT_TRUE(d.loosens());
  // Every client outside eu and cn (27 of countries and 6 subdivisions: eu-residency still keeps
  // Europe's clients home) x both cn DCs.
  EXPECT_EQ(OutsideEuAndCn(), 33u);
  EXPECT_EQ(d.loosened.size(), 2 * OutsideEuAndCn());
  for (const PairChange& p : d.loosened) {
    EXPECT_EQ(p.rule, "cn-sovereign");
    EXPECT_TRUE(p.datacenter == "cn-pek" || p.datacenter == "cn-sha") << p.datacenter;
    EXPECT_NE(p.client, "CN");
  }
  EXPECT_EQ(d.loosened.front(), (PairChange{"PR", "us", "cn-pek", "cn-sovereign"}));
  EXPECT_EQ(RuleFate(*served, *next, "cn-sovereign"), "removed");
  EXPECT_THAT(d.tightened, IsEmpty());
}

TEST(ComplianceDiffTest, ANarrowedSelectorLoosensWhatItNoLongerCovers) {
  World w = testing::ExampleWorld();
  Rule(w, "cn-sovereign")->datacenters = {
      Condition{SelectorField::kDataCenter, false, {"cn-sha"}}};
  const auto served = Compile(testing::ExampleWorld(), "0000000000000001");
  const auto next = Compile(w, "0000000000000002");
  const ComplianceDiff d = DiffCompliance(*served, *next);
  EXPECT_EQ(ClientsOf(d.loosened, "cn-sha").size(), 0u);
  EXPECT_EQ(ClientsOf(d.loosened, "cn-pek").size(), OutsideEuAndCn());  // all but CN, + other
  EXPECT_EQ(RuleFate(*served, *next, "cn-sovereign"), "changed");
}

TEST(ComplianceDiffTest, ACountryMovedToAnotherRegionLoosensAndTightens) {
  World w = testing::ExampleWorld();
  for (auto& [country, region] : w.countries) {
    if (country == "MO") region = "cn";  // Macau's clients now homed in mainland China
  }
  const auto served = Compile(testing::ExampleWorld(), "0000000000000001");
  const auto next = Compile(w, "0000000000000002");
  const ComplianceDiff d = DiffCompliance(*served, *next);
  EXPECT_THAT(d.loosened, ElementsAre(PairChange{"MO", "cn", "cn-pek", "cn-sovereign"},
                                      PairChange{"MO", "cn", "cn-sha", "cn-sovereign"}));
  EXPECT_EQ(RuleFate(*served, *next, "cn-sovereign"), "unchanged");
  EXPECT_EQ(d.tightened.size(), 19u);  // every DC outside cn, now by cn-residency
  for (const PairChange& p : d.tightened) {
    EXPECT_EQ(p.client, "MO");
    EXPECT_EQ(p.rule, "cn-residency");
  }
}

TEST(ComplianceDiffTest, ASubdivisionGivenItsOwnRegionIsAClientOfTheRatchet) {
  // Shanghai's clients (CN-SH) moved to region us: the cn-residency rule no longer covers them,
  // so every DC outside mainland China is loosened for them; cn's DCs are tightened (cn-sovereign).
  World served_world = testing::ExampleWorld();
  served_world.subdivisions = {{"CN-SH", std::nullopt, GeoPoint{31.23, 121.47}}};
  World next_world = served_world;
  next_world.subdivisions[0].region = "us";
  const auto served = Compile(served_world, "0000000000000001");
  const auto next = Compile(next_world, "0000000000000002");
  const ComplianceDiff d = DiffCompliance(*served, *next);
  ASSERT_EQ(d.loosened.size(), 19u);
  for (const PairChange& p : d.loosened) {
    EXPECT_EQ(p.client, "CN-SH");
    EXPECT_EQ(p.region, "us");
    EXPECT_EQ(p.rule, "cn-residency");
  }
  EXPECT_EQ(d.loosened.front(), (PairChange{"CN-SH", "us", "us-sjc", "cn-residency"}));
  EXPECT_THAT(d.tightened, ElementsAre(PairChange{"CN-SH", "us", "cn-pek", "cn-sovereign"},
                                       PairChange{"CN-SH", "us", "cn-sha", "cn-sovereign"}));
  // The other way round tightens those 19 and loosens cn's two; a point-only subdivision
  // changes nothing.
  EXPECT_EQ(DiffCompliance(*next, *served).tightened.size(), 19u);
  World point_only = served_world;
  point_only.subdivisions[0].point = GeoPoint{31.0, 121.0};
  EXPECT_FALSE(DiffCompliance(*served, *Compile(point_only, "0000000000000003")).loosens());
}

TEST(ComplianceDiffTest, ADcMovedToAnotherRegionLoosens) {
  World w = testing::ExampleWorld();
  for (DataCenter& dc : w.datacenters) {
    if (dc.id == "cn-pek") dc.region = "hk";
  }
  for (Region& r : w.regions) {
    if (r.id == "cn") r.primaries = {"cn-sha"};
  }
  const auto served = Compile(testing::ExampleWorld(), "0000000000000001");
  const auto next = Compile(w, "0000000000000002");
  const ComplianceDiff d = DiffCompliance(*served, *next);
  EXPECT_EQ(ClientsOf(d.loosened, "cn-pek").size(), OutsideEuAndCn());
  EXPECT_THAT(ClientsOf(d.loosened, "cn-sha"), IsEmpty());
  // ... and mainland-China clients lose it (cn-residency now denies a DC outside cn).
  EXPECT_THAT(d.tightened, ElementsAre(PairChange{"CN", "cn", "cn-pek", "cn-residency"}));
}

TEST(ComplianceDiffTest, ANewDcTheServedRulesWouldDenyIsALoosening) {
  // The served rules deny region cn's DCs to outsiders; the new config adds a mainland DC in a
  // new region "cn2" and no rule about it.
  World w = testing::ExampleWorld();
  w.regions.push_back(Region{"cn2", "Mainland China 2", {23.13, 113.26}, {"cn-can"}, {}});
  w.datacenters.push_back(DataCenter{"cn-can", "cn2", "CN", "Guangzhou", {23.13, 113.26},
                                     {"gw.cn-can.dcdir.example:443"}, 100000});
  const auto served = Compile(testing::ExampleWorld(), "0000000000000001");
  const auto next = Compile(w, "0000000000000002");
  // The served rules select by region id: cn2 is not cn, so they would not deny cn-can either:
  // no loosening (a rule that should cover it must say so, e.g. by country).
  EXPECT_FALSE(DiffCompliance(*served, *next).loosens());
  // A served rule selecting by country would have denied it: now a loosening.
  World by_country = testing::ExampleWorld();
  Rule(by_country, "cn-sovereign")->datacenters = {
      Condition{SelectorField::kCountry, false, {"CN"}}};
  World next_by_country = w;
  Rule(next_by_country, "cn-sovereign")->datacenters = {
      Condition{SelectorField::kRegion, false, {"cn"}}};
  const auto served2 = Compile(by_country, "0000000000000003");
  const auto next2 = Compile(next_by_country, "0000000000000004");
  const ComplianceDiff d = DiffCompliance(*served2, *next2);
  EXPECT_EQ(ClientsOf(d.loosened, "cn-can").size(), OutsideEuAndCn());
  EXPECT_THAT(ClientsOf(d.loosened, "cn-pek"), IsEmpty());
}

TEST(ComplianceDiffTest, ANewRuleOnlyTightens) {
  World w = testing::ExampleWorld();
  w.deny_rules.push_back(DenyRule{"jp-no-hk", {Condition{SelectorField::kCountry, false, {"JP"}}},
                                  {Condition{SelectorField::kDataCenter, false, {"hk-hkg"}}}});
  const auto served = Compile(testing::ExampleWorld(), "0000000000000001");
  const auto next = Compile(w, "0000000000000002");
  const ComplianceDiff d = DiffCompliance(*served, *next);
  EXPECT_FALSE(d.loosens());
  EXPECT_THAT(d.tightened, ElementsAre(PairChange{"JP", "jp", "hk-hkg", "jp-no-hk"}));
}

}  // namespace
}  // namespace dcdir::core

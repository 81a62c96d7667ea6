#include "service/core/policy.h"

#include <vector>

#include "gtest/gtest.h"
#include "service/core/model.h"

namespace dcdir::core {
namespace {

DataCenter Dc(std::string id, std::string region, std::string country) {
  DataCenter dc;
  dc.id = std::move(id);
  dc.region = std::move(region);
  dc.country = std::move(country);
  dc.capacity_sessions = 1;
  return dc;
}

Condition In(SelectorField f, std::vector<std::string> v) { return {f, false, std::move(v)}; }
Condition NotIn(SelectorField f, std::vector<std::string> v) { return {f, true, std::move(v)}; }

const DataCenter kCnPek = Dc("cn-pek", "cn", "CN");
const DataCenter kUsSjc = Dc("us-sjc", "us", "US");
const ClientKey kUsClient{"US", "us"};
const ClientKey kCnClient{"CN", "cn"};

TEST(PolicyTest, ClientRegionInAndNotIn) {
  DenyRule in{"r", {In(SelectorField::kRegion, {"cn"})}, {}};
  EXPECT_TRUE(RuleDenies(in, kCnClient, kUsSjc));
  EXPECT_FALSE(RuleDenies(in, kUsClient, kUsSjc));
  DenyRule not_in{"r", {NotIn(SelectorField::kRegion, {"cn"})}, {}};
  EXPECT_FALSE(RuleDenies(not_in, kCnClient, kUsSjc));
  EXPECT_TRUE(RuleDenies(not_in, kUsClient, kUsSjc));
}

TEST(PolicyTest, ClientCountryLooksAtCountryNotRegion) {
  DenyRule in{"r", {In(SelectorField::kCountry, {"PR"})}, {}};
  EXPECT_TRUE(RuleDenies(in, ClientKey{"PR", "us"}, kUsSjc));
  EXPECT_FALSE(RuleDenies(in, ClientKey{"US", "us"}, kUsSjc));
  DenyRule not_in{"r", {NotIn(SelectorField::kCountry, {"PR"})}, {}};
  EXPECT_FALSE(RuleDenies(not_in, ClientKey{"PR", "us"}, kUsSjc));
  EXPECT_TRUE(RuleDenies(not_in, ClientKey{"US", "us"}, kUsSjc));
}

TEST(PolicyTest, DataCenterRegionCountryAndId) {
  DenyRule region{"r", {}, {In(SelectorField::kRegion, {"cn"})}};
  EXPECT_TRUE(RuleDenies(region, kUsClient, kCnPek));
  EXPECT_FALSE(RuleDenies(region, kUsClient, kUsSjc));
  DenyRule country{"r", {}, {In(SelectorField::kCountry, {"US"})}};
  EXPECT_FALSE(RuleDenies(country, kUsClient, kCnPek));
  EXPECT_TRUE(RuleDenies(country, kUsClient, kUsSjc));
  DenyRule id{"r", {}, {In(SelectorField::kDataCenter, {"us-sjc", "xx-yyy"})}};
  EXPECT_FALSE(RuleDenies(id, kUsClient, kCnPek));
  EXPECT_TRUE(RuleDenies(id, kUsClient, kUsSjc));
  DenyRule not_id{"r", {}, {NotIn(SelectorField::kDataCenter, {"us-sjc"})}};
  EXPECT_TRUE(RuleDenies(not_id, kUsClient, kCnPek));
  EXPECT_FALSE(RuleDenies(not_id, kUsClient, kUsSjc));
  DenyRule not_country{"r", {}, {NotIn(SelectorField::kCountry, {"US"})}};
  EXPECT_TRUE(RuleDenies(not_country, kUsClient, kCnPek));
  EXPECT_FALSE(RuleDenies(not_country, kUsClient, kUsSjc));
}

TEST(PolicyTest, EmptySidesMatchEverything) {
  DenyRule all{"deny-all", {}, {}};
  EXPECT_TRUE(RuleDenies(all, kUsClient, kUsSjc));
  EXPECT_TRUE(RuleDenies(all, kCnClient, kCnPek));
}

TEST(PolicyTest, EmptyValueListInNeverMatchesNotInAlwaysMatches) {
  DenyRule in_nothing{"r", {In(SelectorField::kRegion, {})}, {}};
  EXPECT_FALSE(RuleDenies(in_nothing, kUsClient, kUsSjc));
  DenyRule not_in_nothing{"r", {NotIn(SelectorField::kRegion, {})}, {}};
  EXPECT_TRUE(RuleDenies(not_in_nothing, kUsClient, kUsSjc));
}

TEST(PolicyTest, EveryConditionOfBothSidesMustMatch) {
  // Clients of region us and country PR, DCs of region cn but not cn-sha.
  DenyRule rule{"r",
                {In(SelectorField::kRegion, {"us"}), In(SelectorField::kCountry, {"PR"})},
                {In(SelectorField::kRegion, {"cn"}), NotIn(SelectorField::kDataCenter, {"cn-sha"})}};
  const ClientKey pr{"PR", "us"};
  EXPECT_TRUE(RuleDenies(rule, pr, kCnPek));
  EXPECT_FALSE(RuleDenies(rule, pr, Dc("cn-sha", "cn", "CN")));  // 2nd DC condition fails
  EXPECT_FALSE(RuleDenies(rule, pr, kUsSjc));                    // 1st DC condition fails
  EXPECT_FALSE(RuleDenies(rule, kUsClient, kCnPek));             // 2nd client condition fails
  EXPECT_FALSE(RuleDenies(rule, ClientKey{"PR", "latam"}, kCnPek));  // 1st client condition
}

TEST(PolicyTest, SidesSeparately) {
  DenyRule rule{"r", {In(SelectorField::kRegion, {"us"})}, {In(SelectorField::kRegion, {"cn"})}};
  EXPECT_TRUE(ClientSideMatches(rule, kUsClient));
  EXPECT_FALSE(ClientSideMatches(rule, kCnClient));
  EXPECT_TRUE(DcSideMatches(rule, kCnPek));
  EXPECT_FALSE(DcSideMatches(rule, kUsSjc));
  DenyRule empty{"e", {}, {}};
  EXPECT_TRUE(ClientSideMatches(empty, kCnClient));
  EXPECT_TRUE(DcSideMatches(empty, kUsSjc));
}

TEST(PolicyTest, ClientSideDataCenterConditionNeverMatches) {
  DenyRule rule{"bad", {In(SelectorField::kDataCenter, {"us-sjc"})}, {}};
  EXPECT_FALSE(RuleDenies(rule, kUsClient, kUsSjc));
}

TEST(PolicyTest, FirstDenyingRuleIsTheFirstInFileOrder) {
  std::vector<DenyRule> rules = {
      {"not-this", {In(SelectorField::kRegion, {"eu"})}, {}},
      {"first", {}, {In(SelectorField::kRegion, {"cn"})}},
      {"second", {}, {In(SelectorField::kCountry, {"CN"})}},
  };
  const DenyRule* r = FirstDenyingRule(rules, kUsClient, kCnPek);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->name, "first");
  EXPECT_EQ(r, &rules[1]);
  EXPECT_EQ(FirstDenyingRule(rules, kUsClient, kUsSjc), nullptr);
  EXPECT_EQ(FirstDenyingRule({}, kUsClient, kUsSjc), nullptr);
}

}  // namespace
}  // namespace dcdir::core

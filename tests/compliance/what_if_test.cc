#include "service/config/what_if.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/config/config_loader.h"
#include "service/config/tenants_file.h"
#include "service/config/what_if_render.h"
#include "service/core/topology.h"

namespace dcdir::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::shared_ptr<const core::Topology> ExampleWorld() {
  auto world = LoadWorldFile(DCDIR_WORLD_YAML);
  EXPECT_TRUE(world.ok()) << world.status();
  auto topology = core::Topology::Compile(*std::move(world));
  EXPECT_TRUE(topology.ok()) << topology.status();
  return *topology;
}

const FailureScenario& Scenario(const std::vector<FailureScenario>& all, const std::string& r) {
  for (const FailureScenario& s : all) {
    if (s.failed_region == r) return s;
  }
  ADD_FAILURE() << "no scenario " << r;
  return all.front();
}

const ClientRegionOutcome& Client(const FailureScenario& s, const std::string& r) {
  for (const ClientRegionOutcome& c : s.clients) {
    if (c.region == r) return c;
  }
  ADD_FAILURE() << "no client region " << r;
  return s.clients.front();
}

TEST(WhatIfTest, OnlyChinaAndEuropeFailClosedWhenTheirOwnDcsFail) {
  auto topology = ExampleWorld();
  const ComplianceCheck check = CheckCompliance(*topology, {}, 1);
  ASSERT_EQ(check.scenarios.size(), 10u);
  for (const FailureScenario& s : check.scenarios) {
    if (s.failed_region == "cn" || s.failed_region == "eu") {
      EXPECT_THAT(s.fail_closed, ElementsAre(s.failed_region));
    } else {
      EXPECT_THAT(s.fail_closed, IsEmpty()) << "if " << s.failed_region << " fails";
    }
    EXPECT_EQ(s.clients.size(), 10u);
  }
  EXPECT_THAT(check.shortfalls, IsEmpty());
}

TEST(WhatIfTest, UsOutageSendsUsClientsToCanadaAndCanadiansElsewhere) {
  auto topology = ExampleWorld();
  const ComplianceCheck check = CheckCompliance(*topology, {}, 1);
  const FailureScenario& us = Scenario(check.scenarios, "us");
  EXPECT_THAT(us.down, ElementsAre("us-sjc", "us-den", "us-nyc", "us-iad"));
  const ClientRegionOutcome& us_clients = Client(us, "us");
  ASSERT_EQ(us_clients.groups.size(), 1u);
  const ServedGroup& g = us_clients.groups[0];
  EXPECT_THAT(g.countries, ElementsAre("US", "PR"));
  EXPECT_TRUE(g.unmapped);
  EXPECT_EQ(g.error, core::AnswerError::kNone);
  EXPECT_THAT(g.primaries, IsEmpty());
  EXPECT_THAT(g.secondaries, ElementsAre("ca-yyz", "ca-yvr", "mx-qro", "eu-ams"));
  EXPECT_TRUE(g.fallback);
  EXPECT_THAT(g.cross_border, ElementsAre("ca-yyz", "ca-yvr"));
  // Canada keeps its primaries; its US secondaries are gone, eu-ams stays and the list is
  // topped up (min_secondaries 2), never with a mainland-China DC.
  const ClientRegionOutcome& ca = Client(us, "ca");
  ASSERT_EQ(ca.groups.size(), 1u);
  EXPECT_THAT(ca.groups[0].primaries, ElementsAre("ca-yyz", "ca-yvr"));
  EXPECT_FALSE(ca.groups[0].fallback);
  ASSERT_FALSE(ca.groups[0].secondaries.empty());
  EXPECT_EQ(ca.groups[0].secondaries[0], "eu-ams");
  for (const std::string& id : ca.groups[0].secondaries) {
    EXPECT_NE(id.substr(0, 3), "cn-") << id;
    EXPECT_NE(id.substr(0, 3), "us-") << id;
  }
}

TEST(WhatIfTest, CompliantSetsPerRegion) {
  auto topology = ExampleWorld();
  const ComplianceCheck check = CheckCompliance(*topology, {}, 3);
  ASSERT_EQ(check.regions.size(), 10u);
  for (const CompliantSet& s : check.regions) {
    if (s.client_region == "cn") {
      EXPECT_THAT(s.datacenters, ElementsAre("cn-pek", "cn-sha"));
      EXPECT_THAT(s.secondaries, IsEmpty());
    } else if (s.client_region == "eu") {
      EXPECT_THAT(s.datacenters, ElementsAre("eu-ams", "eu-fra", "eu-dub"));
      EXPECT_THAT(s.primaries, ElementsAre("eu-ams", "eu-fra"));
      EXPECT_THAT(s.secondaries, ElementsAre("eu-dub"));
    } else {
      EXPECT_EQ(s.datacenters.size(), 19u) << s.client_region;
    }
  }
  ASSERT_EQ(check.shortfalls.size(), 1u);
  EXPECT_EQ(check.shortfalls[0].client_region, "cn");
  EXPECT_EQ(check.shortfalls[0].compliant, 2u);
  EXPECT_EQ(check.shortfalls[0].tenant, "");
}

TEST(WhatIfTest, TextLinesForTheExampleWorld) {
  auto topology = ExampleWorld();
  const std::string text = ComplianceCheckText(CheckCompliance(*topology, {}, 1));
  const std::vector<std::string> lines = absl::StrSplit(text, '\n');
  std::vector<std::string> cn_lines;
  for (const std::string& line : lines) {
    if (line.rfind("if cn fails: ", 0) == 0) cn_lines.push_back(line);
  }
  ASSERT_EQ(cn_lines.size(), 10u) << text;
  EXPECT_EQ(cn_lines[0], "if cn fails: us → us-sjc, us-den, us-nyc, us-iad, ca-yyz, ca-yvr, "
                         "mx-qro, eu-ams");
  EXPECT_EQ(cn_lines[9], "if cn fails: cn → no compliant DC (fail closed)");
  EXPECT_THAT(text, HasSubstr("\nif us fails: us → ca-yyz, ca-yvr, mx-qro, eu-ams (fallback; "
                              "cross-border: ca-yyz ca-yvr)\n"));
  EXPECT_THAT(text, HasSubstr("\nif eu fails: eu → no compliant DC (fail closed)\n"));
  EXPECT_THAT(text, HasSubstr("\n  cn:      2 compliant DCs; primaries: cn-pek cn-sha; "
                              "secondaries: (none)\n"));
}

TEST(WhatIfTest, TenantWhatIfUsesTheTenantsControl) {
  auto topology = ExampleWorld();
  core::TenantPolicy acme{"acme", "us", {"us", "ca"}};
  const ComplianceCheck check = CheckCompliance(*topology, {acme}, 1);
  ASSERT_EQ(check.tenants.size(), 1u);
  const TenantFacts& t = check.tenants[0];
  const FailureScenario& us = Scenario(t.scenarios, "us");
  const ServedGroup& g = Client(us, "us").groups.at(0);
  EXPECT_THAT(g.secondaries, ElementsAre("ca-yyz", "ca-yvr"));  // mx-qro, eu-ams not allowed
  // acme allows nothing in Europe and eu-residency allows nothing else: FAILED_PRECONDITION in
  // every scenario.
  for (const FailureScenario& s : t.scenarios) {
    EXPECT_EQ(Client(s, "eu").groups.at(0).error, core::AnswerError::kNoCompliantDatacenter)
        << "if " << s.failed_region << " fails";
  }
  EXPECT_THAT(check.shortfalls, IsEmpty());  // acme's home region us has 6 DCs
}

TEST(ParseTenantsTest, ReadsYamlAndJson) {
  auto topology = ExampleWorld();
  auto yaml = ParseTenants(
      "tenants:\n  - tenant_id: acme\n    home_region: eu\n    allowed_regions: [eu, us, eu]\n",
      "t.yaml", *topology);
  ASSERT_TRUE(yaml.ok()) << yaml.status();
  ASSERT_EQ(yaml->size(), 1u);
  EXPECT_EQ((*yaml)[0].tenant_id, "acme");
  EXPECT_EQ((*yaml)[0].home_region, "eu");
  EXPECT_THAT((*yaml)[0].allowed_regions, ElementsAre("eu", "us"));
  auto json = ParseTenants(R"({"tenants": [{"tenant_id": "g", "home_region": "jp"}]})",
                           "t.json", *topology);
  ASSERT_TRUE(json.ok()) << json.status();
  ASSERT_EQ(json->size(), 1u);
  EXPECT_THAT((*json)[0].allowed_regions, IsEmpty());
}

// A tenants file may name regions the config lacks (an export of stored policies after a reload
// removed a region): they are kept and reported, as the server treats such stored policies.
TEST(ParseTenantsTest, RegionsTheConfigLacksAreKeptAndReported) {
  auto topology = ExampleWorld();
  auto parsed = ParseTenants(
      "tenants:\n  - {tenant_id: a, home_region: mars}\n"
      "  - {tenant_id: b, home_region: us, allowed_regions: [eu, atlantis]}\n",
      "t.yaml", *topology);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const ComplianceCheck check = CheckCompliance(*topology, *parsed, 1);
  ASSERT_EQ(check.tenants.size(), 2u);
  EXPECT_TRUE(check.tenants[0].home_unknown);
  EXPECT_THAT(check.tenants[0].unknown_regions, ElementsAre("mars"));
  EXPECT_FALSE(check.tenants[1].home_unknown);
  EXPECT_THAT(check.tenants[1].unknown_regions, ElementsAre("atlantis"));
  ASSERT_EQ(check.shortfalls.size(), 1u);
  EXPECT_EQ(check.shortfalls[0].tenant, "a");
  EXPECT_EQ(check.shortfalls[0].client_region, "mars");
  EXPECT_EQ(check.shortfalls[0].compliant, 0u);
  const std::string text = ComplianceCheckText(check);
  EXPECT_THAT(text, HasSubstr("\ntenant a (home mars, allowed (none)):\n  home region mars does not "
                              "exist in this config: the tenant's clients are refused every DC "
                              "(fail closed)\n"));
  EXPECT_THAT(text, HasSubstr("\ntenant b (home us, allowed eu atlantis):\n  allowed region "
                              "atlantis does not exist in this config: ignored\n"));
  EXPECT_THAT(ComplianceCheckJson(check),
              HasSubstr("\"tenant_id\":\"a\",\"home_region\":\"mars\",\"allowed_regions\":[],"
                        "\"unknown_regions\":[\"mars\"],\"home_region_exists\":false"));
}

TEST(ParseTenantsTest, ErrorsNameFileAndLine) {
  auto topology = ExampleWorld();
  struct Case {
    const char* text;
    const char* message;
  } cases[] = {
      {"tenants:\n  - {tenant_id: a, home_region: us}\n  - {tenant_id: a, home_region: eu}\n",
       "t.yaml:3: tenant `a` is listed twice"},
      {"tenants:\n  - {tenant_id: 'a b', home_region: us}\n",
       "t.yaml:2: tenant_id `a b` must be 1-64 of [A-Za-z0-9._-]"},
      {"tenants:\n  - {tenant_id: a, home: us}\n",
       "t.yaml:2: unknown tenant field `home`"},
      {"tenants:\n  - {home_region: us}\n", "t.yaml:2: tenant_id is required"},
      {"[1, 2]\n", "t.yaml:1: expected a map with a `tenants` list"},
      {"tenants: [\n", "t.yaml:"},
  };
  for (const Case& c : cases) {
    auto parsed = ParseTenants(c.text, "t.yaml", *topology);
    ASSERT_FALSE(parsed.ok()) << c.text;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr(c.message)) << c.text;
  }
}

// A key given twice in one tenant (or `tenants` twice at the top) is refused with file:line, the
// mapping's path and the first occurrence, as the world config loader does: before, the first
// value won silently (a second home_region or allowed_regions was dropped).
TEST(ParseTenantsTest, DuplicateKeysAreRefused) {
  auto topology = ExampleWorld();
  struct Case {
    const char* text;
    const char* message;
  } cases[] = {
      {"tenants:\n"
       "  - {tenant_id: a, home_region: us}\n"
       "  - tenant_id: acme\n"
       "    home_region: us\n"
       "    allowed_regions: [us]\n"
       "    home_region: eu\n",
       "t.yaml:6: duplicate key \"home_region\" in tenants[1] (acme) (first at line 4)"},
      {"tenants:\n"
       "  - tenant_id: acme\n"
       "    allowed_regions: [us, ca]\n"
       "    home_region: us\n"
       "    allowed_regions: [eu]\n",
       "t.yaml:5: duplicate key \"allowed_regions\" in tenants[0] (acme) (first at line 3)"},
      {"tenants:\n"
       "  - tenant_id: acme\n"
       "    tenant_id: globex\n"
       "    home_region: us\n",
       "t.yaml:3: duplicate key \"tenant_id\" in tenants[0] (acme) (first at line 2)"},
      {"{\"tenants\": [{\"tenant_id\": \"a\", \"home_region\": \"us\",\n"
       "               \"update_time\": \"x\", \"update_time\": \"y\"}]}\n",
       "t.yaml:2: duplicate key \"update_time\" in tenants[0] (a) (first at line 2)"},
      {"tenants:\n"
       "  - {tenant_id: a, home_region: us}\n"
       "tenants:\n"
       "  - {tenant_id: b, home_region: eu}\n",
       "t.yaml:3: duplicate key \"tenants\" in the top level (first at line 1)"},
  };
  for (const Case& c : cases) {
    auto parsed = ParseTenants(c.text, "t.yaml", *topology);
    ASSERT_FALSE(parsed.ok()) << c.text;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_EQ(parsed.status().message(), c.message) << c.text;
  }
}

}  // namespace
}  // namespace dcdir::config

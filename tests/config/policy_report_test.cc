#include "service/config/policy_report.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/config/config_loader.h"
#include "service/core/topology.h"

namespace dcdir::config {
namespace {

using ::testing::HasSubstr;

std::shared_ptr<const core::Topology> CompileOrDie(absl::StatusOr<core::World> world) {
  EXPECT_TRUE(world.ok()) << world.status();
  if (!world.ok()) return nullptr;
  absl::StatusOr<std::shared_ptr<const core::Topology>> topology =
      core::Topology::Compile(*std::move(world));
  EXPECT_TRUE(topology.ok()) << topology.status();
  return topology.ok() ? *topology : nullptr;
}

// The lines of the block starting with `first_line` up to the next empty line.
std::vector<std::string> Block(const std::string& report, const std::string& first_line) {
  std::vector<std::string> lines = absl::StrSplit(report, '\n');
  std::vector<std::string> block;
  bool in = false;
  for (const std::string& line : lines) {
    if (line == first_line) in = true;
    if (!in) continue;
    if (line.empty()) break;
    block.push_back(line);
  }
  return block;
}

TEST(PolicyReportTest, ExampleWorldUsRegion) {
  auto topology = CompileOrDie(LoadWorldFile(DCDIR_WORLD_YAML));
  ASSERT_NE(topology, nullptr);
  std::string report = PolicyReport(*topology);
  EXPECT_EQ(Block(report, "region us (United States) [default region]"),
            (std::vector<std::string>{
                "region us (United States) [default region]",
                "  client countries: US PR + any country without a mapping",
                "  primaries:        us-sjc us-den us-nyc us-iad",
                "  secondaries:      ca-yyz ca-yvr mx-qro eu-ams",
                "  excluded for all its clients:",
                "    DATACENTER  REGION  COUNTRY  RULE",
                "    cn-pek      cn      CN       cn-sovereign",
                "    cn-sha      cn      CN       cn-sovereign",
            }))
      << report;
}

TEST(PolicyReportTest, ExampleWorldCnRegion) {
  auto topology = CompileOrDie(LoadWorldFile(DCDIR_WORLD_YAML));
  ASSERT_NE(topology, nullptr);
  std::string report = PolicyReport(*topology);
  EXPECT_EQ(Block(report, "region cn (Mainland China)"),
            (std::vector<std::string>{
                "region cn (Mainland China)",
                "  client countries: CN",
                "  primaries:        cn-pek cn-sha",
                "  secondaries:      (none)",
                "  excluded for all its clients:",
                "    DATACENTER  REGION  COUNTRY  RULE",
                "    us-sjc      us      US       cn-residency",
                "    us-den      us      US       cn-residency",
                "    us-nyc      us      US       cn-residency",
                "    us-iad      us      US       cn-residency",
                "    ca-yyz      ca      CA       cn-residency",
                "    ca-yvr      ca      CA       cn-residency",
                "    br-gru      latam   BR       cn-residency",
                "    mx-qro      latam   MX       cn-residency",
                "    eu-ams      eu      NL       cn-residency",
                "    eu-fra      eu      DE       cn-residency",
                "    eu-dub      eu      IE       cn-residency",
                "    in-bom      in      IN       cn-residency",
                "    in-hyd      in      IN       cn-residency",
                "    sg-sin      sg      SG       cn-residency",
                "    hk-hkg      hk      HK       cn-residency",
                "    jp-tyo      jp      JP       cn-residency",
                "    jp-osa      jp      JP       cn-residency",
                "    au-syd      au      AU       cn-residency",
                "    au-mel      au      AU       cn-residency",
            }))
      << report;
}

TEST(PolicyReportTest, ExampleWorldHeader) {
  auto topology = CompileOrDie(LoadWorldFile(DCDIR_WORLD_YAML));
  ASSERT_NE(topology, nullptr);
  std::string report = PolicyReport(*topology);
  EXPECT_THAT(report, HasSubstr("regions: 10, datacenters: 21, mapped countries: 59\n"));
  EXPECT_THAT(report, HasSubstr("default region: us\n"));
  EXPECT_THAT(report, HasSubstr("deny rules: cn-sovereign cn-residency eu-residency\n"));
  EXPECT_THAT(report, HasSubstr(absl::StrCat("config version: ", topology->world().version)));
}

constexpr char kPerCountryWorld[] = R"(default_region: us
regions:
  - {id: us, name: United States, reference: {lat: 39.83, lon: -98.58}, primaries: [us-sjc], secondaries: [us-nyc]}
  - {id: eu, name: Europe, reference: {lat: 50.11, lon: 8.68}, primaries: [eu-ams]}
datacenters:
  - {id: us-sjc, region: us, country: US, city: San Jose, lat: 37.34, lon: -121.89, endpoints: ["a:1"], capacity_sessions: 1}
  - {id: us-nyc, region: us, country: US, city: New York, lat: 40.71, lon: -74.01, endpoints: ["b:1"], capacity_sessions: 1}
  - {id: eu-ams, region: eu, country: NL, city: Amsterdam, lat: 52.37, lon: 4.9, endpoints: ["c:1"], capacity_sessions: 1}
countries: {US: us, PR: us, DE: eu}
deny_rules:
  - name: pr-stays-home
    clients: {country: {in: [PR]}}
    datacenters: {region: {not_in: [us]}}
)";

TEST(PolicyReportTest, CountriesOfOneRegionThatDifferAreListedApart) {
  auto topology = CompileOrDie(ParseWorld(kPerCountryWorld, "test.yaml"));
  ASSERT_NE(topology, nullptr);
  std::string report = PolicyReport(*topology);
  EXPECT_EQ(Block(report, "region us (United States) [default region]"),
            (std::vector<std::string>{
                "region us (United States) [default region]",
                "  client countries: US PR + any country without a mapping",
                "  primaries:        us-sjc",
                "  secondaries:      us-nyc",
                "  excluded for US + any country without a mapping: none",
                "  excluded for PR:",
                "    DATACENTER  REGION  COUNTRY  RULE",
                "    eu-ams      eu      NL       pr-stays-home",
            }))
      << report;
  EXPECT_EQ(Block(report, "region eu (Europe)"),
            (std::vector<std::string>{
                "region eu (Europe)",
                "  client countries: DE",
                "  primaries:        eu-ams",
                "  secondaries:      (none)",
                "  excluded for all its clients: none",
            }))
      << report;
}

TEST(PolicyReportTest, JsonListsGroupsAndExclusions) {
  auto topology = CompileOrDie(ParseWorld(kPerCountryWorld, "test.yaml"));
  ASSERT_NE(topology, nullptr);
  std::string json = PolicyReportJson(*topology);
  EXPECT_EQ(json,
            absl::StrCat(
                "{\"version\":\"", topology->world().version,
                "\",\"default_region\":\"us\",\"deny_rules\":[\"pr-stays-home\"],\"regions\":["
                "{\"id\":\"us\",\"name\":\"United States\",\"client_countries\":[\"US\",\"PR\"],"
                "\"unmapped_countries\":true,\"primaries\":[\"us-sjc\"],\"secondaries\":"
                "[\"us-nyc\"],\"denied_candidates\":[],\"client_groups\":["
                "{\"countries\":[\"US\"],\"unmapped_countries\":true,\"excluded\":[]},"
                "{\"countries\":[\"PR\"],\"unmapped_countries\":false,\"excluded\":["
                "{\"datacenter\":\"eu-ams\",\"region\":\"eu\",\"country\":\"NL\",\"rule\":"
                "\"pr-stays-home\"}]}]},"
                "{\"id\":\"eu\",\"name\":\"Europe\",\"client_countries\":[\"DE\"],"
                "\"unmapped_countries\":false,\"primaries\":[\"eu-ams\"],\"secondaries\":[],"
                "\"denied_candidates\":[],\"client_groups\":["
                "{\"countries\":[\"DE\"],\"unmapped_countries\":false,\"excluded\":[]}]}]}\n"));
}

// A topology compiled without the loader (no candidate check) still shows a forbidden candidate.
TEST(PolicyReportTest, DeniedCandidatesAreFlagged) {
  absl::StatusOr<core::World> world = ParseWorld(kPerCountryWorld, "test.yaml");
  ASSERT_TRUE(world.ok()) << world.status();
  world->regions[0].secondaries.push_back("eu-ams");
  auto topology = CompileOrDie(*std::move(world));
  ASSERT_NE(topology, nullptr);
  std::string report = PolicyReport(*topology);
  EXPECT_THAT(report, HasSubstr("  secondaries:      us-nyc\n  DENIED CANDIDATES (configured but "
                                "forbidden for some clients): eu-ams\n"));
}

}  // namespace
}  // namespace dcdir::config

// The example world (deploy/config/world.yaml) against the facts of the example world (the
// regions, DCs, countries and deny rules the docs describe), written out here so the test needs no other file.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/config/config_loader.h"
#include "service/core/topology.h"
#include "tests/config/test_util.h"
#include "tests/testing/example_world.h"

namespace dcdir::config {
namespace {

struct ExpectedDc {
  const char* id;
  const char* region;
  const char* country;
  const char* city;
  double lat;
  double lon;
  const char* endpoint;
  uint64_t capacity_sessions;
};

// datacenters.csv, in file order.
const ExpectedDc kDatacenters[] = {
    {"us-sjc", "us", "US", "San Jose", 37.34, -121.89, "gw.us-sjc.dcdir.example:443", 400000},
    {"us-den", "us", "US", "Denver", 39.74, -104.99, "gw.us-den.dcdir.example:443", 300000},
    {"us-nyc", "us", "US", "New York", 40.71, -74.01, "gw.us-nyc.dcdir.example:443", 400000},
    {"us-iad", "us", "US", "Ashburn", 39.04, -77.49, "gw.us-iad.dcdir.example:443", 400000},
    {"ca-yyz", "ca", "CA", "Toronto", 43.65, -79.38, "gw.ca-yyz.dcdir.example:443", 150000},
    {"ca-yvr", "ca", "CA", "Vancouver", 49.28, -123.12, "gw.ca-yvr.dcdir.example:443", 100000},
    {"br-gru", "latam", "BR", "Sao Paulo", -23.55, -46.63, "gw.br-gru.dcdir.example:443", 150000},
    {"mx-qro", "latam", "MX", "Queretaro", 20.59, -100.39, "gw.mx-qro.dcdir.example:443", 80000},
    {"eu-ams", "eu", "NL", "Amsterdam", 52.37, 4.90, "gw.eu-ams.dcdir.example:443", 300000},
    {"eu-fra", "eu", "DE", "Frankfurt", 50.11, 8.68, "gw.eu-fra.dcdir.example:443", 300000},
    {"eu-dub", "eu", "IE", "Dublin", 53.35, -6.26, "gw.eu-dub.dcdir.example:443", 120000},
    {"in-bom", "in", "IN", "Mumbai", 19.08, 72.88, "gw.in-bom.dcdir.example:443", 200000},
    {"in-hyd", "in", "IN", "Hyderabad", 17.39, 78.49, "gw.in-hyd.dcdir.example:443", 150000},
    {"sg-sin", "sg", "SG", "Singapore", 1.35, 103.82, "gw.sg-sin.dcdir.example:443", 200000},
    {"hk-hkg", "hk", "HK", "Hong Kong", 22.32, 114.17, "gw.hk-hkg.dcdir.example:443", 120000},
    {"jp-tyo", "jp", "JP", "Tokyo", 35.68, 139.69, "gw.jp-tyo.dcdir.example:443", 250000},
    {"jp-osa", "jp", "JP", "Osaka", 34.69, 135.50, "gw.jp-osa.dcdir.example:443", 120000},
    {"au-syd", "au", "AU", "Sydney", -33.87, 151.21, "gw.au-syd.dcdir.example:443", 150000},
    {"au-mel", "au", "AU", "Melbourne", -37.81, 144.96, "gw.au-mel.dcdir.example:443", 100000},
    {"cn-pek", "cn", "CN", "Beijing", 39.90, 116.41, "gw.cn-pek.dcdir.example:443", 300000},
    {"cn-sha", "cn", "CN", "Shanghai", 31.23, 121.47, "gw.cn-sha.dcdir.example:443", 300000},
};

struct ExpectedRegion {
  const char* id;
  const char* name;
  double ref_lat;
  double ref_lon;
  std::vector<std::string> primaries;
  std::vector<std::string> secondaries;  // ordered, most preferred first
};

// regions.csv, in file order.
const ExpectedRegion kRegions[] = {
    {"us", "United States", 39.83, -98.58, {"us-sjc", "us-den", "us-nyc", "us-iad"}, {"ca-yyz", "ca-yvr", "mx-qro", "eu-ams"}},
    {"ca", "Canada", 45.42, -75.70, {"ca-yyz", "ca-yvr"}, {"us-nyc", "us-sjc", "us-iad", "eu-ams"}},
    {"latam", "Latin America", -15.79, -47.88, {"br-gru", "mx-qro"}, {"us-iad", "us-den", "eu-fra"}},
    {"eu", "Europe", 50.11, 8.68, {"eu-ams", "eu-fra"}, {"eu-dub"}},
    {"in", "India", 20.59, 78.96, {"in-bom", "in-hyd"}, {"sg-sin", "eu-fra", "jp-tyo"}},
    {"sg", "Southeast Asia", 1.35, 103.82, {"sg-sin"}, {"hk-hkg", "jp-tyo", "au-syd", "in-bom"}},
    {"hk", "Hong Kong", 22.32, 114.17, {"hk-hkg"}, {"sg-sin", "jp-tyo", "jp-osa"}},
    {"jp", "Japan", 35.68, 139.69, {"jp-tyo", "jp-osa"}, {"hk-hkg", "sg-sin", "us-sjc"}},
    {"au", "Oceania", -33.87, 151.21, {"au-syd", "au-mel"}, {"sg-sin", "jp-tyo", "us-sjc"}},
    {"cn", "Mainland China", 35.86, 104.20, {"cn-pek", "cn-sha"}, {}},
};

class WorldYamlTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<core::World> loaded = LoadWorldFile(DCDIR_WORLD_YAML);
    ASSERT_TRUE(loaded.ok()) <<loaded.status();
    world_ = new core::World(*std::move(loaded));
  }
  static void TearDownTestSuite() {
    delete world_;
    world_ = nullptr;
  }
  static const core::World& world() { return *world_; }
  static core::World* world_;
};

core::World* WorldYamlTest::world_ = nullptr;

TEST_F(WorldYamlTest, EveryDatacenterWithItsFields) {
  ASSERT_EQ(world().datacenters.size(), 21u);
  for (size_t i = 0; i < std::size(kDatacenters); ++i) {
    const ExpectedDc& want = kDatacenters[i];
    const core::DataCenter& got = world().datacenters[i];
    SCOPED_TRACE(want.id);
    EXPECT_EQ(got.id, want.id);
    EXPECT_EQ(got.region, want.region);
    EXPECT_EQ(got.country, want.country);
    EXPECT_EQ(got.city, want.city);
    EXPECT_DOUBLE_EQ(got.location.lat, want.lat);
    EXPECT_DOUBLE_EQ(got.location.lon, want.lon);
    EXPECT_EQ(got.endpoints, std::vector<std::string>{want.endpoint});
    EXPECT_EQ(got.capacity_sessions, want.capacity_sessions);
  }
}

TEST_F(WorldYamlTest, EveryRegionWithReferenceAndOrderedLists) {
  ASSERT_EQ(world().regions.size(), std::size(kRegions));
  for (size_t i = 0; i < std::size(kRegions); ++i) {
    const ExpectedRegion& want = kRegions[i];
    const core::Region& got = world().regions[i];
    SCOPED_TRACE(want.id);
    EXPECT_EQ(got.id, want.id);
    EXPECT_EQ(got.name, want.name);
    EXPECT_DOUBLE_EQ(got.reference.lat, want.ref_lat);
    EXPECT_DOUBLE_EQ(got.reference.lon, want.ref_lon);
    EXPECT_EQ(got.primaries, want.primaries);
    EXPECT_EQ(got.secondaries, want.secondaries);
  }
}

TEST_F(WorldYamlTest, Countries) {
  const auto& countries = world().countries;
  ASSERT_EQ(countries.size(), 59u);
  auto home = [&](const std::string& c) -> std::string {
    for (const auto& [country, region] : countries)
      if (country == c) return region;
    return "(unmapped)";
  };
  EXPECT_EQ(countries.front(), (std::pair<std::string, std::string>{"US", "us"}));
  EXPECT_EQ(countries.back(), (std::pair<std::string, std::string>{"CN", "cn"}));
  EXPECT_EQ(home("PR"), "us");
  EXPECT_EQ(home("CA"), "ca");
  EXPECT_EQ(home("MX"), "latam");
  EXPECT_EQ(home("UY"), "latam");
  EXPECT_EQ(home("DE"), "eu");
  EXPECT_EQ(home("NO"), "eu");  // Norway, not the YAML 1.1 boolean
  EXPECT_EQ(home("CH"), "eu");
  EXPECT_EQ(home("GB"), "eu");
  EXPECT_EQ(home("NP"), "in");
  EXPECT_EQ(home("VN"), "sg");
  EXPECT_EQ(home("MO"), "hk");
  EXPECT_EQ(home("KR"), "jp");
  EXPECT_EQ(home("NZ"), "au");
  EXPECT_EQ(home("RU"), "(unmapped)");
  int eu = 0;
  for (const auto& [country, region] : countries) eu += region == "eu";
  EXPECT_EQ(eu, 32);
  EXPECT_EQ(world().default_region, "us");
}

TEST_F(WorldYamlTest, DenyRulesOfPolicyMd) {
  const auto& rules = world().deny_rules;
  ASSERT_EQ(rules.size(), 3u);
  struct Want {
    const char* name;
    bool clients_negated;
    const char* clients_region;
    bool dcs_negated;
    const char* dcs_region;
  };
  const Want want[] = {
      {"cn-sovereign", true, "cn", false, "cn"},
      {"cn-residency", false, "cn", true, "cn"},
      {"eu-residency", false, "eu", true, "eu"},
  };
  for (size_t i = 0; i < 3; ++i) {
    SCOPED_TRACE(want[i].name);
    EXPECT_EQ(rules[i].name, want[i].name);
    ASSERT_EQ(rules[i].clients.size(), 1u);
    EXPECT_EQ(rules[i].clients[0].field, core::SelectorField::kRegion);
    EXPECT_EQ(rules[i].clients[0].negated, want[i].clients_negated);
    EXPECT_EQ(rules[i].clients[0].values, std::vector<std::string>{want[i].clients_region});
    ASSERT_EQ(rules[i].datacenters.size(), 1u);
    EXPECT_EQ(rules[i].datacenters[0].field, core::SelectorField::kRegion);
    EXPECT_EQ(rules[i].datacenters[0].negated, want[i].dcs_negated);
    EXPECT_EQ(rules[i].datacenters[0].values, std::vector<std::string>{want[i].dcs_region});
  }
}

TEST_F(WorldYamlTest, DefaultThresholds) {
  const core::Thresholds& t = world().thresholds;
  EXPECT_DOUBLE_EQ(t.congestion_enter, 0.85);
  EXPECT_DOUBLE_EQ(t.congestion_exit, 0.70);
  EXPECT_EQ(t.default_health_ttl, absl::Seconds(30));
  EXPECT_EQ(t.max_health_ttl, absl::Hours(1));
  EXPECT_EQ(t.min_secondaries, 2u);
  EXPECT_EQ(t.secondary_attempts, 2u);
  EXPECT_EQ(t.answer_ttl, absl::Seconds(60));
}

TEST_F(WorldYamlTest, VersionIsTheFileHash) {
  EXPECT_EQ(world().version.size(), 16u);
  EXPECT_EQ(world().version.find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST_F(WorldYamlTest, CompilesIntoATopology) {
  absl::StatusOr<std::shared_ptr<const core::Topology>> topology =
      core::Topology::Compile(world());
  ASSERT_TRUE(topology.ok()) << topology.status();
  EXPECT_EQ((*topology)->HomeRegion("RU"), (*topology)->RegionIndex("us"));
}

// The 2020 mistake, caught at load: a mainland-China DC added as a backup of the us region.
TEST(WorldYamlMistakeTest, ChineseDcAsUsSecondaryIsALoadError) {
  absl::StatusOr<std::string> text = ReadConfigFile(DCDIR_WORLD_YAML);
  ASSERT_TRUE(text.ok()) << text.status();
  const std::string list = "secondaries: [ca-yyz, ca-yvr, mx-qro, eu-ams]";
  const int line = testing::LineOfText(*text, list);
  ASSERT_GT(line, 0);
  std::string broken =
      testing::ReplaceOnce(*text, list, "secondaries: [ca-yyz, ca-yvr, mx-qro, eu-ams, cn-pek]");
  absl::StatusOr<core::World> world = ParseWorld(broken, "world.yaml");
  ASSERT_FALSE(world.ok());
  EXPECT_EQ(world.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(world.status().message(),
            absl::StrCat("world.yaml:", line,
                         ": datacenter \"cn-pek\" in regions.us.secondaries is denied by deny "
                         "rule \"cn-sovereign\" to clients of region \"us\" from country US"));
}

// The same mistake the other way round: a European client region falling back to the US.
TEST(WorldYamlMistakeTest, UsDcAsEuSecondaryIsALoadError) {
  absl::StatusOr<std::string> text = ReadConfigFile(DCDIR_WORLD_YAML);
  ASSERT_TRUE(text.ok()) << text.status();
  std::string broken =
      testing::ReplaceOnce(*text, "secondaries: [eu-dub]", "secondaries: [eu-dub, us-iad]");
  absl::StatusOr<core::World> world = ParseWorld(broken, "world.yaml");
  ASSERT_FALSE(world.ok());
  EXPECT_THAT(std::string(world.status().message()),
              ::testing::HasSubstr("datacenter \"us-iad\" in regions.eu.secondaries is denied by "
                                   "deny rule \"eu-residency\" to clients of region \"eu\" "
                                   "from country AT"));
}

// Issue 13: the example world writes the ranking defaults out and places US-WA near Seattle,
// so that a Seattle client is served from San Jose first (the demo).
TEST_F(WorldYamlTest, RankingDefaultsAndSubdivisions) {
  const core::RankingSettings defaults;
  const core::RankingSettings& r = world().ranking;
  EXPECT_EQ(r.rtt_base, defaults.rtt_base);
  EXPECT_DOUBLE_EQ(r.path_stretch, defaults.path_stretch);
  EXPECT_EQ(r.latency_band_absolute, defaults.latency_band_absolute);
  EXPECT_DOUBLE_EQ(r.latency_band_relative, defaults.latency_band_relative);
  EXPECT_DOUBLE_EQ(r.spill_start, defaults.spill_start);
  EXPECT_EQ(r.nearest_secondaries, defaults.nearest_secondaries);
  EXPECT_EQ(r.rtt_max_age, defaults.rtt_max_age);
  ASSERT_EQ(world().subdivisions.size(), 6u);
  const core::Subdivision& wa = world().subdivisions[0];
  EXPECT_EQ(wa.code, "US-WA");
  EXPECT_FALSE(wa.region.has_value());  // the country's home region: us
  ASSERT_TRUE(wa.point.has_value());
  EXPECT_DOUBLE_EQ(wa.point->lat, 47.61);
  EXPECT_DOUBLE_EQ(wa.point->lon, -122.33);
  for (const core::Subdivision& sub : world().subdivisions) {
    EXPECT_FALSE(sub.region.has_value()) << sub.code << ": no own regions in the example world";
  }
}


// The C++ copy of the example world (tests/testing/example_world.h, used by the core, runtime and
// api tests, which do not read YAML) is the YAML's world, field by field: one example world.
TEST_F(WorldYamlTest, TheTestsCppExampleWorldIsThisFile) {
  const core::World cpp = dcdir::testing::ExampleWorld();
  const core::World& yaml = world();
  ASSERT_EQ(cpp.datacenters.size(), yaml.datacenters.size());
  for (size_t i = 0; i < yaml.datacenters.size(); ++i) {
    const core::DataCenter& a = cpp.datacenters[i];
    const core::DataCenter& b = yaml.datacenters[i];
    SCOPED_TRACE(b.id);
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.region, b.region);
    EXPECT_EQ(a.country, b.country);
    EXPECT_EQ(a.city, b.city);
    EXPECT_EQ(a.location, b.location);
    EXPECT_EQ(a.endpoints, b.endpoints);
    EXPECT_EQ(a.capacity_sessions, b.capacity_sessions);
  }
  ASSERT_EQ(cpp.regions.size(), yaml.regions.size());
  for (size_t i = 0; i < yaml.regions.size(); ++i) {
    const core::Region& a = cpp.regions[i];
    const core::Region& b = yaml.regions[i];
    SCOPED_TRACE(b.id);
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.reference, b.reference);
    EXPECT_EQ(a.primaries, b.primaries);
    EXPECT_EQ(a.secondaries, b.secondaries);
  }
  EXPECT_EQ(cpp.countries, yaml.countries);
  EXPECT_EQ(cpp.default_region, yaml.default_region);
  ASSERT_EQ(cpp.deny_rules.size(), yaml.deny_rules.size());
  for (size_t i = 0; i < yaml.deny_rules.size(); ++i) {
    SCOPED_TRACE(yaml.deny_rules[i].name);
    EXPECT_EQ(cpp.deny_rules[i].name, yaml.deny_rules[i].name);
    EXPECT_EQ(cpp.deny_rules[i].clients, yaml.deny_rules[i].clients);
    EXPECT_EQ(cpp.deny_rules[i].datacenters, yaml.deny_rules[i].datacenters);
  }
  const core::Thresholds& ta = cpp.thresholds;
  const core::Thresholds& tb = yaml.thresholds;
  EXPECT_EQ(ta.congestion_enter, tb.congestion_enter);
  EXPECT_EQ(ta.congestion_exit, tb.congestion_exit);
  EXPECT_EQ(ta.default_health_ttl, tb.default_health_ttl);
  EXPECT_EQ(ta.max_health_ttl, tb.max_health_ttl);
  EXPECT_EQ(ta.min_secondaries, tb.min_secondaries);
  EXPECT_EQ(ta.secondary_attempts, tb.secondary_attempts);
  EXPECT_EQ(ta.answer_ttl, tb.answer_ttl);
  ASSERT_EQ(cpp.subdivisions.size(), yaml.subdivisions.size());
  for (size_t i = 0; i < yaml.subdivisions.size(); ++i) {
    SCOPED_TRACE(yaml.subdivisions[i].code);
    EXPECT_EQ(cpp.subdivisions[i].code, yaml.subdivisions[i].code);
    EXPECT_EQ(cpp.subdivisions[i].region, yaml.subdivisions[i].region);
    EXPECT_EQ(cpp.subdivisions[i].point, yaml.subdivisions[i].point);
  }
  const core::RankingSettings& ra = cpp.ranking;
  const core::RankingSettings& rb = yaml.ranking;
  EXPECT_EQ(ra.rtt_base, rb.rtt_base);
  EXPECT_EQ(ra.path_stretch, rb.path_stretch);
  EXPECT_EQ(ra.latency_band_absolute, rb.latency_band_absolute);
  EXPECT_EQ(ra.latency_band_relative, rb.latency_band_relative);
  EXPECT_EQ(ra.spill_start, rb.spill_start);
  EXPECT_EQ(ra.nearest_secondaries, rb.nearest_secondaries);
  EXPECT_EQ(ra.rtt_max_age, rb.rtt_max_age);
  const core::SelfPreservationConfig& sa = cpp.self_preservation;
  const core::SelfPreservationConfig& sb = yaml.self_preservation;
  EXPECT_EQ(sa.enabled, sb.enabled);
  EXPECT_EQ(sa.min_reporting_dcs, sb.min_reporting_dcs);
  EXPECT_EQ(sa.expired_share, sb.expired_share);
  EXPECT_EQ(sa.window, sb.window);
  EXPECT_EQ(sa.max_duration, sb.max_duration);
}

}  // namespace
}  // namespace dcdir::config

// One test per kind of config error: each checks the status code, the file:line prefix and the
// reason. The base world below is valid; every test breaks exactly one thing in it.

#include "service/config/config_loader.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/core/ranking.h"
#include "tests/config/test_util.h"

namespace dcdir::config {
namespace {

using ::dcdir::config::testing::LineOfText;
using ::dcdir::config::testing::MakeTempDir;
using ::dcdir::config::testing::ReplaceOnce;
using ::dcdir::config::testing::WriteFile;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Line numbers are part of the expectations below: keep them in sync.
constexpr char kBase[] = R"(thresholds: {congestion_enter: 0.85, congestion_exit: 0.70, default_health_ttl: 30s}
default_region: us
regions:
  - id: us
    name: United States
    reference: {lat: 39.83, lon: -98.58}
    primaries: [us-sjc, us-nyc]
    secondaries: [eu-ams]
  - id: eu
    name: Europe
    reference: {lat: 50.11, lon: 8.68}
    primaries: [eu-ams]
    secondaries: []
  - id: cn
    name: Mainland China
    reference: {lat: 35.86, lon: 104.2}
    primaries: [cn-pek]
datacenters:
  - {id: us-sjc, region: us, country: US, city: San Jose, lat: 37.34, lon: -121.89, endpoints: ["gw.us-sjc.example:443"], capacity_sessions: 400000}
  - {id: us-nyc, region: us, country: US, city: New York, lat: 40.71, lon: -74.01, endpoints: ["gw.us-nyc.example:443"], capacity_sessions: 400000}
  - {id: eu-ams, region: eu, country: NL, city: Amsterdam, lat: 52.37, lon: 4.9, endpoints: ["gw.eu-ams.example:443", "[2001:db8::1]:443"], capacity_sessions: 300000}
  - {id: cn-pek, region: cn, country: CN, city: Beijing, lat: 39.9, lon: 116.41, endpoints: ["10.0.0.1:8443"], capacity_sessions: 300000}
countries:
  US: us
  DE: eu
  CN: cn
deny_rules:
  - name: cn-sovereign
    description: calls from outside mainland China never go through mainland China
    clients: {region: {not_in: [cn]}}
    datacenters: {region: {in: [cn]}}
  - name: eu-residency
    clients: {region: {in: [eu]}}
    datacenters: {region: {not_in: [eu]}}
)";

// Expects INVALID_ARGUMENT "test.yaml:LINE: ..." containing `reason`.
void ExpectError(const std::string& yaml, int line, const std::string& reason) {
  absl::StatusOr<core::World> world = ParseWorld(yaml, "test.yaml");
  ASSERT_FALSE(world.ok()) << "expected an error: " << reason;
  EXPECT_EQ(world.status().code(), absl::StatusCode::kInvalidArgument) << world.status();
  EXPECT_THAT(std::string(world.status().message()),
              StartsWith(absl::StrCat("test.yaml:", line, ": ")));
  EXPECT_THAT(std::string(world.status().message()), HasSubstr(reason));
}

TEST(ConfigLoaderTest, BaseWorldLoads) {
  absl::StatusOr<core::World> world = ParseWorld(kBase, "test.yaml");
  ASSERT_TRUE(world.ok()) << world.status();
  ASSERT_EQ(world->datacenters.size(), 4u);
  const core::DataCenter& ams = world->datacenters[2];
  EXPECT_EQ(ams.id, "eu-ams");
  EXPECT_EQ(ams.region, "eu");
  EXPECT_EQ(ams.country, "NL");
  EXPECT_EQ(ams.city, "Amsterdam");
  EXPECT_DOUBLE_EQ(ams.location.lat, 52.37);
  EXPECT_DOUBLE_EQ(ams.location.lon, 4.9);
  EXPECT_EQ(ams.endpoints, (std::vector<std::string>{"gw.eu-ams.example:443", "[2001:db8::1]:443"}));
  EXPECT_EQ(ams.capacity_sessions, 300000u);
  ASSERT_EQ(world->regions.size(), 3u);
  EXPECT_EQ(world->regions[0].primaries, (std::vector<std::string>{"us-sjc", "us-nyc"}));
  EXPECT_EQ(world->regions[0].secondaries, (std::vector<std::string>{"eu-ams"}));
  EXPECT_TRUE(world->regions[1].secondaries.empty());
  EXPECT_TRUE(world->regions[2].secondaries.empty());  // optional key
  EXPECT_EQ(world->countries.size(), 3u);
  EXPECT_EQ(world->default_region, "us");
  ASSERT_EQ(world->deny_rules.size(), 2u);
  const core::DenyRule& sovereign = world->deny_rules[0];
  EXPECT_EQ(sovereign.name, "cn-sovereign");
  ASSERT_EQ(sovereign.clients.size(), 1u);
  EXPECT_EQ(sovereign.clients[0].field, core::SelectorField::kRegion);
  EXPECT_TRUE(sovereign.clients[0].negated);
  EXPECT_EQ(sovereign.clients[0].values, (std::vector<std::string>{"cn"}));
  ASSERT_EQ(sovereign.datacenters.size(), 1u);
  EXPECT_FALSE(sovereign.datacenters[0].negated);
  // Thresholds not given keep their defaults.
  EXPECT_DOUBLE_EQ(world->thresholds.congestion_exit, 0.70);
  EXPECT_EQ(world->thresholds.default_health_ttl, absl::Seconds(30));
  EXPECT_EQ(world->thresholds.max_health_ttl, absl::Hours(1));
  EXPECT_EQ(world->thresholds.answer_ttl, absl::Seconds(60));
  EXPECT_EQ(world->thresholds.min_secondaries, 2u);
}

TEST(ConfigLoaderTest, VersionIsContentHashAsSixteenHexDigits) {
  absl::StatusOr<core::World> world = ParseWorld(kBase, "test.yaml");
  ASSERT_TRUE(world.ok()) << world.status();
  EXPECT_EQ(world->version, absl::StrFormat("%016x", core::StableHash64(kBase)));
  EXPECT_EQ(world->version.size(), 16u);
  absl::StatusOr<core::World> other =
      ParseWorld(absl::StrCat(kBase, "# a comment changes the bytes\n"), "test.yaml");
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_NE(other->version, world->version);
}

TEST(ConfigLoaderTest, SyntaxError) {
  ExpectError(ReplaceOnce(kBase, "primaries: [us-sjc, us-nyc]", "primaries: [us-sjc, us-nyc"),
              8, "YAML syntax error");
}

// The parser's work is bounded before a node tree is built (a 2 MB list used to take 0.5 GB):
// each limit is refused with the line where it was passed.
TEST(ConfigLoaderTest, TooManyNodesAreRefusedWhileParsing) {
  std::string list = "padding: [";
  for (int i = 0; i < 260'000; ++i) list += "a,";
  ExpectError(absl::StrCat(list, "a]\n", kBase), 1,
              "config too large to parse: more than 250000 YAML nodes");
  // 249,000 nodes pass the pre-pass (and then fail as an unknown key, not as too large).
  std::string fewer = "padding: [";
  for (int i = 0; i < 249'000; ++i) fewer += "a,";
  ExpectError(absl::StrCat(fewer, "a]\n", kBase), 1, "unknown key \"padding\"");
}

TEST(ConfigLoaderTest, DeepNestingIsRefusedWhileParsing) {
  ExpectError(absl::StrCat("padding: ", std::string(40, '['), std::string(40, ']'), "\n", kBase),
              1, "config too large to parse: lists and maps nested more than 32 deep");
}

TEST(ConfigLoaderTest, AHugeValueIsRefusedWhileParsing) {
  ExpectError(absl::StrCat(ReplaceOnce(kBase, "name: Europe", absl::StrCat(
                                                   "name: ", std::string(70'000, 'E')))),
              10, "config too large to parse: a value of 70000 bytes; the limit is 65536");
}

TEST(ConfigLoaderTest, UnknownTopLevelKey) {
  ExpectError(ReplaceOnce(kBase, "default_region: us", "default_regoin: us"), 2,
              "unknown key \"default_regoin\" in the top level");
}

TEST(ConfigLoaderTest, UnknownNestedKey) {
  ExpectError(ReplaceOnce(kBase, "capacity_sessions: 400000}\n  - {id: us-nyc",
                          "capacity: 400000}\n  - {id: us-nyc"),
              19,
              "unknown key \"capacity\" in datacenters[0] (us-sjc); expected one of: id, "
              "region, country, city, lat, lon, endpoints, capacity_sessions");
}

TEST(ConfigLoaderTest, DuplicateKey) {
  ExpectError(ReplaceOnce(kBase, "  DE: eu\n", "  DE: eu\n  DE: us\n"), 26,
              "duplicate key \"DE\" in countries (first at line 25)");
}

TEST(ConfigLoaderTest, DuplicateTopLevelKey) {
  ExpectError(ReplaceOnce(kBase, "default_region: us\n", "default_region: us\ndefault_region: eu\n"),
              3, "duplicate key \"default_region\" in the top level (first at line 2)");
}

TEST(ConfigLoaderTest, DuplicateKeyInAListItem) {
  ExpectError(ReplaceOnce(kBase, "{id: us-nyc, region: us,", "{id: us-nyc, region: us, region: eu,"),
              20, "duplicate key \"region\" in datacenters[1] (us-nyc) (first at line 20)");
}

TEST(ConfigLoaderTest, MissingField) {
  ExpectError(ReplaceOnce(kBase, "city: San Jose, ", ""), 19,
              "datacenters.us-sjc is missing the required key \"city\"");
}

TEST(ConfigLoaderTest, MissingTopLevelSection) {
  std::string yaml = kBase;
  yaml = yaml.substr(0, yaml.find("datacenters:")) + "countries: {}\n";
  ExpectError(yaml, 1, "the file is missing the required key \"datacenters\"");
}

TEST(ConfigLoaderTest, WrongTypeList) {
  ExpectError(ReplaceOnce(kBase, "primaries: [us-sjc, us-nyc]", "primaries: us-sjc"), 7,
              "regions.us.primaries must be a list, got \"us-sjc\"");
}

TEST(ConfigLoaderTest, WrongTypeNumber) {
  ExpectError(ReplaceOnce(kBase, "lat: 37.34", "lat: north"), 19,
              "datacenters.us-sjc.lat must be a number, got \"north\"");
}

TEST(ConfigLoaderTest, QuotedNumberIsWrongType) {
  ExpectError(ReplaceOnce(kBase, "capacity_sessions: 400000}\n  - {id: us-nyc",
                          "capacity_sessions: \"400000\"}\n  - {id: us-nyc"),
              19, "datacenters.us-sjc.capacity_sessions must be a whole number, got \"400000\"");
}

TEST(ConfigLoaderTest, DuplicateDatacenterId) {
  ExpectError(ReplaceOnce(kBase, "{id: us-nyc,", "{id: us-sjc,"), 20,
              "duplicate datacenter id \"us-sjc\" (first at line 19)");
}

TEST(ConfigLoaderTest, DuplicateRegionId) {
  ExpectError(ReplaceOnce(kBase, "  - id: eu\n", "  - id: us\n"), 9,
              "duplicate region id \"us\" (first at line 4)");
}

TEST(ConfigLoaderTest, BadIdFormat) {
  ExpectError(ReplaceOnce(kBase, "{id: us-nyc,", "{id: US_NYC,"), 20,
              "datacenters[1] (US_NYC).id \"US_NYC\" is not a valid id");
}

TEST(ConfigLoaderTest, BadDcCountry) {
  ExpectError(ReplaceOnce(kBase, "country: NL", "country: nld"), 21,
              "datacenters.eu-ams.country \"nld\" is not a country code");
}

TEST(ConfigLoaderTest, BadCountryInCountryMap) {
  ExpectError(ReplaceOnce(kBase, "  DE: eu\n", "  Germany: eu\n"), 25,
              "country \"Germany\" in countries is not a country code");
}

TEST(ConfigLoaderTest, LatitudeOutOfRange) {
  ExpectError(ReplaceOnce(kBase, "lat: 37.34", "lat: 97.34"), 19,
              "datacenters.us-sjc.lat = 97.34 is out of range [-90, 90]");
}

TEST(ConfigLoaderTest, LongitudeOutOfRangeInReference) {
  ExpectError(ReplaceOnce(kBase, "lon: 8.68}", "lon: 188.68}"), 11,
              "regions.eu.reference.lon = 188.68 is out of range [-180, 180]");
}

TEST(ConfigLoaderTest, CapacityZero) {
  ExpectError(ReplaceOnce(kBase, "endpoints: [\"10.0.0.1:8443\"], capacity_sessions: 300000",
                          "endpoints: [\"10.0.0.1:8443\"], capacity_sessions: 0"),
              22, "datacenters.cn-pek.capacity_sessions = 0 is out of range [1, ");
}

TEST(ConfigLoaderTest, EndpointWithoutPort) {
  ExpectError(ReplaceOnce(kBase, "\"gw.us-nyc.example:443\"", "\"gw.us-nyc.example\""), 20,
              "endpoint \"gw.us-nyc.example\" in datacenters.us-nyc.endpoints is not host:port");
}

TEST(ConfigLoaderTest, EndpointPortOutOfRange) {
  ExpectError(ReplaceOnce(kBase, "\"10.0.0.1:8443\"", "\"10.0.0.1:84430\""), 22,
              "endpoint \"10.0.0.1:84430\" in datacenters.cn-pek.endpoints is not host:port");
}

TEST(ConfigLoaderTest, ThresholdExitNotBelowEnter) {
  ExpectError(ReplaceOnce(kBase, "congestion_exit: 0.70", "congestion_exit: 0.90"), 1,
              "thresholds.congestion_exit (0.9) must be lower than thresholds.congestion_enter "
              "(0.85)");
}

TEST(ConfigLoaderTest, ThresholdEnterAboveOne) {
  ExpectError(ReplaceOnce(kBase, "congestion_enter: 0.85", "congestion_enter: 1.5"), 1,
              "thresholds.congestion_enter = 1.5 is out of range [0, 1]");
}

TEST(ConfigLoaderTest, ThresholdTooManySecondaries) {
  ExpectError(ReplaceOnce(kBase, "default_health_ttl: 30s}",
                          "default_health_ttl: 30s,\n  secondary_attempts: 65}"),
              2, "thresholds.secondary_attempts = 65 is out of range [0, 64]");
}

TEST(ConfigLoaderTest, BadDurationWithoutUnit) {
  ExpectError(ReplaceOnce(kBase, "default_health_ttl: 30s", "default_health_ttl: 30"), 1,
              "thresholds.default_health_ttl must be a duration like 500ms, 30s or 1h, got \"30\"");
}

TEST(ConfigLoaderTest, BadDurationNotPositive) {
  ExpectError(ReplaceOnce(kBase, "default_health_ttl: 30s", "default_health_ttl: 0s"), 1,
              "thresholds.default_health_ttl = 0s must be > 0");
}

TEST(ConfigLoaderTest, UnknownDatacenterInRegionList) {
  ExpectError(ReplaceOnce(kBase, "primaries: [us-sjc, us-nyc]", "primaries: [us-sjc, us-xyz]"),
              7, "datacenter \"us-xyz\" in regions.us.primaries is not defined");
}

TEST(ConfigLoaderTest, DatacenterListedTwice) {
  ExpectError(ReplaceOnce(kBase, "primaries: [us-sjc, us-nyc]",
                          "primaries: [us-sjc, us-nyc, us-sjc]"),
              7, "\"us-sjc\" is listed twice in regions.us.primaries");
}

TEST(ConfigLoaderTest, UnknownRegionOfDatacenter) {
  ExpectError(ReplaceOnce(kBase, "{id: eu-ams, region: eu,", "{id: eu-ams, region: europe,"), 21,
              "region \"europe\" of datacenter \"eu-ams\" is not defined in regions");
}

TEST(ConfigLoaderTest, DatacenterBothPrimaryAndSecondary) {
  ExpectError(ReplaceOnce(kBase, "secondaries: [eu-ams]", "secondaries: [eu-ams, us-nyc]"), 8,
              "datacenter \"us-nyc\" is both a primary and a secondary of region \"us\" "
              "(primary at line 7)");
}

TEST(ConfigLoaderTest, PrimaryOutsideItsRegion) {
  ExpectError(ReplaceOnce(kBase, "primaries: [eu-ams]", "primaries: [eu-ams, us-nyc]"), 12,
              "datacenter \"us-nyc\" in regions.eu.primaries is in region \"us\", not \"eu\"");
}

TEST(ConfigLoaderTest, UnknownRegionInCountryMap) {
  ExpectError(ReplaceOnce(kBase, "  DE: eu\n", "  DE: europe\n"), 25,
              "region \"europe\" of country DE in countries is not defined in regions");
}

TEST(ConfigLoaderTest, UnknownDefaultRegion) {
  ExpectError(ReplaceOnce(kBase, "default_region: us", "default_region: usa"), 2,
              "default_region \"usa\" is not defined in regions");
}

TEST(ConfigLoaderTest, RuleWithoutName) {
  ExpectError(ReplaceOnce(kBase, "  - name: eu-residency\n    clients:", "  - clients:"), 32,
              "deny_rules[1] is missing the required key \"name\"");
}

TEST(ConfigLoaderTest, DuplicateRuleName) {
  ExpectError(ReplaceOnce(kBase, "name: eu-residency", "name: cn-sovereign"), 32,
              "duplicate deny rule name \"cn-sovereign\" (first at line 28)");
}

TEST(ConfigLoaderTest, SelectorWithoutOperator) {
  ExpectError(ReplaceOnce(kBase, "clients: {region: {in: [eu]}}", "clients: {region: [eu]}"), 33,
              "deny_rules.eu-residency.clients.region must be a mapping, got a list");
}

TEST(ConfigLoaderTest, SelectorWithBothOperators) {
  ExpectError(ReplaceOnce(kBase, "clients: {region: {in: [eu]}}",
                          "clients: {region: {in: [eu], not_in: [us]}}"),
              33,
              "deny_rules.eu-residency.clients.region must have exactly one of \"in\" or "
              "\"not_in\"");
}

TEST(ConfigLoaderTest, SelectorClientsByDatacenter) {
  ExpectError(ReplaceOnce(kBase, "clients: {region: {in: [eu]}}",
                          "clients: {datacenter: {in: [eu-ams]}}"),
              33,
              "unknown key \"datacenter\" in deny_rules.eu-residency.clients; expected one of: "
              "region, country");
}

TEST(ConfigLoaderTest, SelectorUnknownRegion) {
  ExpectError(ReplaceOnce(kBase, "datacenters: {region: {not_in: [eu]}}",
                          "datacenters: {region: {not_in: [europe]}}"),
              34,
              "region \"europe\" in deny_rules.eu-residency.datacenters.region.not_in is not "
              "defined in regions");
}

TEST(ConfigLoaderTest, SelectorBadCountry) {
  ExpectError(ReplaceOnce(kBase, "clients: {region: {in: [eu]}}",
                          "clients: {country: {in: [de]}}"),
              33, "country \"de\" in deny_rules.eu-residency.clients.country.in is not a "
                  "country code");
}

TEST(ConfigLoaderTest, DeniedCandidateForMappedCountry) {
  // The 2020 mistake in small: a Chinese DC as a backup of the us region.
  ExpectError(ReplaceOnce(kBase, "secondaries: [eu-ams]", "secondaries: [eu-ams, cn-pek]"), 8,
              "datacenter \"cn-pek\" in regions.us.secondaries is denied by deny rule "
              "\"cn-sovereign\" to clients of region \"us\" from country US");
}

TEST(ConfigLoaderTest, DeniedCandidateForUnmappedCountries) {
  // us has no mapped country left; its clients are the countries without a mapping.
  std::string yaml = ReplaceOnce(kBase, "  US: us\n", "");
  yaml = ReplaceOnce(yaml, "secondaries: [eu-ams]", "secondaries: [eu-ams, cn-pek]");
  ExpectError(yaml, 8,
              "datacenter \"cn-pek\" in regions.us.secondaries is denied by deny rule "
              "\"cn-sovereign\" to clients of region \"us\" from any country without a mapping");
}

TEST(ConfigLoaderTest, DeniedCandidateForCountryNamedInRule) {
  // A rule about one unmapped country (served by the default region us) denying a us primary.
  std::string yaml = absl::StrCat(kBase,
                                  "  - name: ru-no-sjc\n"
                                  "    clients: {country: {in: [RU]}}\n"
                                  "    datacenters: {datacenter: {in: [us-sjc]}}\n");
  ExpectError(yaml, 7,
              "datacenter \"us-sjc\" in regions.us.primaries is denied by deny rule "
              "\"ru-no-sjc\" to clients of region \"us\" from country RU");
}

TEST(ConfigLoaderTest, NotAMapping) {
  ExpectError("- just\n- a list\n", 1, "must be a mapping, got a list");
}

TEST(ConfigLoaderTest, EmptyFile) { ExpectError("", 1, "expected exactly one YAML document"); }

TEST(ConfigLoaderTest, NanIsNotANumber) {
  ExpectError(ReplaceOnce(kBase, "lat: 37.34", "lat: .nan"), 19,
              "datacenters.us-sjc.lat must be a number, got \".nan\"");
}

TEST(ConfigLoaderTest, NegativeCapacityIsWrongType) {
  ExpectError(ReplaceOnce(kBase, "endpoints: [\"10.0.0.1:8443\"], capacity_sessions: 300000",
                          "endpoints: [\"10.0.0.1:8443\"], capacity_sessions: -5"),
              22, "datacenters.cn-pek.capacity_sessions must be a whole number, got \"-5\"");
}

TEST(ConfigLoaderTest, DeepNestingIsAnErrorNotACrash) {
  std::string yaml = "regions: " + std::string(100000, '[') + std::string(100000, ']') + "\n";
  absl::StatusOr<core::World> world = ParseWorld(yaml, "test.yaml");
  EXPECT_EQ(world.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(world.status().message()), StartsWith("test.yaml:1: "));
}

TEST(ConfigLoaderTest, TwoDocuments) {
  ExpectError(absl::StrCat(kBase, "---\nregions: []\n"), 36,
              "expected exactly one YAML document, found 2");
}

// Every truncation of a valid file either loads or fails with a positioned INVALID_ARGUMENT.
TEST(ConfigLoaderTest, EveryPrefixFailsCleanly) {
  const std::string base = kBase;
  int loaded = 0;
  for (size_t n = 0; n < base.size(); n += 3) {
    absl::StatusOr<core::World> world = ParseWorld(base.substr(0, n), "test.yaml");
    if (world.ok()) {
      ++loaded;
      continue;
    }
    ASSERT_EQ(world.status().code(), absl::StatusCode::kInvalidArgument) << n;
    ASSERT_THAT(std::string(world.status().message()), StartsWith("test.yaml:")) << n;
  }
  // Cuts inside the last rule's selectors leave a rule that denies more than intended, which the
  // candidate check rejects; only cuts at the very end (or right after a complete rule) load.
  EXPECT_LT(loaded, 20);
}

TEST(ConfigLoaderTest, MissingFileIsNotFound) {
  std::string path = MakeTempDir() + "/absent.yaml";
  absl::StatusOr<core::World> world = LoadWorldFile(path);
  EXPECT_EQ(world.status().code(), absl::StatusCode::kNotFound) << world.status();
  EXPECT_THAT(std::string(world.status().message()), HasSubstr(path));
}

TEST(ConfigLoaderTest, LoadWorldFileUsesPathInMessages) {
  std::string path = MakeTempDir() + "/bad.yaml";
  WriteFile(path, ReplaceOnce(kBase, "lat: 37.34", "lat: 97.34"));
  absl::StatusOr<core::World> world = LoadWorldFile(path);
  EXPECT_EQ(world.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(world.status().message()), StartsWith(absl::StrCat(path, ":19: ")));
}

TEST(ConfigLoaderTest, LineHelperAgreesWithBase) {
  // Guards the hand-written line numbers above.
  EXPECT_EQ(LineOfText(kBase, "{id: us-sjc"), 19);
  EXPECT_EQ(LineOfText(kBase, "countries:"), 23);
  EXPECT_EQ(LineOfText(kBase, "name: eu-residency"), 32);
}

// --- ranking: and subdivisions: (issue 13). kBase has 34 lines: appended text starts at 35.

TEST(ConfigLoaderTest, RankingAndSubdivisionsLoad) {
  const std::string yaml = std::string(kBase) +
                           "ranking: {rtt_base: 8ms, path_stretch: 1.8, latency_band_absolute: 0ms,\n"
                           "  latency_band_relative: 0.5, nearest_secondaries: true, rtt_max_age: 2m}\n"
                           "subdivisions:\n"
                           "  US-WA: {lat: 47.61, lon: -122.33}\n"
                           "  DE-BY: {region: eu}\n"
                           "  US-HI:\n";
  absl::StatusOr<core::World> w = ParseWorld(yaml, "test.yaml");
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->ranking.rtt_base, absl::Milliseconds(8));
  EXPECT_DOUBLE_EQ(w->ranking.path_stretch, 1.8);
  EXPECT_EQ(w->ranking.latency_band_absolute, absl::ZeroDuration());
  EXPECT_DOUBLE_EQ(w->ranking.latency_band_relative, 0.5);
  EXPECT_DOUBLE_EQ(w->ranking.spill_start, 0.70);  // defaults to congestion_exit
  EXPECT_TRUE(w->ranking.nearest_secondaries);
  EXPECT_EQ(w->ranking.rtt_max_age, absl::Minutes(2));
  ASSERT_EQ(w->subdivisions.size(), 3u);
  EXPECT_EQ(w->subdivisions[0].code, "US-WA");
  EXPECT_FALSE(w->subdivisions[0].region.has_value());
  ASSERT_TRUE(w->subdivisions[0].point.has_value());
  EXPECT_DOUBLE_EQ(w->subdivisions[0].point->lon, -122.33);
  EXPECT_EQ(w->subdivisions[1].region, std::optional<std::string>("eu"));
  EXPECT_FALSE(w->subdivisions[2].point.has_value());
  // Without the sections: the defaults; spill_start follows congestion_exit.
  const std::string lower = ReplaceOnce(kBase, "congestion_exit: 0.70", "congestion_exit: 0.60");
  absl::StatusOr<core::World> d = ParseWorld(lower, "test.yaml");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_DOUBLE_EQ(d->ranking.spill_start, 0.60);
  EXPECT_EQ(d->ranking.rtt_base, absl::Milliseconds(10));
  EXPECT_TRUE(d->subdivisions.empty());
}

TEST(ConfigLoaderTest, RankingErrors) {
  const std::string base(kBase);
  ExpectError(base + "ranking:\n  spill_start: 0.9\n", 36,
              "ranking.spill_start (0.9) must be lower than thresholds.congestion_enter (0.85)");
  ExpectError(base + "ranking:\n  path_stretch: 0.5\n", 36,
              "ranking.path_stretch = 0.5 is out of range [1, 10]");
  ExpectError(base + "ranking:\n  rtt_base: -1ms\n", 36,
              "ranking.rtt_base = -1ms is out of range [0, 1s]");
  ExpectError(base + "ranking:\n  rtt_max_age: 0s\n", 36, "ranking.rtt_max_age = 0s must be > 0");
  ExpectError(base + "ranking:\n  nearest_secondaries: maybe\n", 36,
              "ranking.nearest_secondaries must be true or false");
  ExpectError(base + "ranking:\n  band: 3\n", 36, "unknown key \"band\" in ranking");
}

TEST(ConfigLoaderTest, SubdivisionErrors) {
  const std::string base(kBase);
  ExpectError(base + "subdivisions:\n  US-WASH: {}\n", 36,
              "subdivision \"US-WASH\" in subdivisions is not an ISO 3166-2 code");
  ExpectError(base + "subdivisions:\n  US-WA: {region: mars}\n", 36,
              "region \"mars\" of subdivisions.US-WA is not defined in regions");
  ExpectError(base + "subdivisions:\n  US-WA: {lat: 47.61}\n", 36,
              "subdivisions.US-WA is missing the required key \"lon\"");
  ExpectError(base + "subdivisions:\n  US-WA: {lat: 147.61, lon: 0}\n", 36,
              "subdivisions.US-WA.lat = 147.61 is out of range [-90, 90]");
  // A subdivision of a country without a home region needs its own region.
  ExpectError(ReplaceOnce(base, "default_region: us\n", "") + "subdivisions:\n  FR-IDF: {}\n", 35,
              "subdivisions.FR-IDF has no region and its country FR has no home region");
}

TEST(ConfigLoaderTest, SubdivisionClientsAreInThe2020Check) {
  // A rule for clients in DE, and a German subdivision mapped to region us: us's candidates
  // must be allowed to it, and us-sjc is not.
  const std::string yaml = std::string(kBase) +
                           "  - name: de-stays-in-eu\n"
                           "    clients: {country: {in: [DE]}}\n"
                           "    datacenters: {region: {not_in: [eu]}}\n"
                           "subdivisions:\n"
                           "  DE-BY: {region: us}\n";
  ExpectError(yaml, 7,
              "datacenter \"us-sjc\" in regions.us.primaries is denied by deny rule "
              "\"de-stays-in-eu\" to clients of region \"us\" from subdivision DE-BY "
              "(subdivisions.DE-BY.region)");
  // Mapped to eu instead, it loads.
  EXPECT_TRUE(ParseWorld(ReplaceOnce(yaml, "DE-BY: {region: us}", "DE-BY: {region: eu}"),
                         "test.yaml").ok());
}

}  // namespace
}  // namespace dcdir::config

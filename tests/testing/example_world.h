#ifndef DCDIR_TESTS_TESTING_EXAMPLE_WORLD_H_
#define DCDIR_TESTS_TESTING_EXAMPLE_WORLD_H_

// The example world (deploy/config/world.yaml, the world of the docs), built in C++ so that
// tests do not depend on the config loader. Same ids, regions, countries, rules, candidate
// lists and defaults as deploy/config/world.yaml. Header-only.

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "service/core/model.h"

namespace dcdir::testing {

// The example world: 21 DCs, 10 regions, 59 countries, default region "us", 3 deny rules.
inline core::World ExampleWorld() {
  using core::Condition;
  using core::SelectorField;
  core::World w;
  w.datacenters = {
      {"us-sjc", "us", "US", "San Jose", {37.34, -121.89}, {"gw.us-sjc.dcdir.example:443"}, 400000},
      {"us-den", "us", "US", "Denver", {39.74, -104.99}, {"gw.us-den.dcdir.example:443"}, 300000},
      {"us-nyc", "us", "US", "New York", {40.71, -74.01}, {"gw.us-nyc.dcdir.example:443"}, 400000},
      {"us-iad", "us", "US", "Ashburn", {39.04, -77.49}, {"gw.us-iad.dcdir.example:443"}, 400000},
      {"ca-yyz", "ca", "CA", "Toronto", {43.65, -79.38}, {"gw.ca-yyz.dcdir.example:443"}, 150000},
      {"ca-yvr", "ca", "CA", "Vancouver", {49.28, -123.12}, {"gw.ca-yvr.dcdir.example:443"}, 100000},
      {"br-gru", "latam", "BR", "Sao Paulo", {-23.55, -46.63}, {"gw.br-gru.dcdir.example:443"}, 150000},
      {"mx-qro", "latam", "MX", "Queretaro", {20.59, -100.39}, {"gw.mx-qro.dcdir.example:443"}, 80000},
      {"eu-ams", "eu", "NL", "Amsterdam", {52.37, 4.90}, {"gw.eu-ams.dcdir.example:443"}, 300000},
      {"eu-fra", "eu", "DE", "Frankfurt", {50.11, 8.68}, {"gw.eu-fra.dcdir.example:443"}, 300000},
      {"eu-dub", "eu", "IE", "Dublin", {53.35, -6.26}, {"gw.eu-dub.dcdir.example:443"}, 120000},
      {"in-bom", "in", "IN", "Mumbai", {19.08, 72.88}, {"gw.in-bom.dcdir.example:443"}, 200000},
      {"in-hyd", "in", "IN", "Hyderabad", {17.39, 78.49}, {"gw.in-hyd.dcdir.example:443"}, 150000},
      {"sg-sin", "sg", "SG", "Singapore", {1.35, 103.82}, {"gw.sg-sin.dcdir.example:443"}, 200000},
      {"hk-hkg", "hk", "HK", "Hong Kong", {22.32, 114.17}, {"gw.hk-hkg.dcdir.example:443"}, 120000},
      {"jp-tyo", "jp", "JP", "Tokyo", {35.68, 139.69}, {"gw.jp-tyo.dcdir.example:443"}, 250000},
      {"jp-osa", "jp", "JP", "Osaka", {34.69, 135.50}, {"gw.jp-osa.dcdir.example:443"}, 120000},
      {"au-syd", "au", "AU", "Sydney", {-33.87, 151.21}, {"gw.au-syd.dcdir.example:443"}, 150000},
      {"au-mel", "au", "AU", "Melbourne", {-37.81, 144.96}, {"gw.au-mel.dcdir.example:443"}, 100000},
      {"cn-pek", "cn", "CN", "Beijing", {39.90, 116.41}, {"gw.cn-pek.dcdir.example:443"}, 300000},
      {"cn-sha", "cn", "CN", "Shanghai", {31.23, 121.47}, {"gw.cn-sha.dcdir.example:443"}, 300000},
  };
  w.regions = {
      {"us", "United States", {39.83, -98.58},
       {"us-sjc", "us-den", "us-nyc", "us-iad"},
       {"ca-yyz", "ca-yvr", "mx-qro", "eu-ams"}},
      {"ca", "Canada", {45.42, -75.70},
       {"ca-yyz", "ca-yvr"},
       {"us-nyc", "us-sjc", "us-iad", "eu-ams"}},
      {"latam", "Latin America", {-15.79, -47.88},
       {"br-gru", "mx-qro"},
       {"us-iad", "us-den", "eu-fra"}},
      {"eu", "Europe", {50.11, 8.68},
       {"eu-ams", "eu-fra"},
       {"eu-dub"}},
      {"in", "India", {20.59, 78.96},
       {"in-bom", "in-hyd"},
       {"sg-sin", "eu-fra", "jp-tyo"}},
      {"sg", "Southeast Asia", {1.35, 103.82},
       {"sg-sin"},
       {"hk-hkg", "jp-tyo", "au-syd", "in-bom"}},
      {"hk", "Hong Kong", {22.32, 114.17},
       {"hk-hkg"},
       {"sg-sin", "jp-tyo", "jp-osa"}},
      {"jp", "Japan", {35.68, 139.69},
       {"jp-tyo", "jp-osa"},
       {"hk-hkg", "sg-sin", "us-sjc"}},
      {"au", "Oceania", {-33.87, 151.21},
       {"au-syd", "au-mel"},
       {"sg-sin", "jp-tyo", "us-sjc"}},
      {"cn", "Mainland China", {35.86, 104.20},
       {"cn-pek", "cn-sha"},
       {}},
  };
  w.countries = {
      {"US", "us"}, {"PR", "us"}, {"CA", "ca"}, {"MX", "latam"}, {"BR", "latam"}, {"AR", "latam"},
      {"CL", "latam"}, {"CO", "latam"}, {"PE", "latam"}, {"UY", "latam"}, {"AT", "eu"},
      {"BE", "eu"}, {"BG", "eu"}, {"HR", "eu"}, {"CY", "eu"}, {"CZ", "eu"}, {"DK", "eu"},
      {"EE", "eu"}, {"FI", "eu"}, {"FR", "eu"}, {"DE", "eu"}, {"GR", "eu"}, {"HU", "eu"},
      {"IE", "eu"}, {"IT", "eu"}, {"LV", "eu"}, {"LT", "eu"}, {"LU", "eu"}, {"MT", "eu"},
      {"NL", "eu"}, {"PL", "eu"}, {"PT", "eu"}, {"RO", "eu"}, {"SK", "eu"}, {"SI", "eu"},
      {"ES", "eu"}, {"SE", "eu"}, {"NO", "eu"}, {"IS", "eu"}, {"LI", "eu"}, {"CH", "eu"},
      {"GB", "eu"}, {"IN", "in"}, {"LK", "in"}, {"BD", "in"}, {"NP", "in"}, {"SG", "sg"},
      {"MY", "sg"}, {"ID", "sg"}, {"TH", "sg"}, {"PH", "sg"}, {"VN", "sg"}, {"HK", "hk"},
      {"MO", "hk"}, {"JP", "jp"}, {"KR", "jp"}, {"AU", "au"}, {"NZ", "au"}, {"CN", "cn"},
  };
  w.default_region = "us";
  w.deny_rules = {
      // Calls from outside mainland China never go through mainland China.
      {"cn-sovereign",
       {Condition{SelectorField::kRegion, /*negated=*/true, {"cn"}}},
       {Condition{SelectorField::kRegion, /*negated=*/false, {"cn"}}}},
      // Mainland-China traffic stays in mainland China.
      {"cn-residency",
       {Condition{SelectorField::kRegion, /*negated=*/false, {"cn"}}},
       {Condition{SelectorField::kRegion, /*negated=*/true, {"cn"}}}},
      // European traffic stays in Europe.
      {"eu-residency",
       {Condition{SelectorField::kRegion, /*negated=*/false, {"eu"}}},
       {Condition{SelectorField::kRegion, /*negated=*/true, {"eu"}}}},
  };
  w.thresholds.congestion_enter = 0.85;
  w.thresholds.congestion_exit = 0.70;
  w.thresholds.default_health_ttl = absl::Seconds(30);
  w.thresholds.min_secondaries = 2;
  w.thresholds.secondary_attempts = 2;
  w.thresholds.answer_ttl = absl::Seconds(60);
  // Subdivisions with a point of their own (no region of their own).
  w.subdivisions = {
      {"US-WA", std::nullopt, core::GeoPoint{47.61, -122.33}},   // Washington: Seattle
      {"US-CA", std::nullopt, core::GeoPoint{37.77, -122.42}},   // California: San Francisco
      {"US-NY", std::nullopt, core::GeoPoint{40.71, -74.01}},    // New York: New York City
      {"US-TX", std::nullopt, core::GeoPoint{32.78, -96.80}},    // Texas: Dallas
      {"BR-SP", std::nullopt, core::GeoPoint{-23.55, -46.63}},   // Sao Paulo
      {"CA-BC", std::nullopt, core::GeoPoint{49.28, -123.12}},   // British Columbia: Vancouver
  };
  w.version = "example";
  return w;
}

// The example tenants: acme (us; us, ca), globex (jp; jp), umbrella (eu; eu, us).
inline std::vector<core::TenantPolicy> ExampleTenants() {
  return {
      {"acme", "us", {"us", "ca"}},
      {"globex", "jp", {"jp"}},
      {"umbrella", "eu", {"eu", "us"}},
  };
}

}  // namespace dcdir::testing

#endif  // DCDIR_TESTS_TESTING_EXAMPLE_WORLD_H_

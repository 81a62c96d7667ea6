#ifndef DCDIR_TESTS_EDGES_EDGE_WORLDS_H_
#define DCDIR_TESTS_EDGES_EDGE_WORLDS_H_

// Small worlds for the edge tests on the real binary (config reload, self-preservation, clock
// steps), as YAML text, and a file writer.

#include <stdio.h>

#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace dcdir::testing {

// Three regions: us (primary us-east, secondary ca-tor), ca (ca-tor), cn (cn-pek); no default
// region; minimum 2 secondaries. Everything but the deny rules, which come last as in
// deploy/config/world.yaml.
inline constexpr char kThreeRegionHead[] = R"(thresholds:
  min_secondaries: 2
regions:
  - id: us
    name: United States
    reference: {lat: 39.83, lon: -98.58}
    primaries: [us-east]
    secondaries: [ca-tor]
  - id: ca
    name: Canada
    reference: {lat: 45.42, lon: -75.70}
    primaries: [ca-tor]
    secondaries: [us-east]
  - id: cn
    name: Mainland China
    reference: {lat: 35.86, lon: 104.20}
    primaries: [cn-pek]
    secondaries: []
datacenters:
  - {id: us-east, region: us, country: US, city: Ashburn, lat: 39.04, lon: -77.49,
     endpoints: ["gw.us-east.example:443"], capacity_sessions: 1000}
  - {id: ca-tor, region: ca, country: CA, city: Toronto, lat: 43.65, lon: -79.38,
     endpoints: ["gw.ca-tor.example:443"], capacity_sessions: 1000}
  - {id: cn-pek, region: cn, country: CN, city: Beijing, lat: 39.90, lon: 116.41,
     endpoints: ["gw.cn-pek.example:443"], capacity_sessions: 1000}
countries:
  US: us
  CA: ca
  CN: cn
)";

inline constexpr char kSovereignRule[] = R"(  - name: cn-sovereign
    clients: {region: {not_in: [cn]}}
    datacenters: {region: {in: [cn]}}
)";
inline constexpr char kResidencyRule[] = R"(  - name: cn-residency
    clients: {region: {in: [cn]}}
    datacenters: {region: {not_in: [cn]}}
)";

// The three-region world with both rules.
inline std::string ThreeRegionWorld() {
  return std::string(kThreeRegionHead) + "deny_rules:\n" + kSovereignRule + kResidencyRule;
}

// Writes `text` to `path` atomically (a temp file renamed over it).
inline void WriteFileAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  std::ofstream(tmp) << text;
  ASSERT_EQ(::rename(tmp.c_str(), path.c_str()), 0) << path;
}

}  // namespace dcdir::testing

#endif  // DCDIR_TESTS_EDGES_EDGE_WORLDS_H_

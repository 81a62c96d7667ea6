#ifndef DCDIR_TESTS_TESTING_SYNTHETIC_WORLD_H_
#define DCDIR_TESTS_TESTING_SYNTHETIC_WORLD_H_

// A generated, valid world of any size (benchmarks, scale tests), and an all-healthy store
// state for a world. Deterministic: the same arguments give the same world on every platform.
// Header-only.

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "service/core/model.h"
#include "service/core/snapshot.h"

namespace dcdir::testing {

// A two-letter upper-case code for k in [0, 676): "AA", "AB", ...
inline std::string SyntheticCountry(uint32_t k) {
  return std::string{static_cast<char>('A' + (k / 26) % 26), static_cast<char>('A' + k % 26)};
}

// `regions` regions "r000".. of `dcs_per_region` DCs each ("r000-d0"..), reference points spread
// over the globe, DCs within ~2 degrees of their region's reference. Region i maps countries
// SyntheticCountry(2i) and SyntheticCountry(2i+1) (so regions <= 338); its DCs are in the first.
// Primaries: the first min(3, dcs_per_region) DCs of the region. Secondaries (in order): the
// region's other DCs, then the first two DCs of region i+1. Every 10th region (r000, r010, ..)
// is a "residency" region: its clients stay in it (one rule per such region) and nobody else
// may use its DCs (one "sovereign" rule), as in the example world; candidate lists respect
// that. Default region: r001.
inline core::World SyntheticWorld(uint32_t regions = 200, uint32_t dcs_per_region = 5,
                                  uint64_t seed = 1) {
  uint64_t state = seed;
  auto next = [&state]() {  // splitmix64: same sequence everywhere
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  auto uniform = [&next](double lo, double hi) {
    return lo + (hi - lo) * static_cast<double>(next() >> 11) * 0x1.0p-53;
  };
  using core::Condition;
  using core::SelectorField;
  core::World w;
  auto rid = [](uint32_t i) { return absl::StrFormat("r%03d", i); };
  auto did = [](uint32_t i, uint32_t d) { return absl::StrFormat("r%03d-d%d", i, d); };
  std::vector<std::string> residency;
  for (uint32_t i = 0; i < regions; ++i) {
    core::Region r;
    r.id = rid(i);
    r.name = absl::StrCat("Region ", i);
    r.reference = {uniform(-60, 70), uniform(-180, 180)};
    for (uint32_t d = 0; d < dcs_per_region; ++d) {
      core::DataCenter dc;
      dc.id = did(i, d);
      dc.region = r.id;
      dc.country = SyntheticCountry(2 * i);
      dc.city = absl::StrCat("City ", i, "-", d);
      dc.location = {std::clamp(r.reference.lat + uniform(-2, 2), -90.0, 90.0),
                     std::clamp(r.reference.lon + uniform(-2, 2), -180.0, 180.0)};
      dc.endpoints = {absl::StrCat("gw.", dc.id, ".dcdir.example:443")};
      dc.capacity_sessions = 100000 + (next() % 300001);
      if (d < 3) {
        r.primaries.push_back(dc.id);
      } else {
        r.secondaries.push_back(dc.id);
      }
      w.datacenters.push_back(std::move(dc));
    }
    if (regions > 1) {
      for (uint32_t d = 0; d < std::min<uint32_t>(2, dcs_per_region); ++d) {
        r.secondaries.push_back(did((i + 1) % regions, d));
      }
    }
    w.countries.emplace_back(SyntheticCountry(2 * i), r.id);
    w.countries.emplace_back(SyntheticCountry(2 * i + 1), r.id);
    if (i % 10 == 0) residency.push_back(r.id);
    w.regions.push_back(std::move(r));
  }
  // A residency region's secondaries must stay inside it (the config loader rejects candidate
  // lists the rules forbid): drop the neighbour's DCs there.
  for (uint32_t i = 0; i < regions; i += 10) {
    auto& s = w.regions[i].secondaries;
    std::erase_if(s, [&](const std::string& id) { return !id.starts_with(w.regions[i].id); });
  }
  // Nobody else uses a residency region's DCs: also drop them from other regions' lists.
  for (uint32_t i = 0; i < regions; ++i) {
    if (i % 10 == 0) continue;
    auto& s = w.regions[i].secondaries;
    std::erase_if(s, [&](const std::string& id) {
      return std::find(residency.begin(), residency.end(), id.substr(0, 4)) != residency.end();
    });
  }
  for (const std::string& r : residency) {
    w.deny_rules.push_back({absl::StrCat(r, "-residency"),
                            {Condition{SelectorField::kRegion, false, {r}}},
                            {Condition{SelectorField::kRegion, true, {r}}}});
  }
  w.deny_rules.push_back({"sovereign",
                          {Condition{SelectorField::kRegion, true, residency}},
                          {Condition{SelectorField::kRegion, false, residency}}});
  w.default_region = regions > 1 ? rid(1) : rid(0);
  w.version = absl::StrCat("synthetic-", regions, "x", dcs_per_region, "-", seed);
  return w;
}

// A store state where every DC of `world` is HEALTHY with congestion 0.1, reported at `now`.
inline core::HealthMap AllHealthy(const core::World& world, absl::Time now,
                                  absl::Duration ttl = absl::Seconds(30)) {
  core::HealthMap health;
  for (const core::DataCenter& dc : world.datacenters) {
    core::HealthRecord r;
    r.status = core::HealthStatus::kHealthy;
    r.congestion = 0.1;
    r.congested = false;
    r.reported_at = now;
    r.expires_at = now + ttl;
    health[dc.id] = r;
  }
  return health;
}

}  // namespace dcdir::testing

#endif  // DCDIR_TESTS_TESTING_SYNTHETIC_WORLD_H_

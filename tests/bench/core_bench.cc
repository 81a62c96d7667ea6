// Cost of the core: ComputeAnswer on the example world and on a generated 1,000-DC /
// 200-region world, and a snapshot rebuild after one DC changes (the project's targets, docs/BENCHMARKS.md:
// < 1 µs, < 5 µs, < 5 ms). No gRPC, no store: the request path inside the server.

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "service/core/answer.h"
#include "service/core/snapshot.h"
#include "service/core/topology.h"
#include "tests/testing/example_world.h"
#include "tests/testing/synthetic_tenants.h"
#include "tests/testing/synthetic_world.h"

namespace dcdir {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

struct Fixture {
  std::shared_ptr<const core::Topology> topology;
  core::HealthMap health;
  std::shared_ptr<const core::TenantTable> tenants;
  std::shared_ptr<const core::Snapshot> snapshot;
  std::vector<std::string> client_ids;

  Fixture(core::World world, std::vector<core::TenantPolicy> tenant_policies) {
    health = testing::AllHealthy(world, kNow);
    topology = *core::Topology::Compile(std::move(world));
    tenants = core::CompileTenants(*topology, tenant_policies);
    Rebuild();
    for (int k = 0; k < 1024; ++k) client_ids.push_back(absl::StrCat("client-", k * 7919));
  }
  void Rebuild() {
    snapshot = core::BuildSnapshot(topology, health, tenants, 1, kNow + absl::Seconds(1), false);
  }
};

Fixture& Example() {
  static Fixture* f = new Fixture(testing::ExampleWorld(), testing::ExampleTenants());
  return *f;
}

Fixture& ExampleUsOutage() {
  static Fixture* f = [] {
    auto* x = new Fixture(testing::ExampleWorld(), testing::ExampleTenants());
    for (const char* id : {"us-sjc", "us-den", "us-nyc", "us-iad"}) {
      x->health[id].status = core::HealthStatus::kDown;
    }
    x->Rebuild();
    return x;
  }();
  return *f;
}

Fixture& Synthetic() {
  static Fixture* f = [] {
    // 100 tenants, each at home in one region and allowed two more.
    std::vector<core::TenantPolicy> tenants;
    for (int k = 0; k < 100; ++k) {
      tenants.push_back({absl::StrCat("tenant-", k), absl::StrFormat("r%03d", 2 * k + 1),
                         {absl::StrFormat("r%03d", 2 * k + 2 < 200 ? 2 * k + 2 : 3),
                          absl::StrFormat("r%03d", (2 * k + 3) % 200)}});
    }
    return new Fixture(testing::SyntheticWorld(200, 5, 1), tenants);
  }();
  return *f;
}

// The acceptance case: example world, US client, tenant acme, a client id.
void BM_AnswerExampleUsAcme(benchmark::State& state) {
  Fixture& f = Example();
  const core::AnswerRequest req{"US", "acme", "client-1234567", 0};
  for (auto _ : state) {
    core::Answer a = core::ComputeAnswer(*f.snapshot, req);
    benchmark::DoNotOptimize(a);
  }
}
BENCHMARK(BM_AnswerExampleUsAcme);

// Same, a different client id per call (hashing and ranking vary).
void BM_AnswerExampleUsAcmeManyClients(benchmark::State& state) {
  Fixture& f = Example();
  size_t k = 0;
  for (auto _ : state) {
    const core::AnswerRequest req{"US", "acme", f.client_ids[k++ & 1023], 0};
    core::Answer a = core::ComputeAnswer(*f.snapshot, req);
    benchmark::DoNotOptimize(a);
  }
}
BENCHMARK(BM_AnswerExampleUsAcmeManyClients);

// With a location (issue 13): estimates, band, nearest-first; Seattle, and a client id per call.
void BM_AnswerExampleUsAcmeLocated(benchmark::State& state) {
  Fixture& f = Example();
  size_t k = 0;
  for (auto _ : state) {
    core::AnswerRequest req{"US", "acme", f.client_ids[k++ & 1023], 0};
    req.location = core::GeoPoint{47.61, -122.33};
    core::Answer a = core::ComputeAnswer(*f.snapshot, req);
    benchmark::DoNotOptimize(a);
  }
}
BENCHMARK(BM_AnswerExampleUsAcmeLocated);

// With a location and two observed RTTs (one unknown id lookup each).
void BM_AnswerExampleUsAcmeLocatedWithRtts(benchmark::State& state) {
  Fixture& f = Example();
  const core::ObservedRtt rtts[] = {{"us-sjc", absl::Milliseconds(31), absl::Seconds(20)},
                                    {"us-den", absl::Milliseconds(38), absl::Seconds(20)}};
  size_t k = 0;
  for (auto _ : state) {
    core::AnswerRequest req{"US", "acme", f.client_ids[k++ & 1023], 0};
    req.location = core::GeoPoint{47.61, -122.33};
    req.observed_rtts = rtts;
    core::Answer a = core::ComputeAnswer(*f.snapshot, req);
    benchmark::DoNotOptimize(a);
  }
}
BENCHMARK(BM_AnswerExampleUsAcmeLocatedWithRtts);

// A Brazilian client with a location while every DC is healthy (the demo's Sao Paulo case).
void BM_AnswerExampleBrLocated(benchmark::State& state) {
  Fixture& f = Example();
  size_t k = 0;
  for (auto _ : state) {
    core::AnswerRequest req{"BR", "", f.client_ids[k++ & 1023], 0};
    req.location = core::GeoPoint{-23.55, -46.63};
    core::Answer a = core::ComputeAnswer(*f.snapshot, req);
    benchmark::DoNotOptimize(a);
  }
}
BENCHMARK(BM_AnswerExampleBrLocated);

// 1,000 DCs with a location per request (the region's reference point): top-ups scan every
// eligible DC with one dot product each.
void BM_AnswerSynthetic1000Located(benchmark::State& state) {
  Fixture& f = Synthetic();
  std::vector<std::string> countries;
  for (uint32_t k = 0; k < 400; ++k) countries.push_back(testing::SyntheticCountry(k));
  size_t k = 0;
  const auto& regions = f.topology->world().regions;
  for (auto _ : state) {
    core::AnswerRequest req{countries[k % 400], "", f.client_ids[k & 1023], 0};
    req.location = regions[(k % 400) / 2].reference;
    ++k;
    core::Answer a = core::ComputeAnswer(*f.snapshot, req);
    benchmark::DoNotOptimize(a);
  }
}
BENCHMARK(BM_AnswerSynthetic1000Located);

// All US DCs down: cross-border fallback to Canada.
void BM_AnswerExampleUsOutageAcme(benchmark::State& state) {
  Fixture& f = ExampleUsOutage();
  const core::AnswerRequest req{"US", "acme", "client-1234567", 0};
  for (auto _ : state) {
    core::Answer a = core::ComputeAnswer(*f.snapshot, req);
    benchmark::DoNotOptimize(a);
  }
}
BENCHMARK(BM_AnswerExampleUsOutageAcme);

// No tenant, no client id (the cheapest request).
void BM_AnswerExampleUsPlain(benchmark::State& state) {
  Fixture& f = Example();
  const core::AnswerRequest req{"US", "", "", 0};
  for (auto _ : state) {
    core::Answer a = core::ComputeAnswer(*f.snapshot, req);
    benchmark::DoNotOptimize(a);
  }
}
BENCHMARK(BM_AnswerExampleUsPlain);

// Explain (not on the hot path; for reference).
void BM_ExplainExampleUsAcme(benchmark::State& state) {
  Fixture& f = Example();
  const core::AnswerRequest req{"US", "acme", "client-1234567", 0};
  for (auto _ : state) {
    core::Explanation e = core::Explain(*f.snapshot, req);
    benchmark::DoNotOptimize(e);
  }
}
BENCHMARK(BM_ExplainExampleUsAcme);

// 1,000 DCs / 200 regions: requests cycle through all 400 countries and 1,024 client ids;
// range(0) = 1 adds a tenant (one of 100) to every request.
void BM_AnswerSynthetic1000(benchmark::State& state) {
  Fixture& f = Synthetic();
  std::vector<std::string> countries;
  for (uint32_t k = 0; k < 400; ++k) countries.push_back(testing::SyntheticCountry(k));
  std::vector<std::string> tenants;
  for (int k = 0; k < 100; ++k) tenants.push_back(absl::StrCat("tenant-", k));
  const bool with_tenant = state.range(0) != 0;
  size_t k = 0;
  int64_t errors = 0;
  for (auto _ : state) {
    const core::AnswerRequest req{countries[k % 400], with_tenant ? tenants[k % 100] : "",
                                  f.client_ids[k & 1023], 0};
    ++k;
    core::Answer a = core::ComputeAnswer(*f.snapshot, req);
    errors += a.error != core::AnswerError::kNone;
    benchmark::DoNotOptimize(a);
  }
  state.counters["error_share"] =
      benchmark::Counter(static_cast<double>(errors) / static_cast<double>(k));
}
BENCHMARK(BM_AnswerSynthetic1000)->Arg(0)->Arg(1);

// 100,000 stored tenants (issue 17): what the tenant table costs per answer. The tenants are
// testing::SyntheticTenant's: at home in one region (round-robin), every third allowing one
// more. Requests draw tenant ids at
// random from all of them (65,536 pre-drawn, so the id strings are not built in the loop).
// range(0): 0 = no tenant id; 1 = an id that is not stored (the lookup alone: hash, shard,
// probe); 2 = a stored tenant (the lookup plus the tenant's policy, which changes the answer).
Fixture& WithTenants(bool synthetic) {
  auto make = [](core::World world) {
    std::vector<std::string> regions;
    for (const auto& r : world.regions) regions.push_back(r.id);
    std::vector<core::TenantPolicy> tenants;
    tenants.reserve(100000);
    for (int i = 0; i < 100000; ++i) {
      testing::TenantShape t = testing::SyntheticTenant(i, regions);
      tenants.push_back({std::move(t.id), std::move(t.home_region), std::move(t.allowed_regions)});
    }
    return new Fixture(std::move(world), std::move(tenants));
  };
  static Fixture* example = make(testing::ExampleWorld());
  static Fixture* big = make(testing::SyntheticWorld(200, 5, 1));
  return synthetic ? *big : *example;
}

void AnswerWith100kTenants(benchmark::State& state, bool synthetic) {
  Fixture& f = WithTenants(synthetic);
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> pick(0, 99999);
  std::vector<std::string> ids(65536);
  const int64_t mode = state.range(0);
  for (auto& id : ids) {
    const int i = pick(rng);
    id = mode == 1 ? absl::StrFormat("absent-%06d", i) : testing::SyntheticTenantId(i);
  }
  std::vector<std::string> countries;
  if (synthetic) {
    for (uint32_t k = 0; k < 400; ++k) countries.push_back(testing::SyntheticCountry(k));
  } else {
    countries = {"US", "DE", "JP", "BR", "FR", "GB", "IN", "SG"};
  }
  size_t k = 0;
  for (auto _ : state) {
    const core::AnswerRequest req{countries[k % countries.size()], mode == 0 ? "" : ids[k & 65535],
                                  f.client_ids[k & 1023], 0};
    ++k;
    core::Answer a = core::ComputeAnswer(*f.snapshot, req);
    benchmark::DoNotOptimize(a);
  }
}
void BM_AnswerExample100kTenants(benchmark::State& state) { AnswerWith100kTenants(state, false); }
BENCHMARK(BM_AnswerExample100kTenants)->Arg(0)->Arg(1)->Arg(2);
void BM_AnswerSynthetic1000With100kTenants(benchmark::State& state) {
  AnswerWith100kTenants(state, true);
}
BENCHMARK(BM_AnswerSynthetic1000With100kTenants)->Arg(0)->Arg(1)->Arg(2);

// The scale of the tenant table alone (issue 17): the same kind of request (a stored tenant,
// asked from a country of its home region, so the answer is its home's) against a table of
// range(0) tenants, 100 (fits in the first-level caches) or 100,000 (several MB: a random id costs
// cache misses). The ratio 100,000 / 100 is what the number of tenants costs per answer; the
// tenant's policy itself costs both the same. Example world, testing::SyntheticTenant's tenants.
void BM_AnswerTenantScale(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  static std::map<int, Fixture*> fixtures;
  core::World world = testing::ExampleWorld();
  std::vector<std::string> regions;
  for (const auto& r : world.regions) regions.push_back(r.id);
  std::map<std::string, std::vector<std::string>> countries_of;  // home region -> countries
  for (const auto& [country, region] : world.countries) countries_of[region].push_back(country);
  Fixture*& f = fixtures[n];
  if (f == nullptr) {
    std::vector<core::TenantPolicy> tenants;
    for (int i = 0; i < n; ++i) {
      testing::TenantShape t = testing::SyntheticTenant(i, regions);
      tenants.push_back({std::move(t.id), std::move(t.home_region), std::move(t.allowed_regions)});
    }
    f = new Fixture(std::move(world), std::move(tenants));
  }
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> pick(0, n - 1);
  std::vector<std::pair<std::string, std::string>> asks(65536);  // (tenant id, country)
  for (size_t k = 0; k < asks.size(); ++k) {
    const int i = pick(rng);
    const std::vector<std::string>& cs = countries_of[regions[i % regions.size()]];
    asks[k] = {testing::SyntheticTenantId(i), cs[k % cs.size()]};
  }
  size_t k = 0;
  int64_t errors = 0;
  for (auto _ : state) {
    const auto& [id, country] = asks[k & 65535];
    const core::AnswerRequest req{country, id, f->client_ids[k & 1023], 0};
    ++k;
    core::Answer a = core::ComputeAnswer(*f->snapshot, req);
    errors += a.error != core::AnswerError::kNone;
    benchmark::DoNotOptimize(a);
  }
  state.counters["error_share"] =
      benchmark::Counter(static_cast<double>(errors) / static_cast<double>(k));
}
BENCHMARK(BM_AnswerTenantScale)->Arg(100)->Arg(100000);

// The cost curve in DCs (issue 17): the generated world at 21 (7 regions x 3), 1,000 (200 x 5)
// and 5,000 (250 x 20) DCs, no tenant, every country and 1,024 client ids in turn. range(0) is
// the DC count.
void BM_AnswerSyntheticDcs(benchmark::State& state) {
  static Fixture* small = new Fixture(testing::SyntheticWorld(7, 3, 1), {});
  static Fixture* big = new Fixture(testing::SyntheticWorld(250, 20, 1), {});
  Fixture& f = state.range(0) == 21 ? *small : state.range(0) == 1000 ? Synthetic() : *big;
  const size_t countries_n = f.topology->world().countries.size();
  std::vector<std::string> countries;
  for (uint32_t k = 0; k < countries_n; ++k) countries.push_back(testing::SyntheticCountry(k));
  size_t k = 0;
  for (auto _ : state) {
    const core::AnswerRequest req{countries[k % countries_n], "", f.client_ids[k & 1023], 0};
    ++k;
    core::Answer a = core::ComputeAnswer(*f.snapshot, req);
    benchmark::DoNotOptimize(a);
  }
  state.counters["dcs"] = static_cast<double>(f.topology->dc_count());
}
BENCHMARK(BM_AnswerSyntheticDcs)->Arg(21)->Arg(1000)->Arg(5000);

// 1,000 DCs: one DC's health changes, the snapshot is rebuilt (topology and tenants shared).
void BM_SnapshotRebuildSynthetic1000(benchmark::State& state) {
  Fixture& f = Synthetic();
  core::HealthMap health = f.health;
  const std::string changed = "r042-d1";
  uint64_t version = 1;
  for (auto _ : state) {
    core::HealthRecord& r = health[changed];
    r.congestion = r.congestion > 0.5 ? 0.1 : 0.9;
    r.congested = !r.congested;
    auto s = core::BuildSnapshot(f.topology, health, f.tenants, ++version,
                                 kNow + absl::Seconds(1), false);
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_SnapshotRebuildSynthetic1000)->Unit(benchmark::kMicrosecond);

// Compiling the 1,000-DC world (config load / reload; not on the request path).
void BM_TopologyCompileSynthetic1000(benchmark::State& state) {
  const core::World world = testing::SyntheticWorld(200, 5, 1);
  for (auto _ : state) {
    auto t = core::Topology::Compile(world);
    benchmark::DoNotOptimize(t);
  }
}
BENCHMARK(BM_TopologyCompileSynthetic1000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace dcdir

BENCHMARK_MAIN();

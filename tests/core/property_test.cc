// Property test of the directory answer over random worlds, outages, tenants and requests.
//
// Every world is generated from its own seed (base seed DCDIR_PROPERTY_SEED, default 20240601,
// mixed with the world number), so a failure message names the world to replay. The number of
// worlds is DCDIR_PROPERTY_WORLDS (default 100,000), each with several requests.
//
// The expectations come from a brute-force oracle written against the model only
// (FirstDenyingRule per DC, the tenant list, IsUsable per record): never through the
// pre-computed client classes, compiled tenants or snapshot flags of the code under test.

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "service/core/answer.h"
#include "service/core/health.h"
#include "service/core/policy.h"
#include "service/core/ranking.h"
#include "service/core/snapshot.h"
#include "service/core/topology.h"

namespace dcdir::core {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);
const std::vector<std::string> kCountries = {"AA", "BB", "CC", "DD", "EE", "FF"};

class Rng {
 public:
  explicit Rng(uint64_t seed) : gen_(seed) {}
  uint64_t Below(uint64_t n) { return gen_() % n; }  // mt19937_64 is the same everywhere
  bool Chance(double p) { return static_cast<double>(gen_() >> 11) * 0x1.0p-53 < p; }
  template <typename T>
  std::vector<T> Subset(const std::vector<T>& from, double p) {
    std::vector<T> out;
    for (const T& x : from)
      if (Chance(p)) out.push_back(x);
    for (size_t i = out.size(); i > 1; --i) std::swap(out[i - 1], out[Below(i)]);
    return out;
  }

 private:
  std::mt19937_64 gen_;
};

struct Case {
  World world;
  HealthMap health;
  std::vector<TenantPolicy> tenants;
};

Case RandomCase(Rng& rng) {
  Case c;
  World& w = c.world;
  const int nr = 1 + static_cast<int>(rng.Below(5));
  const int nd = 1 + static_cast<int>(rng.Below(12));
  std::vector<std::string> region_ids, dc_ids;
  for (int r = 0; r < nr; ++r) region_ids.push_back(absl::StrCat("r", r));
  for (int d = 0; d < nd; ++d) {
    DataCenter dc;
    dc.id = absl::StrCat("d", d);
    dc.region = region_ids[rng.Below(nr)];
    dc.country = kCountries[rng.Below(kCountries.size())];
    dc.location = {static_cast<double>(rng.Below(1600)) / 10 - 80,
                   static_cast<double>(rng.Below(3600)) / 10 - 180};
    if (rng.Chance(0.1) && d > 0) dc.location = w.datacenters[0].location;  // distance ties
    dc.capacity_sessions = 1 + rng.Below(1000);
    dc_ids.push_back(dc.id);
    w.datacenters.push_back(std::move(dc));
  }
  for (int r = 0; r < nr; ++r) {
    Region region;
    region.id = region_ids[r];
    region.reference = {static_cast<double>(rng.Below(1600)) / 10 - 80,
                        static_cast<double>(rng.Below(3600)) / 10 - 180};
    region.primaries = rng.Subset(dc_ids, 0.3);
    region.secondaries = rng.Subset(dc_ids, 0.35);
    w.regions.push_back(std::move(region));
  }
  for (const std::string& country : kCountries) {
    if (rng.Chance(0.7)) w.countries.emplace_back(country, region_ids[rng.Below(nr)]);
  }
  if (rng.Chance(0.5)) w.default_region = region_ids[rng.Below(nr)];
  const int nrules = static_cast<int>(rng.Below(4));
  for (int k = 0; k < nrules; ++k) {
    DenyRule rule;
    rule.name = absl::StrCat("rule", k);
    const int ncl = static_cast<int>(rng.Below(3));
    for (int j = 0; j < ncl; ++j) {
      const bool by_region = rng.Chance(0.5);
      rule.clients.push_back({by_region ? SelectorField::kRegion : SelectorField::kCountry,
                              rng.Chance(0.4),
                              rng.Subset(by_region ? region_ids : kCountries, 0.4)});
    }
    const int ndc = static_cast<int>(rng.Below(3));
    for (int j = 0; j < ndc; ++j) {
      const int f = static_cast<int>(rng.Below(3));
      const SelectorField field = f == 0   ? SelectorField::kRegion
                                  : f == 1 ? SelectorField::kCountry
                                           : SelectorField::kDataCenter;
      rule.datacenters.push_back({field, rng.Chance(0.4),
                                  rng.Subset(f == 0   ? region_ids
                                             : f == 1 ? kCountries
                                                      : dc_ids,
                                             0.4)});
    }
    w.deny_rules.push_back(std::move(rule));
  }
  w.thresholds.min_secondaries = static_cast<uint32_t>(rng.Below(4));
  w.thresholds.secondary_attempts = static_cast<uint32_t>(rng.Below(4));

  for (const std::string& id : dc_ids) {
    if (rng.Chance(0.15)) continue;  // never reported
    HealthRecord r;
    const uint64_t s = rng.Below(10);
    r.status = s < 6 ? HealthStatus::kHealthy : s < 8 ? HealthStatus::kDown
                                                      : HealthStatus::kDraining;
    r.congested = rng.Chance(0.3);
    r.congestion = r.congested ? 0.9 : static_cast<double>(rng.Below(60)) / 100;
    r.reported_at = kNow - absl::Seconds(10);
    r.expires_at = rng.Chance(0.15) ? kNow - absl::Seconds(rng.Below(2))  // expired (incl. ==)
                                    : kNow + absl::Seconds(1 + rng.Below(30));
    c.health[id] = r;
  }
  const int nt = static_cast<int>(rng.Below(4));
  std::vector<std::string> tenant_regions = region_ids;
  tenant_regions.push_back("zz");  // unknown region
  for (int k = 0; k < nt; ++k) {
    TenantPolicy p;
    p.tenant_id = absl::StrCat("t", k);
    p.home_region = rng.Chance(0.1) ? "zz" : region_ids[rng.Below(nr)];
    p.allowed_regions = rng.Subset(tenant_regions, 0.3);
    c.tenants.push_back(std::move(p));
  }
  return c;
}

bool Contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// Checks one answer against the oracle; returns a description of the first violation.
std::string Check(const Case& c, const Topology& topo, const AnswerRequest& req,
                  const Answer& a) {
  const World& w = c.world;
  const size_t n = w.datacenters.size();
  // Home region.
  std::optional<std::string> home;
  for (const auto& [country, region] : w.countries) {
    if (country == req.country) home = region;
  }
  if (!home) home = w.default_region;
  if (!home) {
    return a.error == AnswerError::kCountryNotMapped ? "" : "expected kCountryNotMapped";
  }
  if (a.error == AnswerError::kCountryNotMapped) return "unexpected kCountryNotMapped";
  if (topo.region_config(a.region).id != *home) return "wrong region";
  const Region& region = *std::find_if(w.regions.begin(), w.regions.end(),
                                       [&](const Region& r) { return r.id == *home; });
  // Allowed and usable, per DC id, brute force.
  const TenantPolicy* tenant = nullptr;
  for (const TenantPolicy& t : c.tenants) {
    if (!req.tenant_id.empty() && t.tenant_id == req.tenant_id) tenant = &t;
  }
  const bool tenant_home_known =
      tenant != nullptr && std::any_of(w.regions.begin(), w.regions.end(),
                                       [&](const Region& r) { return r.id == tenant->home_region; });
  const ClientKey key{req.country, *home};
  std::vector<bool> allowed(n), usable(n), congested(n);
  bool any_allowed = false;
  for (size_t i = 0; i < n; ++i) {
    const DataCenter& dc = w.datacenters[i];
    bool ok = FirstDenyingRule(w.deny_rules, key, dc) == nullptr;
    if (ok && tenant != nullptr) {
      ok = tenant_home_known &&
           (dc.region == tenant->home_region || Contains(tenant->allowed_regions, dc.region));
    }
    allowed[i] = ok;
    any_allowed |= ok;
    auto it = c.health.find(dc.id);
    usable[i] = it != c.health.end() && IsUsable(it->second, kNow);
    congested[i] = usable[i] && it->second.congested;
  }
  auto idx = [&](const std::string& id) { return topo.DcIndex(id); };
  if (!any_allowed) {
    return a.error == AnswerError::kNoCompliantDatacenter ? "" : "expected kNoCompliant";
  }
  if (a.error == AnswerError::kNoCompliantDatacenter) return "unexpected kNoCompliant";

  std::vector<std::string> exp_primaries, conf_eligible;
  size_t other_eligible = 0;  // eligible for top-up
  for (const std::string& id : region.primaries) {
    if (allowed[idx(id)] && usable[idx(id)]) exp_primaries.push_back(id);
  }
  for (const std::string& id : region.secondaries) {
    if (allowed[idx(id)] && usable[idx(id)] && !Contains(region.primaries, id)) {
      conf_eligible.push_back(id);
    }
  }
  for (size_t i = 0; i < n; ++i) {
    const std::string& id = w.datacenters[i].id;
    if (allowed[i] && usable[i] && !Contains(region.primaries, id) &&
        !Contains(region.secondaries, id)) {
      ++other_eligible;
    }
  }
  const size_t min_sec = w.thresholds.min_secondaries;
  const size_t need = min_sec > conf_eligible.size() ? min_sec - conf_eligible.size() : 0;
  size_t exp_sec = conf_eligible.size() + std::min(need, other_eligible);
  if (req.max_secondaries != 0) exp_sec = std::min<size_t>(exp_sec, req.max_secondaries);
  if (exp_primaries.empty() && exp_sec == 0) {
    if (a.error != AnswerError::kNoHealthyCompliantDatacenter) return "expected kNoHealthy";
    return a.primaries.empty() && a.secondaries.empty() ? "" : "error with DCs";
  }
  if (a.error != AnswerError::kNone) return "unexpected error";

  // Primaries: exactly the eligible ones, non-congested first.
  if (a.primaries.size() != exp_primaries.size()) return "primary count";
  std::vector<bool> seen(n, false);
  bool seen_congested = false;
  for (const Pick& p : a.primaries) {
    const std::string& id = topo.dc(p.dc).id;
    if (!Contains(exp_primaries, id)) return "unexpected primary " + id;
    if (seen[p.dc]) return "duplicate " + id;
    seen[p.dc] = true;
    if (p.congested != congested[p.dc]) return "primary congested flag";
    if (seen_congested && !p.congested) return "primary congestion order";
    seen_congested |= p.congested;
  }
  // Inside a congestion group: descending rendezvous score, ties by index.
  auto score = [&](uint32_t i) {
    return RendezvousScore(StableHash64(req.client_id), StableHash64(w.datacenters[i].id),
                           HeadroomWeight(w.datacenters[i].capacity_sessions,
                                          c.health.at(w.datacenters[i].id).congestion));
  };
  for (size_t k = 1; k < a.primaries.size(); ++k) {
    const Pick& x = a.primaries[k - 1];
    const Pick& y = a.primaries[k];
    if (x.congested != y.congested) continue;
    const double sx = score(x.dc), sy = score(y.dc);
    if (sx < sy || (sx == sy && x.dc > y.dc)) return "primary rendezvous order";
  }
  // Secondaries.
  if (a.secondaries.size() != exp_sec) return "secondary count";
  seen_congested = false;
  for (const Pick& p : a.secondaries) {
    const std::string& id = topo.dc(p.dc).id;
    if (!allowed[p.dc]) return "denied secondary " + id;
    if (!usable[p.dc]) return "unusable secondary " + id;
    if (Contains(region.primaries, id)) return "region primary as secondary " + id;
    if (seen[p.dc]) return "duplicate " + id;
    seen[p.dc] = true;
    if (p.congested != congested[p.dc]) return "secondary congested flag";
    if (seen_congested && !p.congested) return "secondary congestion order";
    seen_congested |= p.congested;
  }
  // The exact list: [configured non-congested][top-ups non-congested][configured congested]
  // [top-ups congested], top-ups nearest to the region's reference first (ties by index),
  // non-congested top-ups preferred, then cut to max_secondaries.
  std::vector<std::pair<double, uint32_t>> others;
  for (uint32_t i = 0; i < n; ++i) {
    const std::string& id = w.datacenters[i].id;
    if (allowed[i] && usable[i] && !Contains(region.primaries, id) &&
        !Contains(region.secondaries, id)) {
      others.push_back({DistanceKm(region.reference, w.datacenters[i].location), i});
    }
  }
  std::sort(others.begin(), others.end());
  std::vector<uint32_t> top_nc, top_c;
  for (const auto& [d, i] : others) (congested[i] ? top_c : top_nc).push_back(i);
  if (top_nc.size() > need) top_nc.resize(need);
  if (top_c.size() > need - top_nc.size()) top_c.resize(need - top_nc.size());
  std::vector<uint32_t> exp_list;
  for (const std::string& id : conf_eligible)
    if (!congested[idx(id)]) exp_list.push_back(idx(id));
  exp_list.insert(exp_list.end(), top_nc.begin(), top_nc.end());
  for (const std::string& id : conf_eligible)
    if (congested[idx(id)]) exp_list.push_back(idx(id));
  exp_list.insert(exp_list.end(), top_c.begin(), top_c.end());
  exp_list.resize(exp_sec);
  for (size_t k = 0; k < exp_sec; ++k) {
    if (a.secondaries[k].dc != exp_list[k]) return absl::StrCat("secondary order at ", k);
  }
  for (const auto* list : {&a.primaries, &a.secondaries}) {
    for (const Pick& p : *list) {
      if (p.cross_border != (topo.dc(p.dc).country != req.country)) return "cross_border";
    }
  }
  const bool fallback =
      std::none_of(a.primaries.begin(), a.primaries.end(), [](const Pick& p) { return !p.congested; });
  if (a.fallback_active != fallback) return "fallback_active";
  if (a.secondary_attempts != w.thresholds.secondary_attempts) return "secondary_attempts";
  absl::InlinedVector<uint32_t, 4> exp_cb;
  if (fallback) {
    for (size_t k = 0; k < a.secondaries.size() && k < a.secondary_attempts; ++k) {
      if (a.secondaries[k].cross_border) exp_cb.push_back(a.secondaries[k].dc);
    }
  }
  if (a.cross_border_fallback_dcs != exp_cb) return "cross_border_fallback_dcs";
  return "";
}

// Explain agrees with the answer and with the oracle's deny rule per DC.
std::string CheckExplain(const Case& c, const Topology& topo, const AnswerRequest& req,
                         const Answer& a, const Explanation& ex) {
  if (!(ex.answer == a)) return "Explain().answer differs";
  if (a.error == AnswerError::kCountryNotMapped) return "";
  if (ex.verdicts.size() != topo.dc_count()) return "verdict count";
  const ClientKey key{req.country, topo.region_config(a.region).id};
  for (uint32_t i = 0; i < topo.dc_count(); ++i) {
    const DcVerdict& v = ex.verdicts[i];
    const DenyRule* rule = FirstDenyingRule(c.world.deny_rules, key, topo.dc(i));
    if ((rule != nullptr) != (v.reason == VerdictReason::kDenyRule)) return "deny verdict";
    if (rule != nullptr && v.rule_index != rule - c.world.deny_rules.data()) return "rule index";
    if (v.kind == VerdictKind::kPrimary &&
        (v.rank == 0 || v.rank > a.primaries.size() || a.primaries[v.rank - 1].dc != i)) {
      return "primary verdict";
    }
    if (v.kind == VerdictKind::kSecondary &&
        (v.rank == 0 || v.rank > a.secondaries.size() || a.secondaries[v.rank - 1].dc != i)) {
      return "secondary verdict";
    }
  }
  size_t offered = 0;
  for (const DcVerdict& v : ex.verdicts) offered += v.kind != VerdictKind::kExcluded;
  if (offered != a.primaries.size() + a.secondaries.size()) return "offered verdicts";
  return "";
}

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::strtoull(v, nullptr, 10) : fallback;
}

TEST(AnswerPropertyTest, RandomWorldsOutagesTenantsRequests) {
  const uint64_t base_seed = EnvOr("DCDIR_PROPERTY_SEED", 20240601);
  const uint64_t worlds = EnvOr("DCDIR_PROPERTY_WORLDS", 100000);
  constexpr int kRequestsPerWorld = 6;
  const std::vector<std::string> tenant_ids = {"", "t0", "t1", "t2", "nope"};
  uint64_t answers = 0, errors[4] = {0, 0, 0, 0};
  for (uint64_t k = 0; k < worlds; ++k) {
    const uint64_t seed = base_seed * 1000003 + k;
    Rng rng(seed);
    Case c = RandomCase(rng);
    auto topo = Topology::Compile(c.world);
    ASSERT_TRUE(topo.ok()) << "seed " << seed << ": " << topo.status();
    auto topo2 = Topology::Compile(c.world);  // a second replica
    ASSERT_TRUE(topo2.ok());
    auto snap = BuildSnapshot(*topo, c.health, CompileTenants(**topo, c.tenants), 1, kNow, false);
    auto snap2 =
        BuildSnapshot(*topo2, c.health, CompileTenants(**topo2, c.tenants), 1, kNow, false);
    for (int q = 0; q < kRequestsPerWorld; ++q) {
      const std::string country =
          rng.Chance(0.1) ? "ZZ" : kCountries[rng.Below(kCountries.size())];
      const std::string client = absl::StrCat("client-", rng.Below(1000));
      AnswerRequest req{country, tenant_ids[rng.Below(tenant_ids.size())], client,
                        static_cast<uint32_t>(rng.Below(4))};
      const Answer a = ComputeAnswer(*snap, req);
      ++answers;
      ++errors[static_cast<int>(a.error)];
      const std::string where = absl::StrCat("seed ", seed, " request ", q, " (", country, ", '",
                                             std::string(req.tenant_id), "', ", client, ", max ",
                                             req.max_secondaries, "): ");
      ASSERT_EQ(Check(c, **topo, req, a), "") << where;
      ASSERT_EQ(ComputeAnswer(*snap, req), a) << where << "not deterministic";
      ASSERT_EQ(ComputeAnswer(*snap2, req), a) << where << "differs on another replica";
      ASSERT_EQ(CheckExplain(c, **topo, req, a, Explain(*snap, req)), "") << where;
    }
  }
  // The generator must exercise every outcome (guards against a degenerate generator).
  EXPECT_EQ(answers, worlds * kRequestsPerWorld);
  if (worlds >= 1000) {
    for (int e = 0; e < 4; ++e) EXPECT_GT(errors[e], worlds / 100) << "outcome " << e;
  }
  std::printf("answers=%llu ok=%llu not_mapped=%llu no_compliant=%llu no_healthy=%llu\n",
              static_cast<unsigned long long>(answers),
              static_cast<unsigned long long>(errors[0]),
              static_cast<unsigned long long>(errors[1]),
              static_cast<unsigned long long>(errors[2]),
              static_cast<unsigned long long>(errors[3]));
}

}  // namespace
}  // namespace dcdir::core

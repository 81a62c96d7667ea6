// Property test of the directory answer over random worlds, outages, tenants and requests.
//
// Every world is generated from its own seed (base seed DCDIR_PROPERTY_SEED, default 20240601,
// mixed with the world number), so a failure message names the world to replay. The number of
// worlds is DCDIR_PROPERTY_WORLDS (default 100,000), each with several requests.
//
// The expectations come from a brute-force oracle written against the model only
// (FirstDenyingRule per DC, the tenant list, IsUsable per record): never through the
// pre-computed client classes, compiled tenants or snapshot flags of the code under test.
// Ranking by where the client is (locations, subdivisions, GeoIP, observed RTTs, spillover)
// is re-implemented here from its description in ranking.h, sharing only the primitives
// (RendezvousScore, the unit-vector distance, EstimateRttMs, BandLimitMs, SpillShare,
// SpillDraw). Requests without any of the new fields must equal the frozen pre-issue-13
// answer (tests/core/legacy_answer.h) exactly.

#include <algorithm>
#include <cmath>
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
#include "tests/core/legacy_answer.h"

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

GeoPoint RandomPoint(Rng& rng) {
  return {static_cast<double>(rng.Below(1800)) / 10 - 90,
          static_cast<double>(rng.Below(3600)) / 10 - 180};
}

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
  RankingSettings& rk = w.ranking;
  rk.rtt_base = absl::Milliseconds(rng.Below(21));
  rk.path_stretch = 1 + static_cast<double>(rng.Below(21)) / 10;
  rk.latency_band_absolute = absl::Milliseconds(rng.Below(21));
  rk.latency_band_relative = static_cast<double>(rng.Below(101)) / 100;
  rk.spill_start = static_cast<double>(rng.Below(85)) / 100;
  rk.nearest_secondaries = rng.Chance(0.5);
  rk.rtt_max_age = absl::Seconds(1 + rng.Below(600));
  for (const std::string& country : kCountries) {
    if (!rng.Chance(0.3)) continue;
    Subdivision sub;
    sub.code = absl::StrCat(country, "-", rng.Below(3));
    if (rng.Chance(0.6)) sub.region = region_ids[rng.Below(nr)];
    if (rng.Chance(0.6)) sub.point = RandomPoint(rng);
    w.subdivisions.push_back(std::move(sub));
  }

  for (const std::string& id : dc_ids) {
    if (rng.Chance(0.15)) continue;  // never reported
    HealthRecord r;
    const uint64_t s = rng.Below(10);
    r.status = s < 6 ? HealthStatus::kHealthy : s < 8 ? HealthStatus::kDown
                                                      : HealthStatus::kDraining;
    r.congested = rng.Chance(0.3);
    // Non-congested DCs cover the spillover range [spill_start, congestion_enter).
    r.congestion = r.congested ? 0.9 : static_cast<double>(rng.Below(85)) / 100;
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
// The config's subdivision of the request (only one of the request's own country), or null.
const Subdivision* SubdivisionOf(const World& w, const AnswerRequest& req) {
  if (req.subdivision.empty() || req.subdivision.substr(0, 2) != req.country) return nullptr;
  for (const Subdivision& sub : w.subdivisions) {
    if (sub.code == req.subdivision) return &sub;
  }
  return nullptr;
}

// The oracle's view of where the client is.
struct Place {
  std::optional<GeoPoint> location;
  LocationSource source = LocationSource::kNone;
  std::vector<std::pair<std::string, double>> observed;  // fresh, first per id, ms
  bool Estimates(const World& w) const {
    if (location) return true;
    for (const auto& [id, ms] : observed) {
      for (const DataCenter& dc : w.datacenters)
        if (dc.id == id) return true;
    }
    return false;
  }
  // ms, or nullopt.
  std::optional<double> Estimate(const World& w, const DataCenter& dc) const {
    for (const auto& [id, ms] : observed)
      if (id == dc.id) return ms;
    if (!location) return std::nullopt;
    const RttModel m = MakeRttModel(w.ranking, w.thresholds.congestion_enter);
    return EstimateRttMs(m, UnitDistanceKm(ToUnitVector(*location), ToUnitVector(dc.location)));
  }
};

Place PlaceOf(const World& w, const AnswerRequest& req) {
  Place p;
  const Subdivision* sub = SubdivisionOf(w, req);
  if (req.location) {
    p.location = req.location;
    p.source = LocationSource::kDeclared;
  } else if (sub != nullptr && sub->point) {
    p.location = sub->point;
    p.source = LocationSource::kSubdivision;
  } else if (req.geoip_location) {
    p.location = req.geoip_location;
    p.source = LocationSource::kGeoIp;
  }
  for (const ObservedRtt& o : req.observed_rtts) {
    if (o.rtt <= absl::ZeroDuration() || o.age < absl::ZeroDuration() ||
        o.age > w.ranking.rtt_max_age) {
      continue;
    }
    const std::string id(o.datacenter_id);
    bool seen = false;
    for (const auto& [d, ms] : p.observed) seen = seen || d == id;
    bool known = false;
    for (const DataCenter& dc : w.datacenters) known = known || dc.id == id;
    if (!seen && known) p.observed.push_back({id, absl::ToDoubleMilliseconds(o.rtt)});
  }
  return p;
}

std::string Check(const Case& c, const Topology& topo, const AnswerRequest& req,
                  const Answer& a) {
  const World& w = c.world;
  const size_t n = w.datacenters.size();
  // Home region: the subdivision's own, else the country's.
  std::optional<std::string> home;
  for (const auto& [country, region] : w.countries) {
    if (country == req.country) home = region;
  }
  if (!home) home = w.default_region;
  const Subdivision* sub = SubdivisionOf(w, req);
  if (sub != nullptr && sub->region) home = sub->region;
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
  // The exact order: per congestion group, [band by score][no estimate by score][the others
  // by estimate, ties by index]; then spilled non-congested DCs move behind the next
  // non-spilled one. Without any estimate, everything is one band: descending score.
  const Place place = PlaceOf(w, req);
  if (a.location_source != place.source) return "location_source";
  if (place.location && !(a.location == *place.location)) return "location";
  const bool estimates = place.Estimates(w);
  const RttModel model = MakeRttModel(w.ranking, w.thresholds.congestion_enter);
  const uint64_t client_hash = StableHash64(req.client_id);
  auto score = [&](uint32_t i) {
    return RendezvousScore(client_hash, StableHash64(w.datacenters[i].id),
                           HeadroomWeight(w.datacenters[i].capacity_sessions,
                                          c.health.at(w.datacenters[i].id).congestion));
  };
  std::vector<uint32_t> exp_prim;
  for (int group = 0; group < 2; ++group) {
    struct R {
      uint32_t dc;
      int tier;
      double est;
      double score;
    };
    std::vector<R> g;
    std::optional<double> best;
    for (const std::string& id : exp_primaries) {
      const uint32_t i = idx(id);
      if (congested[i] != (group == 1)) continue;
      const std::optional<double> e = estimates ? place.Estimate(w, w.datacenters[i]) : std::nullopt;
      g.push_back({i, e ? 2 : 1, e.value_or(0), score(i)});
      if (e && (!best || *e < *best)) best = *e;
    }
    for (R& r : g) {
      if (r.tier == 2 && r.est <= BandLimitMs(model, *best)) r.tier = 0;
    }
    std::sort(g.begin(), g.end(), [](const R& x, const R& y) {
      if (x.tier != y.tier) return x.tier < y.tier;
      if (x.tier == 2 && x.est != y.est) return x.est < y.est;
      if (x.tier != 2 && x.score != y.score) return x.score > y.score;
      return x.dc < y.dc;
    });
    std::vector<uint32_t> order;
    if (group == 0 && estimates) {
      std::vector<uint32_t> pending;
      for (const R& r : g) {
        const bool spilled =
            SpillDraw(client_hash, StableHash64(w.datacenters[r.dc].id)) <
            SpillShare(model, c.health.at(w.datacenters[r.dc].id).congestion);
        if (spilled) {
          pending.push_back(r.dc);
          continue;
        }
        order.push_back(r.dc);
        order.insert(order.end(), pending.begin(), pending.end());
        pending.clear();
      }
      order.insert(order.end(), pending.begin(), pending.end());
    } else {
      for (const R& r : g) order.push_back(r.dc);
    }
    exp_prim.insert(exp_prim.end(), order.begin(), order.end());
  }
  for (size_t k = 0; k < exp_prim.size(); ++k) {
    if (a.primaries[k].dc != exp_prim[k]) return absl::StrCat("primary order at ", k);
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
  if (w.ranking.nearest_secondaries && estimates) {
    std::stable_sort(conf_eligible.begin(), conf_eligible.end(),
                     [&](const std::string& x, const std::string& y) {
                       const auto ex = place.Estimate(w, w.datacenters[idx(x)]);
                       const auto ey = place.Estimate(w, w.datacenters[idx(y)]);
                       if (!ex || !ey) return ex.has_value() && !ey.has_value();
                       return *ex < *ey;
                     });
  }
  std::vector<std::pair<double, uint32_t>> others;
  for (uint32_t i = 0; i < n; ++i) {
    const std::string& id = w.datacenters[i].id;
    if (allowed[i] && usable[i] && !Contains(region.primaries, id) &&
        !Contains(region.secondaries, id)) {
      // Nearest to the client (larger dot product) when its location is known, else to the
      // region's reference point.
      others.push_back(
          {place.location ? -Dot(ToUnitVector(*place.location), ToUnitVector(w.datacenters[i].location))
                          : DistanceKm(region.reference, w.datacenters[i].location),
           i});
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
  // Policy-mandated: the tenant's control excludes every configured primary of the region.
  const bool policy = fallback && tenant != nullptr &&
                      std::none_of(region.primaries.begin(), region.primaries.end(),
                                   [&](const std::string& id) {
                                     const DataCenter& dc = w.datacenters[idx(id)];
                                     return tenant_home_known &&
                                            (dc.region == tenant->home_region ||
                                             Contains(tenant->allowed_regions, dc.region));
                                   });
  if (a.policy_mandated != policy) return "policy_mandated";
  if ((policy ? a.policy_cross_border_dcs : a.cross_border_fallback_dcs) != exp_cb) {
    return "cross-border DCs";
  }
  if (!(policy ? a.cross_border_fallback_dcs : a.policy_cross_border_dcs).empty()) {
    return "cross-border DCs counted twice";
  }
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
  // Estimates per DC, and the band/spill flags only on primaries ranked with an estimate.
  const Place place = PlaceOf(c.world, req);
  const bool estimates = place.Estimates(c.world);
  for (uint32_t i = 0; i < topo.dc_count(); ++i) {
    const DcVerdict& v = ex.verdicts[i];
    const std::optional<double> e = place.Estimate(c.world, topo.dc(i));
    if (e.has_value() != (v.rtt_source != RttSource::kNone)) return "rtt_source";
    if (e && std::abs(*e - v.estimated_rtt_ms) > 1e-9) return "estimated_rtt";
    const bool primary = v.kind == VerdictKind::kPrimary;
    if ((v.in_latency_band || v.spilled) && !(primary && estimates)) return "band/spill flag";
  }
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
  uint64_t answers = 0, plain_answers = 0, errors[4] = {0, 0, 0, 0};
  uint64_t located = 0, spilled = 0, banded_out = 0;  // exercised paths
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
      // Where the client is: half of the requests say nothing (the pre-issue-13 answer).
      std::string subdivision;
      std::vector<std::string> rtt_ids;
      std::vector<ObservedRtt> rtts;
      const bool plain = rng.Chance(0.5);
      if (!plain) {
        if (rng.Chance(0.5)) {
          const uint64_t pick = rng.Below(c.world.subdivisions.size() + 2);
          subdivision = pick < c.world.subdivisions.size()
                            ? c.world.subdivisions[pick].code
                            : absl::StrCat(pick == c.world.subdivisions.size() ? country : "AA",
                                           "-9");
        }
        if (rng.Chance(0.4)) req.location = RandomPoint(rng);
        if (rng.Chance(0.4)) req.geoip_location = RandomPoint(rng);
        if (rng.Chance(0.5)) {
          const uint64_t k = rng.Below(5);
          for (uint64_t j = 0; j < k; ++j) {
            rtt_ids.push_back(rng.Chance(0.15) ? "nope"
                                               : c.world.datacenters[rng.Below(c.world.datacenters.size())].id);
          }
          for (const std::string& id : rtt_ids) {
            rtts.push_back({id, absl::Milliseconds(1 + rng.Below(300)),
                            absl::Seconds(rng.Below(700))});
          }
        }
      }
      req.subdivision = subdivision;
      req.observed_rtts = rtts;
      const Answer a = ComputeAnswer(*snap, req);
      ++answers;
      ++errors[static_cast<int>(a.error)];
      const std::string where = absl::StrCat("seed ", seed, " request ", q, " (", country, ", '",
                                             std::string(req.tenant_id), "', ", client, ", max ",
                                             req.max_secondaries, ", sub '", subdivision, "', ",
                                             req.location ? "loc " : "", req.geoip_location ? "geoip " : "",
                                             rtts.size(), " rtts): ");
      ASSERT_EQ(Check(c, **topo, req, a), "") << where;
      if (plain) {
        ++plain_answers;
        // The lists and flags are as before; only the counting of a policy-mandated answer's
        // cross-border DCs moved to their own field.
        Answer as_before = a;
        as_before.policy_mandated = false;
        as_before.cross_border_fallback_dcs.insert(as_before.cross_border_fallback_dcs.end(),
                                                   a.policy_cross_border_dcs.begin(),
                                                   a.policy_cross_border_dcs.end());
        as_before.policy_cross_border_dcs.clear();
        ASSERT_EQ(legacy::LegacyComputeAnswer(*snap, req), as_before)
            << where << "differs from before";
      }
      ASSERT_EQ(ComputeAnswer(*snap, req), a) << where << "not deterministic";
      ASSERT_EQ(ComputeAnswer(*snap2, req), a) << where << "differs on another replica";
      const Explanation ex = Explain(*snap, req);
      ASSERT_EQ(CheckExplain(c, **topo, req, a, ex), "") << where;
      if (a.error == AnswerError::kNone) {
        located += a.location_source != LocationSource::kNone;
        bool any_spilled = false, any_out = false;
        for (const DcVerdict& v : ex.verdicts) {
          any_spilled |= v.spilled;
          any_out |= v.kind == VerdictKind::kPrimary && v.rtt_source != RttSource::kNone &&
                     !v.in_latency_band;
        }
        spilled += any_spilled;
        banded_out += any_out;
      }
    }
  }
  // The generator must exercise every outcome (guards against a degenerate generator).
  EXPECT_EQ(answers, worlds * kRequestsPerWorld);
  EXPECT_GT(plain_answers, answers / 3);
  if (worlds >= 1000) {
    EXPECT_GT(located, answers / 20);
    EXPECT_GT(spilled, answers / 1000);
    EXPECT_GT(banded_out, answers / 200);
  }
  if (worlds >= 1000) {
    for (int e = 0; e < 4; ++e) EXPECT_GT(errors[e], worlds / 100) << "outcome " << e;
  }
  std::printf("located=%llu spilled=%llu outside_band=%llu plain=%llu\n",
              static_cast<unsigned long long>(located), static_cast<unsigned long long>(spilled),
              static_cast<unsigned long long>(banded_out),
              static_cast<unsigned long long>(plain_answers));
  std::printf("answers=%llu ok=%llu not_mapped=%llu no_compliant=%llu no_healthy=%llu\n",
              static_cast<unsigned long long>(answers),
              static_cast<unsigned long long>(errors[0]),
              static_cast<unsigned long long>(errors[1]),
              static_cast<unsigned long long>(errors[2]),
              static_cast<unsigned long long>(errors[3]));
}

}  // namespace
}  // namespace dcdir::core

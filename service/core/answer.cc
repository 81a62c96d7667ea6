// The directory answer, exactly (README.md, "What an answer is").
//
// Inputs: a snapshot (topology, deny rules pre-evaluated per client class, health as of the
// snapshot's build time, tenant policies) and a request (country C, subdivision S, tenant T,
// client id K, max_secondaries M, location, observed RTTs). R = S's own home region when the
// config gives S one, else C's home region (its mapping, else the default region).
// The location L used for ranking: the request's, else S's point in the config, else GeoIP's.
//
//  0. C has no home region (not mapped, no default region)      -> kCountryNotMapped.
//  1. allowed(dc) = no deny rule matches (C, R, dc)  AND  (T unknown/empty OR dc.region is in
//     T's allowed regions ∪ {T's home region}). No DC of the whole topology is allowed
//                                                                -> kNoCompliantDatacenter.
//     usable(dc) = HEALTHY and its report not expired at the snapshot's build time.
//  2. Primaries = R's primaries that are allowed and usable, in two groups: non-congested
//     first, then congested. Inside each group: descending
//         score = RendezvousScore(StableHash64(K), StableHash64(dc.id), weight(dc))
//               = -weight / ln(u(K, dc)),  weight = capacity * max(0.05, 1 - congestion)
//     (weighted rendezvous hashing: a client's first DC is drawn with probability
//     proportional to capacity headroom; the same K always gets the same order);
//     equal scores by ascending DC index (file order).
//     When the client has an estimated RTT (L known, or a fresh observed RTT of a DC), each
//     group is: [latency band by score] [DCs without estimate by score] [the others by
//     estimate, ties by index], then gradual spillover moves each spilled non-congested DC
//     behind the next non-spilled one (service/core/ranking.h has the model).
//  3. Secondaries. Eligible = allowed, usable and not one of R's primaries.
//       configured = R's configured secondaries that are eligible, in configured order;
//       if |configured| < thresholds.min_secondaries, need = min_secondaries - |configured|
//       (with ranking.nearest_secondaries and an estimate: smallest estimate first, DCs
//       without one after them in configured order);
//       top-ups: among the eligible DCs that are not configured secondaries of R, ordered by
//       great-circle distance from L when known, else from R's reference point (nearest first,
//       ties by DC index; for R's reference precomputed as CompiledRegion::by_distance): the
//       `need` nearest non-congested ones; if fewer exist, completed with the nearest
//       congested ones.
//     Final order (congestion first, then configured before topped-up):
//       [configured non-congested (configured order)] [top-ups non-congested (nearest first)]
//       [configured congested (configured order)]     [top-ups congested (nearest first)]
//     Then, if M > 0, the list is cut to its first M entries.
//  4. fallback_active = no non-congested primary is offered (none at all, or all congested).
//     secondary_attempts = thresholds.secondary_attempts.
//  5. Every pick carries congested (hysteresis state) and cross_border (dc.country != C).
//     policy_mandated = fallback_active and T's routing control excludes every primary of R
//     (T's clients are sent abroad by policy, whatever the health).
//     cross_border_fallback_dcs = when fallback_active and not policy_mandated, the
//     cross-border DCs among the first secondary_attempts secondaries (in list order);
//     policy_cross_border_dcs = the same when policy_mandated.
//  6. No primary and no secondary offered                        -> kNoHealthyCompliantDatacenter.
//     An error answer carries only `error` and `region` (lists empty, flags false).
//  7. Pure function of (snapshot, request): deterministic on every replica.
//
// Explain() gives every DC one verdict, first match wins: deny rule > tenant control >
// health kept by self-preservation (offered or not, kind as computed) > status (DOWN/DRAINING)
// > expired or never reported > offered (primary/secondary; reason kCongested when congested,
// else kTopUp when topped up, else kCandidate) > cut by max_secondaries > not a candidate.
//
// Hot path: no heap allocation for answers of up to 8 primaries and 8 secondaries and up to 8
// observed RTTs (inlined vectors); the lookups are the country, subdivision and tenant hash
// maps and one DC id lookup per observed RTT.

#include "service/core/answer.h"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "service/core/ranking.h"

namespace dcdir::core {
namespace {

struct Scored {
  double score;
  uint32_t dc;
  bool congested;
};

// A primary ranked with estimates.
struct Ranked {
  double score;
  double estimate_ms;  // valid unless tier == kNoEstimate
  uint32_t dc;
  bool congested;
  uint8_t tier;  // kBand, kNoEstimate, kOutside
  bool spilled;
};
constexpr uint8_t kBand = 0, kNoEstimate = 1, kOutside = 2;

struct Entry {
  uint32_t dc;
  bool congested;
  bool top_up;
};

// Where the client is, for estimates.
class ClientPlace {
 public:
  ClientPlace(const Topology& topo, const AnswerRequest& req, const ResolvedClient& client,
              Answer* answer)
      : topo_(topo) {
    if (req.location.has_value()) {
      Locate(LocationSource::kDeclared, *req.location, answer);
    } else if (client.subdivision != nullptr && client.subdivision->has_point) {
      Locate(LocationSource::kSubdivision, client.subdivision->point, answer);
    } else if (req.geoip_location.has_value()) {
      Locate(LocationSource::kGeoIp, *req.geoip_location, answer);
    }
    const double max_age_ms = topo.rtt_model().rtt_max_age_ms;
    for (const ObservedRtt& o : req.observed_rtts) {
      const double ms = absl::ToDoubleMilliseconds(o.rtt);
      const double age_ms = absl::ToDoubleMilliseconds(o.age);
      if (!(ms > 0) || !(age_ms >= 0) || age_ms > max_age_ms) continue;  // not fresh
      const uint32_t dc = topo.DcIndex(o.datacenter_id);
      if (dc == kNoIndex) continue;  // a DC this config does not know
      bool seen = false;
      for (const auto& [d, v] : observed_) seen = seen || d == dc;
      if (!seen) observed_.push_back({dc, ms});
    }
  }

  bool has_location() const { return has_location_; }
  bool has_estimates() const { return has_location_ || !observed_.empty(); }
  const UnitVector& unit() const { return unit_; }

  // The estimate for DC i (ms) and its source.
  RttSource Estimate(uint32_t i, double* ms) const {
    for (const auto& [d, v] : observed_) {
      if (d == i) {
        *ms = v;
        return RttSource::kObserved;
      }
    }
    if (has_location_) {
      *ms = EstimateRttMs(topo_.rtt_model(), UnitDistanceKm(unit_, topo_.dc_unit(i)));
      return RttSource::kDistance;
    }
    *ms = 0;
    return RttSource::kNone;
  }

 private:
  void Locate(LocationSource source, const GeoPoint& p, Answer* answer) {
    has_location_ = true;
    unit_ = ToUnitVector(p);
    answer->location_source = source;
    answer->location = p;
  }

  const Topology& topo_;
  bool has_location_ = false;
  UnitVector unit_;
  absl::InlinedVector<std::pair<uint32_t, double>, 8> observed_;
};

// What Explain needs beyond the answer.
struct Trace {
  const ClientClass* cls = nullptr;
  const CompiledTenant* tenant = nullptr;
  absl::InlinedVector<bool, 8> top_up;  // parallel to answer.secondaries
  absl::InlinedVector<uint32_t, 8> cut;  // removed by max_secondaries
  bool ranked_with_estimates = false;
  absl::InlinedVector<uint32_t, 8> in_band;  // primaries in their group's latency band
  absl::InlinedVector<uint32_t, 8> spilled;  // primaries moved by spillover
};

// Moves every spilled DC of [first, last) behind the next non-spilled one, keeping the
// relative order of the others (a spilled DC with no non-spilled DC after it stays where it is).
void ApplySpillover(Ranked* first, Ranked* last) {
  absl::InlinedVector<Ranked, 8> out, pending;
  for (Ranked* p = first; p != last; ++p) {
    if (p->spilled) {
      pending.push_back(*p);
      continue;
    }
    out.push_back(*p);
    for (const Ranked& q : pending) out.push_back(q);
    pending.clear();
  }
  for (const Ranked& q : pending) out.push_back(q);
  std::copy(out.begin(), out.end(), first);
}

void RankPrimariesByEstimate(const Snapshot& s, const CompiledRegion& cr, const ClientPlace& place,
                             uint64_t client_hash,
                             const absl::FunctionRef<bool(uint32_t)>& offerable,
                             absl::InlinedVector<Ranked, 8>* prim, Trace* trace) {
  const RttModel& model = s.topology->rtt_model();
  const Topology& topo = *s.topology;
  double best[2] = {0, 0};
  bool any[2] = {false, false};
  for (uint32_t i : cr.primaries) {
    if (!offerable(i)) continue;
    const DcState& st = s.dcs[i];
    Ranked r{RendezvousScore(client_hash, topo.dc_id_hash(i), st.weight), 0, i, st.congested,
             kNoEstimate, false};
    if (place.Estimate(i, &r.estimate_ms) != RttSource::kNone) {
      r.tier = kOutside;
      const int g = r.congested ? 1 : 0;
      if (!any[g] || r.estimate_ms < best[g]) best[g] = r.estimate_ms;
      any[g] = true;
    }
    if (!r.congested) {
      r.spilled =
          SpillDraw(client_hash, topo.dc_id_hash(i)) < SpillShare(model, st.record.congestion);
    }
    prim->push_back(r);
  }
  for (Ranked& r : *prim) {
    const int g = r.congested ? 1 : 0;
    if (r.tier == kOutside && r.estimate_ms <= BandLimitMs(model, best[g])) r.tier = kBand;
  }
  std::sort(prim->begin(), prim->end(), [](const Ranked& x, const Ranked& y) {
    if (x.congested != y.congested) return !x.congested;
    if (x.tier != y.tier) return x.tier < y.tier;
    if (x.tier == kOutside) {
      if (x.estimate_ms != y.estimate_ms) return x.estimate_ms < y.estimate_ms;
    } else if (x.score != y.score) {
      return x.score > y.score;
    }
    return x.dc < y.dc;
  });
  auto congested_begin = std::find_if(prim->begin(), prim->end(),
                                      [](const Ranked& r) { return r.congested; });
  if (trace != nullptr) {
    trace->ranked_with_estimates = true;
    for (const Ranked& r : *prim) {
      if (r.tier == kBand) trace->in_band.push_back(r.dc);
    }
  }
  // Which DCs actually moved: a spilled DC with nothing non-spilled behind it stays.
  bool moves = false;
  for (auto it = prim->begin(); it != congested_begin; ++it) {
    if (!it->spilled) continue;
    const bool later = std::any_of(it + 1, congested_begin, [](const Ranked& r) { return !r.spilled; });
    it->spilled = later;
    moves |= later;
    if (later && trace != nullptr) trace->spilled.push_back(it->dc);
  }
  if (moves) ApplySpillover(prim->data(), prim->data() + (congested_begin - prim->begin()));
}

// The `need` eligible DCs nearest to `unit` of each kind (non-congested / congested), nearest
// first, ties by DC index.
template <typename Eligible>
void NearestTopUps(const Snapshot& s, const UnitVector& unit, size_t need, size_t words,
                   const Eligible& eligible_word,
                   const absl::FunctionRef<bool(uint32_t)>& configured_secondary,
                   absl::InlinedVector<Entry, 8>* top_nc, absl::InlinedVector<Entry, 8>* top_c) {
  const Topology& topo = *s.topology;
  absl::InlinedVector<double, 8> dot_nc, dot_c;  // parallel to top_nc / top_c
  auto keep = [&](absl::InlinedVector<Entry, 8>& v, absl::InlinedVector<double, 8>& dots,
                  Entry e, double d) {
    size_t pos = v.size();
    // Nearer = larger dot; equal dots keep index order (the scan goes by ascending index).
    while (pos > 0 && dots[pos - 1] < d) --pos;
    if (pos >= need) return;
    v.insert(v.begin() + static_cast<ptrdiff_t>(pos), e);
    dots.insert(dots.begin() + static_cast<ptrdiff_t>(pos), d);
    if (v.size() > need) {
      v.pop_back();
      dots.pop_back();
    }
  };
  for (size_t k = 0; k < words; ++k) {
    for (uint64_t w = eligible_word(k); w != 0; w &= w - 1) {
      const uint32_t i = static_cast<uint32_t>(k * 64 + std::countr_zero(w));
      if (configured_secondary(i)) continue;
      const bool congested = s.dcs[i].congested;
      const double d = Dot(unit, topo.dc_unit(i));
      if (congested) {
        keep(*top_c, dot_c, {i, true, true}, d);
      } else {
        keep(*top_nc, dot_nc, {i, false, true}, d);
      }
    }
  }
}

// The client of `req`: its given class, else what its country and subdivision resolve to.
ResolvedClient ResolveRequest(const Topology& topo, const AnswerRequest& req) {
  if (req.client_class == nullptr) return topo.Resolve(req.country, req.subdivision);
  ResolvedClient client;
  client.region = req.client_class->region;
  client.cls = req.client_class;
  if (!req.client_class->subdivision.empty()) {
    client.subdivision = topo.FindSubdivision(req.client_class->subdivision);
  }
  return client;
}

Answer Compute(const Snapshot& s, const AnswerRequest& req, Trace* trace) {
  Answer a;
  const Topology& topo = *s.topology;
  // The tenant lookup starts first: its cache misses (100,000 tenants are several MB) overlap
  // resolving the client.
  const bool has_tenant = !req.tenant_id.empty() && s.tenants != nullptr;
  TenantTable::Lookup lookup;
  if (has_tenant && trace == nullptr) lookup = s.tenants->StartLookup(req.tenant_id);
  const ResolvedClient client = ResolveRequest(topo, req);
  if (client.region == kNoIndex) {
    a.error = AnswerError::kCountryNotMapped;
    return a;
  }
  const uint32_t region = client.region;
  a.region = region;

  const ClientClass& cls = *client.cls;
  // The tenant's allowed set (none: no tenant), read from its map slot alone (FindAllowed);
  // Explain also wants the policy.
  std::optional<DcSetView> tenant;
  if (has_tenant) {
    if (trace != nullptr) {
      trace->tenant = s.tenants->Find(req.tenant_id);
      if (trace->tenant != nullptr) tenant.emplace(trace->tenant->allowed);
    } else {
      tenant = s.tenants->FindAllowed(lookup);
    }
  }
  if (trace != nullptr) trace->cls = &cls;
  const ClientPlace place(topo, req, client, &a);
  const bool any_allowed =
      tenant.has_value() ? tenant->Intersects(cls.allowed) : !cls.allowed.Empty();
  if (!any_allowed) {
    a.error = AnswerError::kNoCompliantDatacenter;
    return a;
  }

  auto offerable = [&](uint32_t i) {
    return s.usable.Contains(i) && cls.allowed.Contains(i) &&
           (!tenant.has_value() || tenant->Contains(i));
  };
  auto cross_border = [&](uint32_t i) { return topo.dc(i).country != req.country; };

  // --- Primaries.
  const CompiledRegion& cr = topo.region(region);
  const uint64_t client_hash = StableHash64(req.client_id);
  if (!place.has_estimates()) {
    absl::InlinedVector<Scored, 8> prim;
    for (uint32_t i : cr.primaries) {
      if (!offerable(i)) continue;
      const DcState& st = s.dcs[i];
      prim.push_back(
          {RendezvousScore(client_hash, topo.dc_id_hash(i), st.weight), i, st.congested});
    }
    std::sort(prim.begin(), prim.end(), [](const Scored& x, const Scored& y) {
      if (x.congested != y.congested) return !x.congested;
      if (x.score != y.score) return x.score > y.score;
      return x.dc < y.dc;
    });
    for (const Scored& p : prim) a.primaries.push_back({p.dc, p.congested, cross_border(p.dc)});
  } else {
    absl::InlinedVector<Ranked, 8> prim;
    RankPrimariesByEstimate(s, cr, place, client_hash, offerable, &prim, trace);
    for (const Ranked& p : prim) a.primaries.push_back({p.dc, p.congested, cross_border(p.dc)});
  }

  // --- Secondaries.
  auto eligible = [&](uint32_t i) { return !cr.primary_set.Contains(i) && offerable(i); };
  absl::InlinedVector<Entry, 8> configured;
  for (uint32_t i : cr.secondaries) {
    if (eligible(i)) configured.push_back({i, s.dcs[i].congested, false});
  }
  if (topo.world().ranking.nearest_secondaries && place.has_estimates() && configured.size() > 1) {
    // Smallest estimate first; DCs without an estimate after them, in configured order.
    absl::InlinedVector<std::pair<double, uint32_t>, 8> keyed;  // (estimate or +inf, position)
    for (size_t k = 0; k < configured.size(); ++k) {
      double ms = 0;
      const bool known = place.Estimate(configured[k].dc, &ms) != RttSource::kNone;
      keyed.push_back({known ? ms : std::numeric_limits<double>::infinity(),
                       static_cast<uint32_t>(k)});
    }
    std::sort(keyed.begin(), keyed.end());  // ties keep configured order (position)
    absl::InlinedVector<Entry, 8> sorted;
    for (const auto& [ms, k] : keyed) sorted.push_back(configured[k]);
    configured = std::move(sorted);
  }
  absl::InlinedVector<Entry, 8> top_nc, top_c;  // top-ups, non-congested / congested
  const uint32_t min_secondaries = topo.world().thresholds.min_secondaries;
  if (configured.size() < min_secondaries) {
    const size_t need = min_secondaries - configured.size();
    auto configured_secondary = [&](uint32_t i) {
      return std::find(cr.secondaries.begin(), cr.secondaries.end(), i) != cr.secondaries.end();
    };
    // The eligible set, word by word (no temporary set is built).
    auto eligible_word = [&](size_t k) {
      uint64_t w = s.usable.word(k) & cls.allowed.word(k) & ~cr.primary_set.word(k);
      if (tenant.has_value()) w &= tenant->word(k);
      return w;
    };
    const size_t words = s.usable.word_count();
    if (place.has_location()) {
      // Nearest to the client: one dot product per eligible DC.
      NearestTopUps(s, place.unit(), need, words, eligible_word, configured_secondary, &top_nc,
                    &top_c);
    } else {
      size_t count = 0;
      for (size_t k = 0; k < words; ++k) count += static_cast<size_t>(std::popcount(eligible_word(k)));
      if (count * count >= need * topo.dc_count()) {
        // Dense: walking the DCs nearest first finds `need` of them after ~need*n/count steps.
        for (uint32_t i : cr.by_distance) {
          if (!eligible(i) || configured_secondary(i)) continue;
          if (s.dcs[i].congested) {
            if (top_c.size() < need) top_c.push_back({i, true, true});
          } else {
            top_nc.push_back({i, false, true});
            if (top_nc.size() == need) break;
          }
        }
      } else {
        // Sparse (e.g. a tenant allowing a few far regions): visit only the eligible DCs and
        // keep the `need` nearest of each kind, by their rank in by_distance (the same order).
        auto keep_nearest = [&](absl::InlinedVector<Entry, 8>& v, Entry e) {
          const uint32_t rank = cr.distance_rank[e.dc];
          size_t pos = v.size();
          while (pos > 0 && cr.distance_rank[v[pos - 1].dc] > rank) --pos;
          if (pos >= need) return;
          v.insert(v.begin() + static_cast<ptrdiff_t>(pos), e);
          if (v.size() > need) v.pop_back();
        };
        for (size_t k = 0; k < words; ++k) {
          for (uint64_t w = eligible_word(k); w != 0; w &= w - 1) {
            const uint32_t i = static_cast<uint32_t>(k * 64 + std::countr_zero(w));
            if (configured_secondary(i)) continue;
            const bool congested = s.dcs[i].congested;
            keep_nearest(congested ? top_c : top_nc, {i, congested, true});
          }
        }
      }
    }
    if (top_c.size() > need - top_nc.size()) top_c.resize(need - top_nc.size());
  }
  absl::InlinedVector<Entry, 8> ordered;
  for (const Entry& e : configured)
    if (!e.congested) ordered.push_back(e);
  for (const Entry& e : top_nc) ordered.push_back(e);
  for (const Entry& e : configured)
    if (e.congested) ordered.push_back(e);
  for (const Entry& e : top_c) ordered.push_back(e);

  size_t keep = ordered.size();
  if (req.max_secondaries != 0 && keep > req.max_secondaries) keep = req.max_secondaries;
  for (size_t k = 0; k < ordered.size(); ++k) {
    const Entry& e = ordered[k];
    if (k < keep) {
      a.secondaries.push_back({e.dc, e.congested, cross_border(e.dc)});
      if (trace != nullptr) trace->top_up.push_back(e.top_up);
    } else if (trace != nullptr) {
      trace->cut.push_back(e.dc);
    }
  }

  if (a.primaries.empty() && a.secondaries.empty()) {
    a.error = AnswerError::kNoHealthyCompliantDatacenter;
    a.secondaries.clear();
    if (trace != nullptr) {
      trace->top_up.clear();
      trace->cut.clear();
    }
    return a;
  }

  a.fallback_active = a.primaries.empty() || a.primaries.front().congested;
  a.secondary_attempts = topo.world().thresholds.secondary_attempts;
  if (a.fallback_active) {
    // Policy-mandated: the tenant's routing control excludes every primary of the client's own
    // region, so its clients are sent abroad by policy whatever the health (not a fallback).
    a.policy_mandated = tenant.has_value();
    for (uint32_t i : cr.primaries) {
      if (a.policy_mandated && tenant->Contains(i)) a.policy_mandated = false;
    }
    auto& dcs = a.policy_mandated ? a.policy_cross_border_dcs : a.cross_border_fallback_dcs;
    const size_t tries = std::min<size_t>(a.secondary_attempts, a.secondaries.size());
    for (size_t k = 0; k < tries; ++k) {
      if (a.secondaries[k].cross_border) dcs.push_back(a.secondaries[k].dc);
    }
  }
  return a;
}

}  // namespace

Answer ComputeAnswer(const Snapshot& snapshot, const AnswerRequest& request) {
  return Compute(snapshot, request, nullptr);
}

Explanation Explain(const Snapshot& snapshot, const AnswerRequest& request) {
  Trace trace;
  Explanation ex;
  ex.answer = Compute(snapshot, request, &trace);
  if (trace.tenant != nullptr) ex.tenant = &trace.tenant->policy;

  const Topology& topo = *snapshot.topology;
  const size_t n = topo.dc_count();
  ex.verdicts.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    DcVerdict& v = ex.verdicts[i];
    v.dc = i;
    v.cross_border = topo.dc(i).country != request.country;
  }
  if (ex.answer.error == AnswerError::kCountryNotMapped) return ex;  // all kNotACandidate

  // Offered and cut DCs, by index.
  for (size_t k = 0; k < ex.answer.primaries.size(); ++k) {
    const Pick& p = ex.answer.primaries[k];
    DcVerdict& v = ex.verdicts[p.dc];
    v.kind = VerdictKind::kPrimary;
    v.reason = p.congested ? VerdictReason::kCongested : VerdictReason::kCandidate;
    v.rank = static_cast<uint32_t>(k + 1);
  }
  for (size_t k = 0; k < ex.answer.secondaries.size(); ++k) {
    const Pick& p = ex.answer.secondaries[k];
    DcVerdict& v = ex.verdicts[p.dc];
    v.kind = VerdictKind::kSecondary;
    v.reason = p.congested      ? VerdictReason::kCongested
               : trace.top_up[k] ? VerdictReason::kTopUp
                                 : VerdictReason::kCandidate;
    v.rank = static_cast<uint32_t>(k + 1);
  }
  for (uint32_t dc : trace.cut) ex.verdicts[dc].reason = VerdictReason::kCutByMaxSecondaries;

  // Estimates (every DC, offered or not) and what the ranking did with them.
  {
    Answer scratch;
    const ResolvedClient client = ResolveRequest(topo, request);
    const ClientPlace place(topo, request, client, &scratch);
    for (uint32_t i = 0; i < n; ++i) {
      DcVerdict& v = ex.verdicts[i];
      v.rtt_source = place.Estimate(i, &v.estimated_rtt_ms);
    }
    for (uint32_t dc : trace.in_band) ex.verdicts[dc].in_latency_band = true;
    for (uint32_t dc : trace.spilled) ex.verdicts[dc].spilled = true;
  }

  // Exclusions, in precedence order (these DCs are never offered, so nothing is overwritten
  // that was offered).
  for (uint32_t i = 0; i < n; ++i) {
    DcVerdict& v = ex.verdicts[i];
    const DcState& st = snapshot.dcs[i];
    if (trace.cls->denying_rule[i] >= 0) {
      v.reason = VerdictReason::kDenyRule;
      v.rule_index = trace.cls->denying_rule[i];
    } else if (trace.tenant != nullptr && !trace.tenant->allowed.Contains(i)) {
      v.reason = VerdictReason::kTenantControl;
    } else if (st.health_kept) {
      v.reason = VerdictReason::kHealthKept;  // kind and rank as computed above
      continue;
    } else if (st.status == HealthStatus::kDown || st.status == HealthStatus::kDraining) {
      v.reason = VerdictReason::kStatus;
    } else if (st.status == HealthStatus::kUnknown) {
      v.reason = VerdictReason::kExpired;
    } else {
      continue;
    }
    v.kind = VerdictKind::kExcluded;
    v.rank = 0;
  }
  return ex;
}

std::string_view ReasonToken(AnswerError e) {
  switch (e) {
    case AnswerError::kNone:
      return "";
    case AnswerError::kCountryNotMapped:
      return "COUNTRY_NOT_MAPPED";
    case AnswerError::kNoCompliantDatacenter:
      return "NO_COMPLIANT_DATACENTER";
    case AnswerError::kNoHealthyCompliantDatacenter:
      return "NO_HEALTHY_COMPLIANT_DATACENTER";
  }
  return "";
}

}  // namespace dcdir::core

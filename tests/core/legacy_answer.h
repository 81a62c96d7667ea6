#ifndef DCDIR_TESTS_CORE_LEGACY_ANSWER_H_
#define DCDIR_TESTS_CORE_LEGACY_ANSWER_H_

// The directory answer exactly as it was before ranking by client location (issue 13), frozen
// here so tests can prove that a request without a location, subdivision or observed RTTs gets
// the same answer, byte for byte, as before. Never change this file to make a test pass: a
// difference is a change of behaviour for every existing client.

#include <algorithm>
#include <bit>
#include <cstddef>
#include <string_view>

#include "absl/container/inlined_vector.h"
#include "absl/strings/string_view.h"
#include "service/core/answer.h"
#include "service/core/ranking.h"
#include "service/core/snapshot.h"

namespace dcdir::core::legacy {

struct LegacyScored {
  double score;
  uint32_t dc;
  bool congested;
};

struct LegacyEntry {
  uint32_t dc;
  bool congested;
  bool top_up;
};

inline Answer LegacyComputeAnswer(const Snapshot& s, const AnswerRequest& req) {
  Answer a;
  const Topology& topo = *s.topology;
  const uint32_t region = topo.HomeRegion(req.country);
  if (region == kNoIndex) {
    a.error = AnswerError::kCountryNotMapped;
    return a;
  }
  a.region = region;

  const ClientClass& cls = topo.ClassFor(req.country, region);
  const CompiledTenant* tenant = nullptr;
  if (!req.tenant_id.empty() && s.tenants != nullptr) {
    tenant = s.tenants->Find(req.tenant_id);
  }
  const bool any_allowed =
      tenant != nullptr ? cls.allowed.Intersects(tenant->allowed) : !cls.allowed.Empty();
  if (!any_allowed) {
    a.error = AnswerError::kNoCompliantDatacenter;
    return a;
  }

  auto offerable = [&](uint32_t i) {
    return s.usable.Contains(i) && cls.allowed.Contains(i) &&
           (tenant == nullptr || tenant->allowed.Contains(i));
  };
  auto cross_border = [&](uint32_t i) { return topo.dc(i).country != req.country; };

  // --- Primaries.
  const CompiledRegion& cr = topo.region(region);
  const uint64_t client_hash = StableHash64(req.client_id);
  absl::InlinedVector<LegacyScored, 8> prim;
  for (uint32_t i : cr.primaries) {
    if (!offerable(i)) continue;
    const DcState& st = s.dcs[i];
    prim.push_back({RendezvousScore(client_hash, s.topology->dc_id_hash(i), st.weight), i, st.congested});
  }
  std::sort(prim.begin(), prim.end(), [](const LegacyScored& x, const LegacyScored& y) {
    if (x.congested != y.congested) return !x.congested;
    if (x.score != y.score) return x.score > y.score;
    return x.dc < y.dc;
  });
  for (const LegacyScored& p : prim) a.primaries.push_back({p.dc, p.congested, cross_border(p.dc)});

  // --- Secondaries.
  auto eligible = [&](uint32_t i) { return !cr.primary_set.Contains(i) && offerable(i); };
  absl::InlinedVector<LegacyEntry, 8> configured;
  for (uint32_t i : cr.secondaries) {
    if (eligible(i)) configured.push_back({i, s.dcs[i].congested, false});
  }
  absl::InlinedVector<LegacyEntry, 8> top_nc, top_c;  // top-ups, non-congested / congested
  const uint32_t min_secondaries = topo.world().thresholds.min_secondaries;
  if (configured.size() < min_secondaries) {
    const size_t need = min_secondaries - configured.size();
    auto configured_secondary = [&](uint32_t i) {
      return std::find(cr.secondaries.begin(), cr.secondaries.end(), i) != cr.secondaries.end();
    };
    // The eligible set, word by word (no temporary set is built).
    auto eligible_word = [&](size_t k) {
      uint64_t w = s.usable.word(k) & cls.allowed.word(k) & ~cr.primary_set.word(k);
      if (tenant != nullptr) w &= tenant->allowed.word(k);
      return w;
    };
    const size_t words = s.usable.word_count();
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
      // Sparse (e.g. a tenant allowing a few far regions): visit only the eligible DCs and keep
      // the `need` nearest of each kind, by their rank in by_distance (the same order).
      auto keep_nearest = [&](absl::InlinedVector<LegacyEntry, 8>& v, LegacyEntry e) {
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
    if (top_c.size() > need - top_nc.size()) top_c.resize(need - top_nc.size());
  }
  absl::InlinedVector<LegacyEntry, 8> ordered;
  for (const LegacyEntry& e : configured)
    if (!e.congested) ordered.push_back(e);
  for (const LegacyEntry& e : top_nc) ordered.push_back(e);
  for (const LegacyEntry& e : configured)
    if (e.congested) ordered.push_back(e);
  for (const LegacyEntry& e : top_c) ordered.push_back(e);

  size_t keep = ordered.size();
  if (req.max_secondaries != 0 && keep > req.max_secondaries) keep = req.max_secondaries;
  for (size_t k = 0; k < ordered.size(); ++k) {
    const LegacyEntry& e = ordered[k];
    if (k < keep) {
      a.secondaries.push_back({e.dc, e.congested, cross_border(e.dc)});
    }
  }

  if (a.primaries.empty() && a.secondaries.empty()) {
    a.error = AnswerError::kNoHealthyCompliantDatacenter;
    a.secondaries.clear();
    return a;
  }

  a.fallback_active = a.primaries.empty() || a.primaries.front().congested;
  a.secondary_attempts = topo.world().thresholds.secondary_attempts;
  if (a.fallback_active) {
    const size_t tries = std::min<size_t>(a.secondary_attempts, a.secondaries.size());
    for (size_t k = 0; k < tries; ++k) {
      if (a.secondaries[k].cross_border) a.cross_border_fallback_dcs.push_back(a.secondaries[k].dc);
    }
  }
  return a;
}


}  // namespace dcdir::core::legacy

#endif  // DCDIR_TESTS_CORE_LEGACY_ANSWER_H_

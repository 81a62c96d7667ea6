#include "service/core/self_preservation.h"

#include <utility>

namespace dcdir::core {

SelfPreservation DecideSelfPreservation(const Topology& topology, const HealthMap& health,
                                        const SelfPreservation& previous, absl::Time now,
                                        absl::Duration window, double threshold) {
  SelfPreservation d;
  const absl::Time start = previous.active ? previous.window_start : now - window;
  const size_t n = topology.dc_count();
  for (uint32_t i = 0; i < n; ++i) {
    auto it = health.find(topology.dc(i).id);
    if (it == health.end()) continue;
    const absl::Time expires_at = it->second.expires_at;
    if (expires_at > now) {
      ++d.alive;
    } else if (expires_at > start) {
      ++d.expired;
    }
  }
  d.active = d.expired > 0 &&
             static_cast<double>(d.expired) >= threshold * static_cast<double>(d.alive + d.expired);
  d.window_start = d.active ? start : absl::InfinitePast();
  return d;
}

bool IsKept(const SelfPreservation& decision, const HealthRecord& record, absl::Time now) {
  return decision.active && record.expires_at <= now && record.expires_at > decision.window_start;
}

std::shared_ptr<const Snapshot> BuildSnapshotWithSelfPreservation(
    std::shared_ptr<const Topology> topology, const HealthMap& health,
    std::shared_ptr<const TenantMap> tenants, uint64_t version, absl::Time now, bool stale,
    const SelfPreservation& decision) {
  if (!decision.active) {
    return BuildSnapshot(std::move(topology), health, std::move(tenants), version, now, stale);
  }
  // Judge kept records as alive (an infinite expiry also keeps them out of next_expiry), then
  // put the stored records back so that what the snapshot shows is what was reported.
  HealthMap judged = health;
  HealthMap originals;
  for (auto& [id, record] : judged) {
    if (IsKept(decision, record, now)) {
      originals.emplace(id, record);
      record.expires_at = absl::InfiniteFuture();
    }
  }
  const Topology& topo = *topology;
  auto built = BuildSnapshot(std::move(topology), judged, std::move(tenants), version, now, stale);
  if (originals.empty()) return built;
  auto snapshot = std::make_shared<Snapshot>(*built);
  for (const auto& [id, record] : originals) {
    const uint32_t i = topo.DcIndex(id);
    if (i != kNoIndex) snapshot->dcs[i].record = record;
  }
  return snapshot;
}

}  // namespace dcdir::core

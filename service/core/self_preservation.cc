#include "service/core/self_preservation.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace dcdir::core {

SelfPreservation DecideSelfPreservation(const Topology& topology, const HealthMap& health,
                                        const SelfPreservation& previous, absl::Time now,
                                        bool enabled) {
  const SelfPreservationConfig& config = topology.world().self_preservation;
  SelfPreservation d;
  d.floor = previous.floor;
  if (!enabled || !config.enabled) return d;
  absl::Time start = previous.active ? previous.window_start
                                     : std::max(now - config.window, previous.floor);
  if (previous.active && now - previous.episode_start >= config.max_duration) {
    // The episode reached its maximum: every kept record expires for real, and none of the
    // records that expired so far may start a new episode.
    d.ended_by_max_duration = true;
    d.floor = now;
    start = now;
  }
  std::vector<char> region_counted(topology.region_count(), 0);
  std::vector<char> region_expired(topology.region_count(), 0);
  const size_t n = topology.dc_count();
  for (uint32_t i = 0; i < n; ++i) {
    auto it = health.find(topology.dc(i).id);
    if (it == health.end()) continue;
    const uint32_t region = topology.dc_region()[i];
    ++d.counted;
    region_counted[region] = 1;
    const absl::Time expires_at = it->second.expires_at;
    if (expires_at > now) {
      ++d.alive;
    } else if (expires_at > start) {
      ++d.expired;
      region_expired[region] = 1;
    }
  }
  d.regions = static_cast<int>(std::count(region_counted.begin(), region_counted.end(), 1));
  d.spread = static_cast<int>(std::count(region_expired.begin(), region_expired.end(), 1));
  d.active = !d.ended_by_max_duration &&
             d.counted >= static_cast<int>(config.min_reporting_dcs) && d.expired > 0 &&
             static_cast<double>(d.expired) >=
                 config.expired_share * static_cast<double>(d.alive + d.expired) &&
             d.spread >= 2 && 2 * d.spread > d.regions;
  if (d.active) {
    d.window_start = start;
    d.episode_start = previous.active ? previous.episode_start : now;
  }
  return d;
}

bool IsKept(const SelfPreservation& decision, const HealthRecord& record, absl::Time now) {
  return decision.active && record.expires_at <= now && record.expires_at > decision.window_start;
}

std::shared_ptr<Snapshot> BuildSnapshotWithSelfPreservation(
    std::shared_ptr<const Topology> topology, const HealthMap& health,
    std::shared_ptr<const TenantTable> tenants, uint64_t version, absl::Time now, bool stale,
    const SelfPreservation& decision) {
  return BuildSnapshot(std::move(topology), health, std::move(tenants), version, now, stale,
                       decision.active ? decision.window_start : absl::InfiniteFuture());
}

}  // namespace dcdir::core

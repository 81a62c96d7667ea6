#ifndef DCDIR_SERVICE_CORE_SELF_PRESERVATION_H_
#define DCDIR_SERVICE_CORE_SELF_PRESERVATION_H_

// Self-preservation (Eureka's idea, "renewal threshold": when many registrations expire at
// once, the registry, not the instances, is likely broken): when a large share of the DCs'
// health reports expire within one window, the reporters are broken rather than the DCs, so
// the directory keeps the last known health of those DCs for a bounded time instead of calling
// them UNKNOWN.
//
// A mass-expiry heuristic run on a small or correlated population mistakes real deaths for
// broken reporters, so it is fenced in (SelfPreservationConfig, core/model.h):
//
// Who counts: the DCs of the topology that have a health record (any status). A DC that has
// never been reported is not counted (a partial rollout of agents must not look like a mass
// expiry). Records with an infinite expiry count as alive.
//
// The rule, at time `now` (the health timeline), over a window that starts at `window_start`:
//   counted = DCs with a record;                regions = regions with a counted DC
//   alive   = counted DCs whose record is alive at `now` (expires_at > now)
//   expired = counted DCs whose record expired in (window_start, now]
//   spread  = regions with an expired DC
//   active  = enabled
//             and counted >= min_reporting_dcs             (never on a small population)
//             and expired > 0 and expired >= expired_share * (alive + expired)
//             and spread >= 2 and 2 * spread > regions     (expiries in more than half of the
//                                                           regions: a whole region, or a few,
//                                                           dying together with their agents
//                                                           is a real outage; broken reporters
//                                                           hit most regions)
// Outside an episode window_start is max(now - window, floor): a burst of expiries within one
// window starts an episode. During an episode window_start stays where the episode began, so
// every record that expired since then is kept (reporters that keep failing stay covered) and
// the same rule lifts it: as reports come back, those DCs are alive again, and once the rule no
// longer holds the episode ends and the remaining expired records are judged by their real
// expiry. An episode lasts at most max_duration: then it ends, every kept record expires for
// real, and `floor` moves to that instant so that those records never start a new episode
// (only expiries after it count).
//
// What it never does: relax compliance. Only expiry is affected: a kept record keeps its last
// status (DOWN stays DOWN, DRAINING stays DRAINING, congestion as reported); deny rules and
// tenant control are applied to the snapshot exactly as always. Every kept DC is visible
// (DcState::health_kept -> DataCenter.health_kept, Explain's HEALTH_KEPT reason, the
// dcdir_self_preservation_kept_datacenters gauge).

#include <memory>

#include "absl/time/time.h"
#include "service/core/snapshot.h"
#include "service/core/topology.h"

namespace dcdir::core {

struct SelfPreservation {
  bool active = false;
  // Records that expired after this time (and at or before the evaluation time) are kept
  // while active. InfinitePast when inactive.
  absl::Time window_start = absl::InfinitePast();
  // When the active episode began (InfinitePast when inactive).
  absl::Time episode_start = absl::InfinitePast();
  // Records that expired at or before this time are never kept: the end of the last episode
  // cut by max_duration (InfinitePast when none).
  absl::Time floor = absl::InfinitePast();
  // True on the decision that ended an episode at its max_duration.
  bool ended_by_max_duration = false;
  int counted = 0;  // DCs with a health record
  int alive = 0;    // counted DCs with a live record at the evaluation time
  int expired = 0;  // counted DCs whose record expired in (window start, evaluation time]
  int regions = 0;  // regions with a counted DC
  int spread = 0;   // regions with an expired DC (in the window)
  bool operator==(const SelfPreservation&) const = default;
};

// Decides self-preservation at `now` (the health timeline), given the previous decision
// (default-constructed for none). Only health records of DCs in `topology` are counted; the
// config is `topology.world().self_preservation`, and `enabled` = false switches it off on top.
SelfPreservation DecideSelfPreservation(const Topology& topology, const HealthMap& health,
                                        const SelfPreservation& previous, absl::Time now,
                                        bool enabled = true);

// True when `record` is one that `decision` keeps at `now` (expired, but after the window
// start of an active episode).
bool IsKept(const SelfPreservation& decision, const HealthRecord& record, absl::Time now);

// BuildSnapshot with the records that `decision` keeps judged as not expired and flagged
// DcState::health_kept. DcState::record still shows each record as stored (its real expiry);
// kept records do not count towards next_expiry. Same as BuildSnapshot when inactive.
std::shared_ptr<Snapshot> BuildSnapshotWithSelfPreservation(
    std::shared_ptr<const Topology> topology, const HealthMap& health,
    std::shared_ptr<const TenantTable> tenants, uint64_t version, absl::Time now, bool stale,
    const SelfPreservation& decision);

}  // namespace dcdir::core

#endif  // DCDIR_SERVICE_CORE_SELF_PRESERVATION_H_

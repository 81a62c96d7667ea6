#ifndef DCDIR_SERVICE_CORE_SELF_PRESERVATION_H_
#define DCDIR_SERVICE_CORE_SELF_PRESERVATION_H_

// Self-preservation (Eureka's idea): when half or more of the DCs' health reports expire
// within one window, the reporters are broken rather than the DCs, so the directory keeps the
// last known health of those DCs instead of calling them UNKNOWN.
//
// Who counts: the DCs of the topology that have a health record (any status). A DC that has
// never been reported is not counted (a partial rollout of agents must not look like a mass
// expiry). Records with an infinite expiry count as alive.
//
// The rule, at time `now`, over a window that starts at `window_start`:
//   alive   = DCs whose record is alive at `now` (expires_at > now)
//   expired = DCs whose record expired in (window_start, now]
//   active  = expired > 0 and expired >= threshold * (alive + expired)
// Outside an episode window_start is `now - window` (a burst of expiries within one window
// starts an episode). During an episode window_start stays where the episode began, so every
// record that expired since then is kept (reporters that keep failing stay covered) and the
// same rule lifts it: as reports come back, those DCs are alive again, and once fewer than
// `threshold` of the counted DCs are still expired the episode ends and the remaining expired
// records are judged by their real expiry.
//
// What it never does: relax compliance. Only expiry is affected: a kept record keeps its
// last status (DOWN stays DOWN, DRAINING stays DRAINING, congestion as reported); deny rules
// and tenant control are applied to the snapshot exactly as always.

#include <memory>

#include "absl/time/time.h"
#include "service/core/snapshot.h"
#include "service/core/topology.h"

namespace dcdir::core {

inline constexpr double kSelfPreservationThreshold = 0.5;

struct SelfPreservation {
  bool active = false;
  // Records that expired after this time (and at or before the evaluation time) are kept
  // while active. InfinitePast when inactive.
  absl::Time window_start = absl::InfinitePast();
  int alive = 0;    // counted DCs with a live record at the evaluation time
  int expired = 0;  // counted DCs whose record expired in (window start, evaluation time]
  bool operator==(const SelfPreservation&) const = default;
};

// Decides self-preservation at `now`, given the previous decision (default-constructed for
// none). Only health records of DCs in `topology` are counted. `threshold` in (0, 1].
SelfPreservation DecideSelfPreservation(const Topology& topology, const HealthMap& health,
                                        const SelfPreservation& previous, absl::Time now,
                                        absl::Duration window,
                                        double threshold = kSelfPreservationThreshold);

// True when `record` is one that `decision` keeps at `now` (expired, but after the window
// start of an active episode).
bool IsKept(const SelfPreservation& decision, const HealthRecord& record, absl::Time now);

// BuildSnapshot, with the records that `decision` keeps judged as not expired. The snapshot's
// DcState::record still shows each record as stored (its real expiry); kept records do not
// count towards next_expiry. Same as BuildSnapshot when the decision is inactive.
std::shared_ptr<const Snapshot> BuildSnapshotWithSelfPreservation(
    std::shared_ptr<const Topology> topology, const HealthMap& health,
    std::shared_ptr<const TenantMap> tenants, uint64_t version, absl::Time now, bool stale,
    const SelfPreservation& decision);

}  // namespace dcdir::core

#endif  // DCDIR_SERVICE_CORE_SELF_PRESERVATION_H_

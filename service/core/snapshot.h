#ifndef DCDIR_SERVICE_CORE_SNAPSHOT_H_
#define DCDIR_SERVICE_CORE_SNAPSHOT_H_

// Immutable, versioned views (topology + policy + health) and the holder that swaps them
// atomically and hands them to request threads without taking a lock on the fast path.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "service/core/dc_set.h"
#include "service/core/model.h"
#include "service/core/tenant_table.h"
#include "service/core/topology.h"

namespace dcdir::core {

// Health of one DC as of the snapshot's build time.
struct DcState {
  HealthRecord record;                          // as stored (expired or not)
  HealthStatus status = HealthStatus::kUnknown;  // effective: kUnknown when expired/missing
  bool usable = false;                          // HEALTHY and not expired (or kept)
  // Hysteresis under the snapshot's thresholds: the record's stored direction re-judged with
  // NextCongested(record.congested, record.congestion, thresholds), so a threshold change by
  // reload applies at once, keeping each DC's hysteresis direction.
  bool congested = false;
  // The record expired but self-preservation keeps it (judged as not expired).
  bool health_kept = false;
  double weight = 0;  // HeadroomWeight(capacity, congestion)
  // (A DC id's StableHash64 is config-static: Topology::dc_id_hash.)
};

using HealthMap = absl::flat_hash_map<std::string, HealthRecord>;  // DC id -> record

struct Snapshot {
  uint64_t version = 0;
  absl::Time built_at;  // on the health timeline (HealthRecord's times): what health is judged at
  bool stale = false;  // built from the last good store state while the store is unreachable
  std::shared_ptr<const Topology> topology;
  std::vector<DcState> dcs;  // per DC index
  DcSet usable;              // DCs usable at built_at
  std::shared_ptr<const TenantTable> tenants;  // never null
  // The earliest expiry after built_at of a usable DC: the snapshot must be rebuilt then.
  absl::Time next_expiry = absl::InfiniteFuture();
  // Stored tenant policies that name a region the topology does not define
  // (tenants->orphaned()).
  size_t orphaned_tenants = 0;
  // DCs whose health self-preservation keeps past its expiry.
  size_t kept = 0;
};

// Builds a snapshot judging health at `now` (the health timeline). Health records for unknown
// DC ids are ignored. A record that expired at or before `now` but after `keep_expired_after`
// is kept: judged as not expired and flagged health_kept (self-preservation; InfiniteFuture
// keeps none). Kept records do not count towards next_expiry. `tenants` must be compiled
// against `topology` (null: none). Returned mutable for callers that adjust it before
// publishing.
std::shared_ptr<Snapshot> BuildSnapshot(std::shared_ptr<const Topology> topology,
                                        const HealthMap& health,
                                        std::shared_ptr<const TenantTable> tenants,
                                        uint64_t version, absl::Time now, bool stale,
                                        absl::Time keep_expired_after = absl::InfiniteFuture());

// Holds the current snapshot. Publish() swaps it; Get() is lock-free while the version is
// unchanged (each thread caches the last snapshot it saw and re-reads only on a new version).
class SnapshotHolder {
 public:
  SnapshotHolder();
  SnapshotHolder(const SnapshotHolder&) = delete;
  SnapshotHolder& operator=(const SnapshotHolder&) = delete;

  // Replaces the current snapshot.
  void Publish(std::shared_ptr<const Snapshot> snapshot);
  // The current snapshot, or nullptr before the first Publish().
  std::shared_ptr<const Snapshot> Get() const;
  // Number of Publish() calls so far (0 before the first).
  uint64_t generation() const { return published_.load(std::memory_order_acquire); }

 private:
  const uint64_t id_;  // unique per holder, for the thread-local caches
  std::atomic<uint64_t> published_{0};  // bumps on every Publish (not the snapshot version)
  // Only the slow path (a new generation) locks.
  mutable std::mutex mu_;
  std::shared_ptr<const Snapshot> current_;  // guarded by mu_
};

}  // namespace dcdir::core

#endif  // DCDIR_SERVICE_CORE_SNAPSHOT_H_

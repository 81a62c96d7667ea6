#ifndef DCDIR_SERVICE_RUNTIME_DIRECTORY_STATE_H_
#define DCDIR_SERVICE_RUNTIME_DIRECTORY_STATE_H_

// The live directory of one replica: keeps the current snapshot in step with the store
// (health, tenants), the config (topology) and the clock (expiry). The only writer of the
// snapshot holder; request threads only read snapshots.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/core/clock.h"
#include "service/core/model.h"
#include "service/core/self_preservation.h"
#include "service/core/snapshot.h"
#include "service/core/topology.h"
#include "service/store/store.h"

namespace dcdir::runtime {

struct DirectoryStateOptions {
  // Full reload of the store, so that a missed change message cannot leave us wrong for long.
  absl::Duration resync_interval = absl::Seconds(5);
  // How often the maintenance thread wakes up at most idle (store availability, expiry).
  absl::Duration tick = absl::Milliseconds(100);
  // Self-preservation (service/core/self_preservation.h), configured by the world's
  // `self_preservation` section; false switches it off whatever the config says.
  bool self_preservation = true;
};

class DirectoryState {
 public:
  using SnapshotListener = std::function<void(const std::shared_ptr<const core::Snapshot>&)>;

  // `store` and `clock` must outlive this object.
  DirectoryState(std::shared_ptr<const core::Topology> topology, store::Store* store,
                 const core::Clock* clock, DirectoryStateOptions options = {});
  ~DirectoryState();
  DirectoryState(const DirectoryState&) = delete;
  DirectoryState& operator=(const DirectoryState&) = delete;

  // Reads the whole store and publishes the first snapshot. UNAVAILABLE when the store cannot
  // be read (nothing is published then; call again later).
  absl::Status Initialize();

  // Publishes a first snapshot from a state saved before a restart (runtime/snapshot_file.h),
  // marked stale and judged at `health_time`, with the current topology (compliance always
  // comes from the config, never from the saved state). Serves it until the store is
  // reachable; then the usual resync publishes a fresh snapshot. FAILED_PRECONDITION when a
  // snapshot was already published.
  absl::Status InitializeFromSaved(store::StoreState state, absl::Time health_time);

  // Starts / stops the maintenance thread (change messages, expiry, periodic resync, store
  // availability). Stop() is idempotent and also done by the destructor.
  void Start();
  void Stop();

  // The time health is judged at now: the store's own time (Store::SharedTime()), else this
  // process's monotonic clock. Never the wall clock.
  absl::Time HealthNow() const;
  // What to add to a health time to show it as a wall-clock time now (display only).
  absl::Duration HealthToWall() const;

  // The current snapshot (nullptr before Initialize() succeeded). Lock-free on the fast path.
  std::shared_ptr<const core::Snapshot> Current() const { return holder_.Get(); }
  const core::SnapshotHolder& holder() const { return holder_; }

  // True while self-preservation keeps expired health (as of the last published snapshot).
  bool self_preservation_active() const {
    return self_preservation_active_.load(std::memory_order_acquire);
  }
  // The decision behind the last published snapshot (counts for logs and tests).
  core::SelfPreservation self_preservation() const;

  // Called after every publish, in publish order, from the publishing thread. Keep it short.
  void AddSnapshotListener(SnapshotListener listener);

  // Called by the maintenance thread after every tick (e.g. to update the snapshot age).
  // Set before Start().
  void SetTickListener(std::function<void()> listener) { tick_listener_ = std::move(listener); }

  // Accepts a health report for a known DC (the caller validated the inputs): applies
  // hysteresis against the stored record, writes it and publishes. UNAVAILABLE when the store
  // is unreachable (nothing changes then).
  absl::StatusOr<core::HealthRecord> ReportHealth(const std::string& dc_id,
                                                  core::HealthStatus status, double congestion,
                                                  absl::Duration ttl);

  // Tenant policies (validated by the caller against the current topology).
  absl::StatusOr<core::TenantPolicy> SetTenant(core::TenantPolicy policy);
  // NOT_FOUND when absent. Read from the current snapshot.
  absl::StatusOr<core::TenantPolicy> GetTenant(const std::string& tenant_id) const;
  // NOT_FOUND when absent, UNAVAILABLE when the store is unreachable.
  absl::Status DeleteTenant(const std::string& tenant_id);

  // Serves a new topology from now on (config reload).
  void ReplaceTopology(std::shared_ptr<const core::Topology> topology);
  // The topology served now.
  std::shared_ptr<const core::Topology> topology() const;

  // Processes pending change messages, resyncs when due, and rebuilds the snapshot at the
  // clock's current time if anything (including expiry or store availability) changed.
  // The maintenance thread calls this every tick; tests with a FakeClock call it directly.
  void Refresh();

 private:
  void OnStoreChange(const store::Change& change);
  absl::Status ResyncLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Builds and publishes a snapshot of the current state at `now`.
  void PublishLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Compiles the tenant policies against the topology; logs each policy whose unknown regions
  // changed (a reload removed a region it names) and counts the orphaned ones.
  void RecompileTenantsLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The self-preservation decision at `health_time`, given the current one.
  core::SelfPreservation DecidePreservationLocked(absl::Time health_time) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // The time health is judged at: `now`, or the last good snapshot's time while stale.
  absl::Time HealthTimeLocked(absl::Time now) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  void Run();

  store::Store* const store_;
  const core::Clock* const clock_;
  const DirectoryStateOptions options_;
  core::SnapshotHolder holder_;

  mutable std::mutex mu_;
  std::shared_ptr<const core::Topology> topology_ ABSL_GUARDED_BY(mu_);
  core::HealthMap health_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, core::TenantPolicy> tenants_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const core::TenantMap> compiled_tenants_ ABSL_GUARDED_BY(mu_);
  uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;
  bool initialized_ ABSL_GUARDED_BY(mu_) = false;
  bool store_available_ ABSL_GUARDED_BY(mu_) = true;
  absl::Time last_resync_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();  // MonotonicNow()
  // Tenants whose policy names regions the topology lacks, with those regions (for the logs).
  absl::flat_hash_map<std::string, std::vector<std::string>> orphans_ ABSL_GUARDED_BY(mu_);
  std::vector<SnapshotListener> listeners_ ABSL_GUARDED_BY(mu_);
  core::SelfPreservation preservation_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> self_preservation_active_{false};

  std::mutex pending_mu_;
  std::condition_variable pending_cv_;  // notified when something is pending or on Stop
  absl::flat_hash_set<std::string> pending_health_ ABSL_GUARDED_BY(pending_mu_);
  absl::flat_hash_set<std::string> pending_tenants_ ABSL_GUARDED_BY(pending_mu_);
  bool pending_resync_ ABSL_GUARDED_BY(pending_mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(pending_mu_) = false;
  std::function<void()> tick_listener_;
  std::thread thread_;
};

}  // namespace dcdir::runtime

#endif  // DCDIR_SERVICE_RUNTIME_DIRECTORY_STATE_H_

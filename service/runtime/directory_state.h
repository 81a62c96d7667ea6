#ifndef DCDIR_SERVICE_RUNTIME_DIRECTORY_STATE_H_
#define DCDIR_SERVICE_RUNTIME_DIRECTORY_STATE_H_

// The live directory of one replica: keeps the current snapshot in step with the store
// (health, tenants), the config (topology) and the clock (expiry). The only writer of the
// snapshot holder; request threads only read snapshots.
//
// Locking: `mu_` guards memory only. No store round trip, no listener and no log line runs
// while it is held: a write reads what it needs under the lock, does its store I/O without
// it, and takes it again to apply the result; the maintenance thread reads the store and
// compiles tenants without it and only commits under it. Listeners (metrics, the watch hub)
// are called after the lock is released, in publish order. So a ReportHealth costs the same
// with 0 or 10,000 open watches, and answers never wait for the store.
//
// Races between a local write and a store read that overlap it are settled by a write
// sequence: a read's result for a key is dropped when a local write to that key was applied
// after the read began (the local value is newer). A replica's own write is not read back:
// each local write expects its own change message ("echo") and that message is consumed
// without a store read (docs/REDIS.md, "How a change reaches every replica").

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
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
#include "service/core/tenant_table.h"
#include "service/core/topology.h"
#include "service/store/store.h"
#include "service/util/log.h"

namespace dcdir::runtime {

struct DirectoryStateOptions {
  // Resync: every health record, and the tenants the store's tenant log lists as written since
  // the last resync (store::Store::TenantChangesSince), so that a missed change message cannot
  // leave us wrong for long. Cheap with 100,000 tenants: it reads only what changed.
  absl::Duration resync_interval = absl::Seconds(5);
  // Full resync: every tenant policy as well (catches values written around dcdir, e.g. by
  // hand, which the log does not list). Also done whenever the log cannot tell (another
  // epoch, a log that went backwards) and after the store was unreachable.
  absl::Duration full_resync_interval = absl::Seconds(60);
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

  // Called for every published snapshot, in publish order, never under the state lock: by the
  // thread that published it or by another publisher that is delivering at the time. A
  // publishing call (ReportHealth, SetTenant, ...) returns only after its snapshot was
  // delivered. Keep listeners short (memory only). Add them before Start().
  void AddSnapshotListener(SnapshotListener listener);

  // Called by the maintenance thread after every tick (e.g. to update the snapshot age).
  // Set before Start().
  void SetTickListener(std::function<void()> listener) { tick_listener_ = std::move(listener); }

  // Accepts a health report for a known DC (the caller validated the inputs): applies
  // hysteresis against the current record, writes it and publishes. UNAVAILABLE when the store
  // is unreachable (nothing changes then). Reports of one DC on this replica are serialised
  // (hysteresis reads the previous record); others run in parallel. When `health_to_wall` is
  // given, it receives HealthToWall() taken from the same reading of the store's time as the
  // record's reported_at, so that expires_at + *health_to_wall is exactly the wall-clock time of
  // the report plus its TTL, even when the store's time sample changes while the write waits
  // (a resample during a store stall moves HealthToWall() by up to half the stall).
  absl::StatusOr<core::HealthRecord> ReportHealth(const std::string& dc_id,
                                                  core::HealthStatus status, double congestion,
                                                  absl::Duration ttl,
                                                  absl::Duration* health_to_wall = nullptr);

  // Tenant policies (validated by the caller against the current topology).
  absl::StatusOr<core::TenantPolicy> SetTenant(core::TenantPolicy policy);
  // NOT_FOUND when absent. Read from the current snapshot.
  absl::StatusOr<core::TenantPolicy> GetTenant(const std::string& tenant_id) const;
  // NOT_FOUND when absent, UNAVAILABLE when the store is unreachable.
  absl::Status DeleteTenant(const std::string& tenant_id);

  // Serves a new topology from now on (config reload). The tenant policies are compiled
  // against it before the lock is taken (100,000 tenants: ~0.1 s, not under the lock).
  void ReplaceTopology(std::shared_ptr<const core::Topology> topology);
  // The topology served now.
  std::shared_ptr<const core::Topology> topology() const;

  // Processes pending change messages, resyncs when due, and rebuilds the snapshot at the
  // clock's current time if anything (including expiry or store availability) changed.
  // The maintenance thread calls this every tick; tests with a FakeClock call it directly.
  void Refresh();

 private:
  // A tenant change read from the store: the new policy, or an erase.
  struct TenantEdit {
    std::string tenant_id;
    std::optional<core::TenantPolicy> policy;  // nullopt: erase
  };
  // Log lines made under the lock, written after it is released.
  using PendingLogs = std::vector<std::pair<util::LogLevel, std::string>>;

  void OnStoreChange(const store::Change& change);
  // Reads the whole store (no lock held) and replaces the state with it (under the lock).
  absl::Status LoadEverything();
  // Applies tenant edits prepared against `base` (compiled against `topology`) to tenants_:
  // swaps in `prepared` when nothing changed since, else redoes the edits on the current table
  // (recompiling them when the topology changed), skipping ids written locally after `seq`.
  // Adds the orphan log lines to `logs`. Returns true when the table changed.
  bool CommitTenantsLocked(const std::shared_ptr<const core::TenantTable>& base,
                           const std::shared_ptr<const core::Topology>& topology,
                           std::shared_ptr<const core::TenantTable> prepared,
                           std::vector<TenantEdit> edits, uint64_t seq, PendingLogs* logs)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Builds and publishes a snapshot of the current state at `now` and queues it for the
  // listeners (Deliver() after unlocking).
  void PublishLocked(absl::Time now, PendingLogs* logs) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Calls the listeners for every queued snapshot, in publish order. Never under mu_.
  void Deliver() ABSL_LOCKS_EXCLUDED(mu_);
  // The self-preservation decision at `health_time`, given the current one.
  core::SelfPreservation DecidePreservationLocked(absl::Time health_time) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // The time health is judged at: `now`, or the last good snapshot's time while stale.
  absl::Time HealthTimeLocked(absl::Time now) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // A local write to `key` is about to reach the store: its change message is an echo.
  void ExpectEcho(absl::flat_hash_map<std::string, int>* echoes, const std::string& key);
  // The write failed (it may or may not have happened): forget the echo, read the key again.
  void WriteFailed(bool tenant, const std::string& key);
  static void WriteLogs(const PendingLogs& logs);
  void Run();

  store::Store* const store_;
  const core::Clock* const clock_;
  const DirectoryStateOptions options_;
  core::SnapshotHolder holder_;

  // Serialises the health writes of one DC (the stripe of its id's hash): held across that
  // write's store round trip, never by readers, the maintenance thread or other DCs' writes.
  std::array<std::mutex, 64> dc_write_mu_;
  // Serialises config reloads (ReplaceTopology) with each other.
  std::mutex reload_mu_;

  mutable std::mutex mu_;
  std::shared_ptr<const core::Topology> topology_ ABSL_GUARDED_BY(mu_);
  core::HealthMap health_ ABSL_GUARDED_BY(mu_);
  // The one tenant map (compiled, shared with the snapshots).
  std::shared_ptr<const core::TenantTable> tenants_ ABSL_GUARDED_BY(mu_);
  store::TenantLogPosition tenant_position_ ABSL_GUARDED_BY(mu_);
  uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;
  bool initialized_ ABSL_GUARDED_BY(mu_) = false;
  bool store_available_ ABSL_GUARDED_BY(mu_) = true;
  bool full_resync_due_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time last_resync_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();       // MonotonicNow()
  absl::Time last_full_resync_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();  // MonotonicNow()
  // The write sequence: bumped by every local write when it is applied; per key, the sequence
  // of its last local write since the current maintenance pass began.
  uint64_t write_seq_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, uint64_t> health_written_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, uint64_t> tenants_written_ ABSL_GUARDED_BY(mu_);
  std::vector<SnapshotListener> listeners_;  // set before Start()
  core::SelfPreservation preservation_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> self_preservation_active_{false};

  // Snapshots published and not yet delivered to the listeners, in publish order.
  std::mutex queue_mu_;
  std::deque<std::shared_ptr<const core::Snapshot>> undelivered_ ABSL_GUARDED_BY(queue_mu_);
  std::mutex deliver_mu_;  // one deliverer at a time (keeps the order)

  std::mutex pending_mu_;
  std::condition_variable pending_cv_;  // notified when something is pending or on Stop
  absl::flat_hash_set<std::string> pending_health_ ABSL_GUARDED_BY(pending_mu_);
  absl::flat_hash_set<std::string> pending_tenants_ ABSL_GUARDED_BY(pending_mu_);
  // Change messages still expected for this replica's own writes, per key.
  absl::flat_hash_map<std::string, int> health_echoes_ ABSL_GUARDED_BY(pending_mu_);
  absl::flat_hash_map<std::string, int> tenant_echoes_ ABSL_GUARDED_BY(pending_mu_);
  bool pending_resync_ ABSL_GUARDED_BY(pending_mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(pending_mu_) = false;
  std::function<void()> tick_listener_;
  std::thread thread_;
};

}  // namespace dcdir::runtime

#endif  // DCDIR_SERVICE_RUNTIME_DIRECTORY_STATE_H_

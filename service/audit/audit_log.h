#ifndef DCDIR_SERVICE_AUDIT_AUDIT_LOG_H_
#define DCDIR_SERVICE_AUDIT_AUDIT_LOG_H_

// The audit trail of cross-border fallback decisions (docs/COMPLIANCE.md, "Audit log").
//
// Request threads only add to an in-memory aggregation map under a short lock (no I/O, no
// allocation beyond the key of a new entry). Identical decisions in one window — same client
// region, country, tenant, reason, congested primaries and tried secondaries, same config —
// become one JSON line with a `count`. At window end the flusher swaps the map out and writes
// the lines outside the lock. The number of distinct entries per window is capped; a decision
// that would need a new entry in a full map is dropped and counted in
// dcdir_audit_dropped_total, never waited for.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "service/audit/audit_sink.h"
#include "service/audit/audit_writer.h"
#include "service/core/clock.h"
#include "service/core/topology.h"

namespace dcdir::audit {

// Why fallback_active was set.
enum class FallbackReason {
  kNoUsablePrimary,              // no primary of the home region is allowed and usable
  kAllUsablePrimariesCongested,  // usable primaries exist, every one is congested
};

// "no_usable_primary" / "all_usable_primaries_congested".
std::string_view FallbackReasonToken(FallbackReason reason);

struct AuditLogOptions {
  // Aggregation window: one line per distinct decision per window.
  absl::Duration window = absl::Seconds(10);
  // Distinct decisions kept per window; more are dropped (and counted).
  size_t max_entries = 1000;
  // How often the background flusher looks at the clock (real time).
  absl::Duration poll_interval = absl::Milliseconds(200);
};

class AuditLog final : public AuditSink {
 public:
  // `clock` and `writer` must outlive the log. The first window starts now.
  AuditLog(const core::Clock* clock, AuditWriter* writer, AuditLogOptions options = {});
  ~AuditLog() override;  // Stop()s
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  void RecordAnswer(const core::Snapshot& snapshot, const core::Answer& answer,
                    std::string_view client_country, std::string_view tenant_id) override;

  // Writes the current window's lines if the window has ended by the clock. Returns the number
  // of lines written. Called by the background flusher; tests call it after moving a FakeClock.
  size_t Poll();
  // Writes the current window's lines now, whatever the clock says (shutdown).
  size_t Flush();

  // Starts the background flusher (a thread that calls Poll() every poll_interval).
  void Start();
  // Stops the flusher and writes what is left. Idempotent.
  void Stop();

  // dcdir_audit_dropped_total and dcdir_audit_lines_total; serve it next to the server's.
  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  struct Key {
    const core::Topology* topology = nullptr;  // identity of the config (kept alive by Entry)
    uint32_t region = 0;
    char country[2] = {0, 0};
    std::string tenant;
    bool tenant_policy = false;  // a stored policy applied to the tenant
    FallbackReason reason = FallbackReason::kNoUsablePrimary;
    absl::InlinedVector<uint32_t, 4> congested_primaries;  // DC indices, topology order
    absl::InlinedVector<uint32_t, 4> secondaries;  // the ones clients try, answer order
    absl::InlinedVector<bool, 4> cross_border;     // per secondary
    bool operator==(const Key& o) const {
      return topology == o.topology && region == o.region && country[0] == o.country[0] &&
             country[1] == o.country[1] && tenant == o.tenant &&
             tenant_policy == o.tenant_policy && reason == o.reason &&
             congested_primaries == o.congested_primaries && secondaries == o.secondaries &&
             cross_border == o.cross_border;
    }
    template <typename H>
    friend H AbslHashValue(H h, const Key& k) {
      return H::combine(std::move(h), k.topology, k.region, k.country[0], k.country[1], k.tenant,
                        k.tenant_policy, k.reason, k.congested_primaries, k.secondaries,
                        k.cross_border);
    }
  };
  struct Entry {
    std::shared_ptr<const core::Topology> topology;
    uint64_t count = 0;
    absl::Time first_seen;  // Clock::MonotonicNow()
    absl::Time last_seen;   // Clock::MonotonicNow()
    uint64_t first_snapshot_version = 0;
    uint64_t last_snapshot_version = 0;
  };
  using Map = absl::flat_hash_map<Key, Entry>;

  // Swaps the map out (under the lock) and writes it (outside). `force`: ignore the clock.
  size_t FlushWindow(bool force);
  // Times are on the monotonic clock; `to_wall` maps them to the wall clock for printing.
  std::string FormatLine(const Key& key, const Entry& entry, absl::Time window_start,
                         absl::Time window_end, absl::Duration to_wall) const;

  const core::Clock* const clock_;
  AuditWriter* const writer_;
  const AuditLogOptions options_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Counter* dropped_counter_;
  prometheus::Counter* lines_counter_;
  std::atomic<uint64_t> dropped_{0};

  std::mutex mu_;  // request threads: held only to find/insert one entry
  Map entries_;              // guarded by mu_
  absl::Time window_start_;  // Clock::MonotonicNow(); guarded by mu_

  std::mutex write_mu_;  // serialises flushes so that lines leave in window order

  std::mutex thread_mu_;
  std::condition_variable thread_cv_;
  bool stop_ = false;  // guarded by thread_mu_
  std::thread thread_;
};

}  // namespace dcdir::audit

#endif  // DCDIR_SERVICE_AUDIT_AUDIT_LOG_H_

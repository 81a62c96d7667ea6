#include "service/core/snapshot.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "service/core/health.h"
#include "service/core/ranking.h"

namespace dcdir::core {
namespace {

// Ids for SnapshotHolder instances; never reused, so a thread-local cache entry of a destroyed
// holder can never be mistaken for a new holder's.
std::atomic<uint64_t> next_holder_id{1};

// The last snapshot this thread saw, for one holder (the most recently used by this thread).
struct ThreadCache {
  uint64_t holder_id = 0;
  uint64_t generation = 0;
  std::shared_ptr<const Snapshot> snapshot;
};

ThreadCache& LocalCache() {
  thread_local ThreadCache cache;
  return cache;
}

}  // namespace

std::shared_ptr<Snapshot> BuildSnapshot(std::shared_ptr<const Topology> topology,
                                        const HealthMap& health,
                                        std::shared_ptr<const TenantTable> tenants,
                                        uint64_t version, absl::Time now, bool stale,
                                        absl::Time keep_expired_after) {
  auto s = std::make_shared<Snapshot>();
  const size_t n = topology->dc_count();
  const Thresholds& thresholds = topology->world().thresholds;
  s->version = version;
  s->built_at = now;
  s->stale = stale;
  s->dcs.resize(n);
  s->usable = DcSet(n);
  for (uint32_t i = 0; i < n; ++i) {
    const DataCenter& dc = topology->dc(i);
    DcState& st = s->dcs[i];
    auto it = health.find(dc.id);
    if (it != health.end()) st.record = it->second;
    st.health_kept = st.record.expires_at <= now && st.record.expires_at > keep_expired_after;
    st.status = st.health_kept ? st.record.status : EffectiveStatus(st.record, now);
    st.usable = st.status == HealthStatus::kHealthy;
    // An expired record says nothing about congestion any more.
    st.congested = st.status != HealthStatus::kUnknown &&
                   NextCongested(st.record.congested, st.record.congestion, thresholds);
    st.weight = HeadroomWeight(dc.capacity_sessions, st.record.congestion);
    if (st.health_kept) ++s->kept;
    if (st.usable) {
      s->usable.Insert(i);
      if (!st.health_kept) s->next_expiry = std::min(s->next_expiry, st.record.expires_at);
    }
  }
  s->tenants = tenants ? std::move(tenants) : std::make_shared<const TenantTable>();
  s->orphaned_tenants = s->tenants->orphaned();
  s->topology = std::move(topology);
  return s;
}

SnapshotHolder::SnapshotHolder()
    : id_(next_holder_id.fetch_add(1, std::memory_order_relaxed)) {}

void SnapshotHolder::Publish(std::shared_ptr<const Snapshot> snapshot) {
  std::shared_ptr<const Snapshot> old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    old = std::move(current_);
    current_ = std::move(snapshot);
    published_.fetch_add(1, std::memory_order_release);
  }
  // `old` is released here, outside the lock (threads may still hold it through their caches
  // until their next Get()).
}

std::shared_ptr<const Snapshot> SnapshotHolder::Get() const {
  ThreadCache& cache = LocalCache();
  // Fast path: no lock, only an atomic load and a reference-count increment.
  if (cache.holder_id == id_ &&
      cache.generation == published_.load(std::memory_order_acquire)) {
    return cache.snapshot;
  }
  std::shared_ptr<const Snapshot> current;
  uint64_t generation;
  {
    std::lock_guard<std::mutex> lock(mu_);
    current = current_;
    generation = published_.load(std::memory_order_relaxed);
  }
  cache.holder_id = id_;
  cache.generation = generation;
  cache.snapshot = current;
  return current;
}

}  // namespace dcdir::core

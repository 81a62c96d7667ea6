#include "service/runtime/directory_state.h"

#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "service/core/health.h"
#include "service/util/log.h"

namespace dcdir::runtime {

DirectoryState::DirectoryState(std::shared_ptr<const core::Topology> topology,
                               store::Store* store, const core::Clock* clock,
                               DirectoryStateOptions options)
    : store_(store), clock_(clock), options_(options), topology_(std::move(topology)) {
  store_->SetChangeListener([this](const store::Change& change) { OnStoreChange(change); });
}

DirectoryState::~DirectoryState() { Stop(); }

absl::Status DirectoryState::Initialize() {
  std::lock_guard<std::mutex> lock(mu_);
  absl::Status status = ResyncLocked();
  if (!status.ok()) return status;
  initialized_ = true;
  store_available_ = true;
  PublishLocked(HealthNow());
  return absl::OkStatus();
}

absl::Status DirectoryState::InitializeFromSaved(store::StoreState state,
                                                 absl::Time health_time) {
  std::lock_guard<std::mutex> lock(mu_);
  if (initialized_) return absl::FailedPreconditionError("a snapshot is already served");
  health_ = std::move(state.health);
  tenants_.clear();
  for (core::TenantPolicy& policy : state.tenants) {
    std::string id = policy.tenant_id;
    tenants_.emplace(std::move(id), std::move(policy));
  }
  RecompileTenantsLocked();
  initialized_ = true;
  store_available_ = false;  // stale until the store is read: Refresh() resyncs then
  PublishLocked(health_time);  // no previous snapshot: health is judged at health_time
  return absl::OkStatus();
}

absl::Time DirectoryState::HealthNow() const {
  return store_->SharedTime().value_or(clock_->MonotonicNow());
}

absl::Duration DirectoryState::HealthToWall() const { return clock_->Now() - HealthNow(); }

void DirectoryState::Start() {
  std::lock_guard<std::mutex> lock(pending_mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Run(); });
}

void DirectoryState::Stop() {
  {
    std::lock_guard<std::mutex> lock(pending_mu_);
    stopping_ = true;
  }
  pending_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DirectoryState::Run() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(pending_mu_);
      pending_cv_.wait_for(lock, absl::ToChronoNanoseconds(options_.tick), [this] {
        return stopping_ || pending_resync_ || !pending_health_.empty() ||
               !pending_tenants_.empty();
      });
      if (stopping_) return;
    }
    Refresh();
    if (tick_listener_) tick_listener_();
  }
}

void DirectoryState::AddSnapshotListener(SnapshotListener listener) {
  std::lock_guard<std::mutex> lock(mu_);
  listeners_.push_back(std::move(listener));
}

void DirectoryState::OnStoreChange(const store::Change& change) {
  {
    std::lock_guard<std::mutex> lock(pending_mu_);
    switch (change.kind) {
      case store::Change::Kind::kHealth:
        pending_health_.insert(change.id);
        break;
      case store::Change::Kind::kTenant:
        pending_tenants_.insert(change.id);
        break;
      case store::Change::Kind::kResync:
        pending_resync_ = true;
        break;
    }
  }
  pending_cv_.notify_one();
}

void DirectoryState::Refresh() {
  absl::flat_hash_set<std::string> health_ids, tenant_ids;
  bool resync;
  {
    std::lock_guard<std::mutex> lock(pending_mu_);
    health_ids.swap(pending_health_);
    tenant_ids.swap(pending_tenants_);
    resync = std::exchange(pending_resync_, false);
  }
  std::lock_guard<std::mutex> lock(mu_);
  const absl::Time now = HealthNow();
  const absl::Time monotonic_now = clock_->MonotonicNow();
  if (!initialized_) {
    if (ResyncLocked().ok()) {
      initialized_ = true;
      store_available_ = true;
      PublishLocked(now);
    }
    return;
  }
  bool changed = false;
  const bool available = store_->Available();
  if (available != store_available_) {
    store_available_ = available;
    changed = true;
    if (available) {
      resync = true;
      DCDIR_LOG(kInfo) << "store reachable again: resyncing";
    } else {
      DCDIR_LOG(kWarning) << "store unreachable: serving the last good snapshot (stale)";
    }
  }
  if (store_available_ && (resync || monotonic_now - last_resync_ >= options_.resync_interval)) {
    const core::HealthMap old_health = health_;
    const auto old_tenants = tenants_;
    if (ResyncLocked().ok()) {
      if (health_ != old_health) changed = true;
      if (tenants_ != old_tenants) {
        RecompileTenantsLocked();
        changed = true;
      }
    }
  } else if (store_available_) {
    for (const std::string& id : health_ids) {
      auto record = store_->GetHealth(id);
      if (!record.ok()) {
        OnStoreChange({store::Change::Kind::kResync, ""});
        continue;
      }
      auto it = health_.find(id);
      if (!record->has_value()) {
        if (it != health_.end()) {
          health_.erase(it);
          changed = true;
        }
      } else if (it == health_.end() || it->second != **record) {
        health_[id] = **record;
        changed = true;
      }
    }
    bool tenants_changed = false;
    for (const std::string& id : tenant_ids) {
      auto policy = store_->GetTenant(id);
      if (!policy.ok()) {
        OnStoreChange({store::Change::Kind::kResync, ""});
        continue;
      }
      auto it = tenants_.find(id);
      if (!policy->has_value()) {
        if (it != tenants_.end()) {
          tenants_.erase(it);
          tenants_changed = true;
        }
      } else if (it == tenants_.end() || it->second != **policy) {
        tenants_[id] = **policy;
        tenants_changed = true;
      }
    }
    if (tenants_changed) {
      RecompileTenantsLocked();
      changed = true;
    }
  }
  // While the store is away, health is frozen at the last good snapshot: nobody can renew a
  // report, so expiring them would take every DC down. Once back, real expiry applies.
  const auto current = holder_.Get();
  if (store_available_ && current != nullptr && now >= current->next_expiry) changed = true;
  // Self-preservation can start or end without any record changing (e.g. DOWN records
  // expiring, which are not in next_expiry).
  if (!changed && store_available_) {
    const core::SelfPreservation next = DecidePreservationLocked(now);
    if (next.active != preservation_.active || next.floor != preservation_.floor ||
        (next.active && (next.alive != preservation_.alive ||
                         next.expired != preservation_.expired))) {
      changed = true;
    }
  }
  if (changed) PublishLocked(now);
}

core::SelfPreservation DirectoryState::self_preservation() const {
  std::lock_guard<std::mutex> lock(mu_);
  return preservation_;
}

absl::Time DirectoryState::HealthTimeLocked(absl::Time now) const {
  const auto previous = holder_.Get();
  return (!store_available_ && previous != nullptr) ? previous->built_at : now;
}

core::SelfPreservation DirectoryState::DecidePreservationLocked(absl::Time health_time) const {
  // While the store is away nothing expires (health_time is frozen): keep the decision.
  if (!store_available_) return preservation_;
  return core::DecideSelfPreservation(*topology_, health_, preservation_, health_time,
                                      options_.self_preservation);
}

absl::Status DirectoryState::ResyncLocked() {
  absl::StatusOr<store::StoreState> state = store_->LoadAll();
  if (!state.ok()) return state.status();
  health_ = std::move(state->health);
  tenants_.clear();
  for (core::TenantPolicy& policy : state->tenants) {
    std::string id = policy.tenant_id;
    tenants_.emplace(std::move(id), std::move(policy));
  }
  RecompileTenantsLocked();
  last_resync_ = clock_->MonotonicNow();
  return absl::OkStatus();
}

void DirectoryState::RecompileTenantsLocked() {
  std::vector<core::TenantPolicy> policies;
  policies.reserve(tenants_.size());
  for (const auto& [id, policy] : tenants_) policies.push_back(policy);
  compiled_tenants_ = core::CompileTenants(*topology_, policies);
  // Policies that name regions the config does not define (a reload removed them) fail closed
  // (unknown home) or lose those regions (unknown allowed regions): say so once per change.
  absl::flat_hash_map<std::string, std::vector<std::string>> orphans;
  for (const auto& [id, tenant] : *compiled_tenants_) {
    if (tenant.unknown_regions.empty()) continue;
    orphans[id] = tenant.unknown_regions;
    auto was = orphans_.find(id);
    if (was != orphans_.end() && was->second == tenant.unknown_regions) continue;
    if (tenant.home_unknown()) {
      DCDIR_LOG(kWarning) << "tenant policy \"" << id << "\": home region \""
                          << tenant.policy.home_region
                          << "\" is not defined by the config: its clients are refused every DC "
                             "(fail closed) until the policy is changed or the region returns";
    } else {
      DCDIR_LOG(kWarning) << "tenant policy \"" << id << "\": allowed region(s) "
                          << absl::StrJoin(tenant.unknown_regions, ", ")
                          << " not defined by the config: ignored";
    }
  }
  for (const auto& [id, regions] : orphans_) {
    if (!orphans.contains(id) && tenants_.contains(id)) {
      DCDIR_LOG(kInfo) << "tenant policy \"" << id << "\": every region it names is defined again";
    }
  }
  orphans_ = std::move(orphans);
}

void DirectoryState::PublishLocked(absl::Time now) {
  // Stale snapshots keep judging expiry at the time of the last good one.
  const absl::Time health_time = HealthTimeLocked(now);
  const core::SelfPreservation decision = DecidePreservationLocked(health_time);
  const core::SelfPreservationConfig& config = topology_->world().self_preservation;
  if (decision.active && !preservation_.active) {
    DCDIR_LOG(kWarning) << "self-preservation ON: " << decision.expired << " of "
                        << decision.alive + decision.expired << " reported DCs in "
                        << decision.spread << " of " << decision.regions
                        << " regions expired within " << absl::FormatDuration(config.window)
                        << " (reporters, not DCs, are likely broken); keeping their last "
                           "known health for at most "
                        << absl::FormatDuration(config.max_duration)
                        << " until reports come back";
  } else if (decision.ended_by_max_duration) {
    DCDIR_LOG(kWarning) << "self-preservation ended after its maximum of "
                        << absl::FormatDuration(config.max_duration) << ": "
                        << preservation_.expired
                        << " kept DCs' health now expires for real (UNKNOWN)";
  } else if (!decision.active && preservation_.active) {
    DCDIR_LOG(kInfo) << "self-preservation OFF: " << decision.alive << " reported DCs are alive, "
                     << decision.expired
                     << " still expired (now judged by their real expiry)";
  }
  preservation_ = decision;
  self_preservation_active_.store(decision.active, std::memory_order_release);
  std::shared_ptr<core::Snapshot> snapshot = core::BuildSnapshotWithSelfPreservation(
      topology_, health_, compiled_tenants_, ++version_, health_time, !store_available_,
      decision);
  snapshot->orphaned_tenants = orphans_.size();
  std::shared_ptr<const core::Snapshot> published = std::move(snapshot);
  holder_.Publish(published);
  for (const SnapshotListener& listener : listeners_) listener(published);
}

absl::StatusOr<core::HealthRecord> DirectoryState::ReportHealth(const std::string& dc_id,
                                                                core::HealthStatus status,
                                                                double congestion,
                                                                absl::Duration ttl) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!store_available_ || !store_->Available()) {
    return absl::UnavailableError("the shared store is unreachable; retry the report later");
  }
  const absl::Time now = HealthNow();
  std::optional<core::HealthRecord> previous;
  if (auto it = health_.find(dc_id); it != health_.end()) previous = it->second;
  core::HealthRecord record = core::AcceptReport(previous, status, congestion, ttl, now,
                                                 topology_->world().thresholds);
  if (absl::Status s = store_->PutHealth(dc_id, record); !s.ok()) return s;
  health_[dc_id] = record;
  PublishLocked(now);
  return record;
}

absl::StatusOr<core::TenantPolicy> DirectoryState::SetTenant(core::TenantPolicy policy) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!store_available_ || !store_->Available()) {
    return absl::UnavailableError("the shared store is unreachable; retry later");
  }
  policy.updated_at = clock_->Now();
  if (absl::Status s = store_->PutTenant(policy); !s.ok()) return s;
  tenants_[policy.tenant_id] = policy;
  RecompileTenantsLocked();
  PublishLocked(HealthNow());
  return policy;
}

absl::StatusOr<core::TenantPolicy> DirectoryState::GetTenant(const std::string& tenant_id) const {
  const auto snapshot = holder_.Get();
  if (snapshot != nullptr && snapshot->tenants != nullptr) {
    auto it = snapshot->tenants->find(tenant_id);
    if (it != snapshot->tenants->end()) return it->second.policy;
  }
  return absl::NotFoundError(absl::StrCat("no policy is stored for tenant \"", tenant_id, "\""));
}

absl::Status DirectoryState::DeleteTenant(const std::string& tenant_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!store_available_ || !store_->Available()) {
    return absl::UnavailableError("the shared store is unreachable; retry later");
  }
  absl::StatusOr<bool> deleted = store_->DeleteTenant(tenant_id);
  if (!deleted.ok()) return deleted.status();
  if (!*deleted) {
    return absl::NotFoundError(absl::StrCat("no policy is stored for tenant \"", tenant_id, "\""));
  }
  tenants_.erase(tenant_id);
  RecompileTenantsLocked();
  PublishLocked(HealthNow());
  return absl::OkStatus();
}

std::shared_ptr<const core::Topology> DirectoryState::topology() const {
  std::lock_guard<std::mutex> lock(mu_);
  return topology_;
}

void DirectoryState::ReplaceTopology(std::shared_ptr<const core::Topology> topology) {
  std::lock_guard<std::mutex> lock(mu_);
  topology_ = std::move(topology);
  RecompileTenantsLocked();
  if (initialized_) PublishLocked(HealthNow());
}

}  // namespace dcdir::runtime

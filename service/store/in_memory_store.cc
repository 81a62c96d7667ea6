#include "service/store/in_memory_store.h"

#include <mutex>
#include <utility>

#include "service/core/tenant_id.h"

namespace dcdir::store {
namespace {

constexpr char kEpoch[] = "in-memory";

}  // namespace

absl::StatusOr<StoreState> InMemoryStore::LoadAll() {
  std::lock_guard<std::mutex> lock(mu_);
  StoreState state;
  state.health = core::HealthMap(health_.begin(), health_.end());
  state.tenants.reserve(tenants_.size());
  for (const auto& [id, policy] : tenants_) state.tenants.push_back(policy);
  state.tenant_position = {tenant_version_ == 0 ? "" : kEpoch, tenant_version_};
  return state;
}

absl::StatusOr<core::HealthMap> InMemoryStore::LoadHealth() {
  std::lock_guard<std::mutex> lock(mu_);
  return core::HealthMap(health_.begin(), health_.end());
}

absl::StatusOr<std::optional<TenantChanges>> InMemoryStore::TenantChangesSince(
    const TenantLogPosition& since) {
  std::lock_guard<std::mutex> lock(mu_);
  const bool same_history = since.epoch == kEpoch || (since.epoch.empty() && since.version == 0);
  if (!same_history || since.version > tenant_version_) return std::optional<TenantChanges>();
  TenantChanges changes;
  changes.position = {tenant_version_ == 0 ? "" : kEpoch, tenant_version_};
  for (const auto& [id, version] : tenant_log_) {
    if (version > since.version) changes.ids.push_back(id);
  }
  return changes;
}

absl::StatusOr<std::optional<core::HealthRecord>> InMemoryStore::GetHealth(
    std::string_view dc_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = health_.find(std::string(dc_id));
  if (it == health_.end()) return std::nullopt;
  return it->second;
}

absl::Status InMemoryStore::PutHealth(std::string_view dc_id, const core::HealthRecord& record) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    health_[std::string(dc_id)] = record;
  }
  Notify({Change::Kind::kHealth, std::string(dc_id)});
  return absl::OkStatus();
}

absl::StatusOr<std::optional<core::TenantPolicy>> InMemoryStore::GetTenant(
    std::string_view tenant_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = tenants_.find(std::string(tenant_id));
  if (it == tenants_.end()) return std::nullopt;
  return it->second;
}

absl::Status InMemoryStore::PutTenant(const core::TenantPolicy& policy) {
  // The only way in: with it refused here, no read can meet such an id.
  if (!core::IsValidTenantId(policy.tenant_id)) return InvalidTenantIdError(policy.tenant_id);
  {
    std::lock_guard<std::mutex> lock(mu_);
    tenants_[policy.tenant_id] = policy;
    tenant_log_[policy.tenant_id] = ++tenant_version_;
  }
  Notify({Change::Kind::kTenant, policy.tenant_id});
  return absl::OkStatus();
}

absl::StatusOr<bool> InMemoryStore::DeleteTenant(std::string_view tenant_id) {
  bool erased;
  {
    std::lock_guard<std::mutex> lock(mu_);
    erased = tenants_.erase(std::string(tenant_id)) > 0;
    if (erased) tenant_log_[std::string(tenant_id)] = ++tenant_version_;
  }
  if (erased) Notify({Change::Kind::kTenant, std::string(tenant_id)});
  return erased;
}

void InMemoryStore::SetChangeListener(std::function<void(const Change&)> listener) {
  listener_ = std::move(listener);
}

void InMemoryStore::Notify(Change change) {
  if (listener_) listener_(change);
}

}  // namespace dcdir::store

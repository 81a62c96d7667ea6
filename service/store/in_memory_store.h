#ifndef DCDIR_SERVICE_STORE_IN_MEMORY_STORE_H_
#define DCDIR_SERVICE_STORE_IN_MEMORY_STORE_H_

#include <functional>
#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "service/store/store.h"

namespace dcdir::store {

// The embedded store: process memory, for a single replica (`--redis` empty). Always available.
class InMemoryStore final : public Store {
 public:
  absl::StatusOr<StoreState> LoadAll() override;
  absl::StatusOr<core::HealthMap> LoadHealth() override;
  // Its log lives as long as the store (one epoch); O(tenants ever written) per call.
  absl::StatusOr<std::optional<TenantChanges>> TenantChangesSince(
      const TenantLogPosition& since) override;
  absl::StatusOr<std::optional<core::HealthRecord>> GetHealth(std::string_view dc_id) override;
  absl::Status PutHealth(std::string_view dc_id, const core::HealthRecord& record) override;
  absl::StatusOr<std::optional<core::TenantPolicy>> GetTenant(std::string_view tenant_id) override;
  absl::Status PutTenant(const core::TenantPolicy& policy) override;
  absl::StatusOr<bool> DeleteTenant(std::string_view tenant_id) override;
  void SetChangeListener(std::function<void(const Change&)> listener) override;
  bool Available() const override { return true; }

 private:
  void Notify(Change change);

  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, core::HealthRecord> health_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, core::TenantPolicy> tenants_ ABSL_GUARDED_BY(mu_);
  // The tenant log: the version of each tenant id's last write or delete.
  uint64_t tenant_version_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, uint64_t> tenant_log_ ABSL_GUARDED_BY(mu_);
  std::function<void(const Change&)> listener_;
};

}  // namespace dcdir::store

#endif  // DCDIR_SERVICE_STORE_IN_MEMORY_STORE_H_

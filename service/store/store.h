#ifndef DCDIR_SERVICE_STORE_STORE_H_
#define DCDIR_SERVICE_STORE_STORE_H_

// The store port: where the mutable shared state lives (health records, tenant policies).
// Implementations: InMemoryStore (embedded, single replica) and RedisStore (shared).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "service/core/model.h"
#include "service/core/snapshot.h"
#include "service/core/tenant_id.h"

namespace dcdir::store {

// A position in the store's log of tenant writes: every tenant write or delete through a
// Store bumps `version` (by one per write, across all replicas of the store). `epoch` names
// one history of the log: a store that lost it (flushed, replaced) starts a new epoch, and
// positions of another epoch cannot be compared. {"", 0}: before any logged write.
struct TenantLogPosition {
  std::string epoch;
  uint64_t version = 0;
  bool operator==(const TenantLogPosition&) const = default;
};

// Everything mutable that a snapshot is built from.
struct StoreState {
  core::HealthMap health;  // DC id -> last record (expired ones may be included)
  std::vector<core::TenantPolicy> tenants;
  // The tenant log position read before the tenants were: every write after it shows in
  // TenantChangesSince(tenant_position).
  TenantLogPosition tenant_position;
};

// The tenants written or deleted after a position (TenantChangesSince).
struct TenantChanges {
  TenantLogPosition position;    // where the log is now: pass it to the next call
  std::vector<std::string> ids;  // each id once, whatever the number of writes
};

// One tenant read by GetTenants: the policy, or nullopt when none is stored (or the stored
// value is bad: skipped and counted, as by GetTenant).
struct TenantRead {
  std::string tenant_id;
  std::optional<core::TenantPolicy> policy;
};

// What changed, as told to the change listener.
struct Change {
  enum class Kind {
    kHealth,  // `id` is a DC id
    kTenant,  // `id` is a tenant id (set or deleted)
    kResync,  // unknown or many changes (e.g. after a reconnect): reload everything
  };
  Kind kind = Kind::kResync;
  std::string id;
};

// A write whose outcome the store cannot confirm (it may or may not be applied, or may be lost
// on a failover) fails with UNAVAILABLE carrying this reason token as the payload at
// kReasonPayloadUrl (api::Reply turns it into the error's reason trailer; the API layer
// carries its own tokens there too, service/api/api_error.h).
inline constexpr char kReasonPayloadUrl[] = "type.dcdir.dev/reason";
inline constexpr char kWriteUnconfirmedReason[] = "STORE_WRITE_UNCONFIRMED";

// PutTenant's answer for a policy whose tenant id breaks core::IsValidTenantId
// (service/core/tenant_id.h): INVALID_ARGUMENT naming the id (its first 80 bytes, C-escaped,
// so up to 320 characters).
absl::Status InvalidTenantIdError(std::string_view tenant_id);

// All calls are thread-safe. Every fallible call returns UNAVAILABLE (or DEADLINE_EXCEEDED)
// when the store cannot be reached; the only other store error is PutTenant's
// INVALID_ARGUMENT below (a caller's bug: the API and the tenants file refuse such ids first).
//
// Tenant ids: a store holds tenants whose id passes core::IsValidTenantId (1-64 bytes of
// [A-Za-z0-9._-]) and no others. PutTenant refuses any other id; a record with such an id found
// in a shared store (written by someone else) is bad data: every read (LoadAll, GetTenant,
// GetTenants) skips it as absent and counts it in BadRecords(), like an undecodable value. So
// no replica ever serves or lists a tenant that the API could not read or delete. DC ids are
// not judged by the store (the config's rule is [a-z0-9-], and the snapshot ignores ids not in
// its topology): any DC id, separators included, round-trips.
class Store {
 public:
  virtual ~Store() = default;

  // Reads the whole state (start-up and the periodic full resync).
  virtual absl::StatusOr<StoreState> LoadAll() = 0;

  // Reads every health record (the frequent resync: there is one per DC).
  virtual absl::StatusOr<core::HealthMap> LoadHealth() {
    absl::StatusOr<StoreState> all = LoadAll();
    if (!all.ok()) return all.status();
    return std::move(all->health);
  }

  // The ids of the tenants written or deleted after `since` (a position from LoadAll or from
  // an earlier call), so that a resync reads only those instead of every policy. nullopt when
  // the store cannot tell (it keeps no log, `since` is of another epoch, or the log went
  // backwards, e.g. a failover lost writes): then read everything with LoadAll.
  virtual absl::StatusOr<std::optional<TenantChanges>> TenantChangesSince(
      const TenantLogPosition& since) {
    (void)since;
    return std::optional<TenantChanges>();
  }

  // GetTenant for each id, in order (the store may batch the round trips).
  virtual absl::StatusOr<std::vector<TenantRead>> GetTenants(const std::vector<std::string>& ids) {
    std::vector<TenantRead> out;
    out.reserve(ids.size());
    for (const std::string& id : ids) {
      absl::StatusOr<std::optional<core::TenantPolicy>> policy = GetTenant(id);
      if (!policy.ok()) return policy.status();
      out.push_back({id, *std::move(policy)});
    }
    return out;
  }

  // The DC's record, or nullopt when there is none.
  virtual absl::StatusOr<std::optional<core::HealthRecord>> GetHealth(std::string_view dc_id) = 0;
  // Replaces the DC's record. The store may forget it some time after record.expires_at.
  virtual absl::Status PutHealth(std::string_view dc_id, const core::HealthRecord& record) = 0;

  virtual absl::StatusOr<std::optional<core::TenantPolicy>> GetTenant(
      std::string_view tenant_id) = 0;
  // Creates or replaces the policy. INVALID_ARGUMENT (InvalidTenantIdError, nothing written)
  // when policy.tenant_id breaks core::IsValidTenantId.
  virtual absl::Status PutTenant(const core::TenantPolicy& policy) = 0;
  // Deletes the policy; false when there was none.
  virtual absl::StatusOr<bool> DeleteTenant(std::string_view tenant_id) = 0;

  // Sets the function called after every change made through any replica (including this one),
  // from any thread, outside the store's locks. Set once, before the store is used.
  virtual void SetChangeListener(std::function<void(const Change&)> listener) = 0;

  // True while the store is reachable (as of the last call or probe).
  virtual bool Available() const = 0;

  // The store's own time, the timeline of every HealthRecord's reported_at / expires_at, shared
  // by every replica of this store (RedisStore: Redis' TIME, sampled on every probe and
  // advanced by the local monotonic clock in between). nullopt for a store that lives inside
  // this process (InMemoryStore): its records are judged on this process's
  // Clock::MonotonicNow(). Never a replica's wall clock, so a wall-clock step on one replica
  // neither extends nor cuts a TTL.
  virtual std::optional<absl::Time> SharedTime() const { return std::nullopt; }

  // How many stored values were skipped as unreadable (garbage, wrong type, too large, a tenant
  // id outside core::IsValidTenantId) since the store was created; counted each time one is
  // read. For a metric (dcdir_store_bad_records_total).
  virtual uint64_t BadRecords() const { return 0; }
};

}  // namespace dcdir::store

#endif  // DCDIR_SERVICE_STORE_STORE_H_

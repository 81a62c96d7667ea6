#ifndef DCDIR_SERVICE_CORE_TENANT_TABLE_H_
#define DCDIR_SERVICE_CORE_TENANT_TABLE_H_

// The tenant policies a snapshot serves, compiled against its topology: the one tenant map of a
// replica (the runtime keeps no other copy). Immutable once built; a change makes a new table
// that shares everything it did not touch, so one tenant change among 100,000 costs one shard
// (about 400 entries: id, allowed-set words, pointer), not a recompile of every tenant.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/functional/function_ref.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"
#include "service/core/dc_set.h"
#include "service/core/model.h"
#include "service/core/topology.h"

namespace dcdir::core {

// A tenant policy compiled against a topology.
struct CompiledTenant {
  TenantPolicy policy;
  DcSet allowed;  // DCs in allowed_regions ∪ {home_region}
  // Regions the policy names (home first) that the topology does not define, e.g. after a
  // reload removed them. An unknown home region allows nothing (fail closed); unknown allowed
  // regions are ignored. Non-empty = the tenant is "orphaned" (Snapshot::orphaned_tenants).
  std::vector<std::string> unknown_regions;
  bool home_unknown() const {
    return !unknown_regions.empty() && unknown_regions.front() == policy.home_region;
  }
};

// Compiles one policy against `topology`: allowed = the DCs of the known regions among
// allowed_regions ∪ {home_region}; an unknown home region allows nothing.
CompiledTenant CompileTenant(const Topology& topology, TenantPolicy policy);

class TenantTable {
  // A lookup hashes the id once: the hash's high bits choose the shard and the shard's map
  // probes with the same hash (HashedId), instead of hashing the id again.
  struct HashedId {
    absl::string_view id;
    size_t hash;
  };
  struct IdHash {
    using is_transparent = void;
    size_t operator()(absl::string_view id) const { return absl::Hash<absl::string_view>{}(id); }
    size_t operator()(const HashedId& key) const { return key.hash; }
  };
  struct IdEq {
    using is_transparent = void;
    bool operator()(absl::string_view a, absl::string_view b) const { return a == b; }
    bool operator()(absl::string_view a, const HashedId& b) const { return a == b.id; }
    bool operator()(const HashedId& a, absl::string_view b) const { return a.id == b; }
  };
  // A map slot holds the allowed set itself, next to the key, so that an answer reads one
  // slot and not also the CompiledTenant behind a pointer: with 100,000 tenants each of those
  // is a cache (and TLB) miss (BM_AnswerTenantScale, docs/BENCHMARKS.md). The CompiledTenant
  // (policy, unknown regions) is for the admin API and Explain.
  struct Entry {
    // tenant->allowed's words; inside the slot up to 128 DCs.
    absl::InlinedVector<uint64_t, 2> allowed_words;
    std::shared_ptr<const CompiledTenant> tenant;
  };
  using Shard = absl::flat_hash_map<std::string, Entry, IdHash, IdEq>;

 public:
  // Number of shards. A change copies one shard's map of slots (id, words, pointer; above 128
  // DCs the words are a heap block each, copied too): with 100,000
  // tenants that is ~400 entries (a few µs), and a lookup is one hash plus one map probe.
  static constexpr size_t kShards = 256;

  TenantTable() = default;  // empty

  // The tenant with this id, or null. Valid while this table is alive.
  const CompiledTenant* Find(std::string_view tenant_id) const;
  // The allowed set of the tenant with this id (the words of Find(id)->allowed), or none: the
  // answer's hot path, which reads only the map slot. Valid while this table is alive.
  std::optional<DcSetView> FindAllowed(std::string_view tenant_id) const;

  // A lookup in two steps, so that its memory accesses overlap the caller's other work:
  // StartLookup hashes the id and prefetches the map's control bytes and first slots for it
  // (absl's raw_hash_set::prefetch); FindAllowed(lookup) finishes it with the same hash.
  // `tenant_id` must outlive the Lookup, and the Lookup must come from this table's StartLookup.
  class Lookup {
    friend class TenantTable;
    HashedId key_{};
    const Shard* shard_ = nullptr;  // the id's shard, or null (empty shard)
  };
  Lookup StartLookup(std::string_view tenant_id) const;
  std::optional<DcSetView> FindAllowed(const Lookup& lookup) const;
  bool contains(std::string_view tenant_id) const { return Find(tenant_id) != nullptr; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Tenants whose policy names a region the topology does not define (non-empty
  // unknown_regions). Kept up to date by every edit: O(1).
  size_t orphaned() const { return orphaned_; }
  // Calls `f` for every tenant, in no particular order.
  void ForEach(absl::FunctionRef<void(const CompiledTenant&)> f) const;

  // Builds a new table from `base` by a batch of edits (defined below).
  class Editor;

 private:
  static HashedId Hashed(std::string_view tenant_id);
  static size_t ShardOf(const HashedId& key);
  // The slot's entry for this id, or null.
  const Entry* FindEntry(std::string_view tenant_id) const;

  // Null for an empty shard.
  std::array<std::shared_ptr<const Shard>, kShards> shards_;
  size_t size_ = 0;
  size_t orphaned_ = 0;
};

// Builds a new table from `base` (null: empty) by a batch of edits; `base` is not changed.
// Each shard touched is copied once, however many edits land in it. Not thread-safe.
class TenantTable::Editor {
 public:
  explicit Editor(std::shared_ptr<const TenantTable> base);
  // Inserts or replaces the tenant with `tenant.policy.tenant_id`.
  void Put(CompiledTenant tenant);
  // Removes the tenant; false when there was none.
  bool Erase(std::string_view tenant_id);
  // The tenant as edited so far, or null.
  const CompiledTenant* Find(std::string_view tenant_id) const { return table_.Find(tenant_id); }
  // Finishes the edit (the editor is empty afterwards). Returns `base` itself when nothing
  // was edited.
  std::shared_ptr<const TenantTable> Finish();

 private:
  Shard& Mutable(size_t shard);

  std::shared_ptr<const TenantTable> base_;
  TenantTable table_;
  // The shards this editor copied (and may change); null for the ones it shares with base.
  std::array<std::shared_ptr<Shard>, kShards> copies_;
  bool edited_ = false;
};

// Compiles tenant policies against `topology` into a new table (a later duplicate id wins).
std::shared_ptr<const TenantTable> CompileTenants(const Topology& topology,
                                                  const std::vector<TenantPolicy>& tenants);

}  // namespace dcdir::core

#endif  // DCDIR_SERVICE_CORE_TENANT_TABLE_H_

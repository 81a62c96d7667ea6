#include "service/core/tenant_table.h"

#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"

namespace dcdir::core {
namespace {

// Debian's Abseil is built with its own string_view: heterogeneous lookups need that type.
absl::string_view AsKey(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace

CompiledTenant CompileTenant(const Topology& topology, TenantPolicy policy) {
  CompiledTenant ct;
  const uint32_t home = topology.RegionIndex(policy.home_region);
  if (home == kNoIndex) ct.unknown_regions.push_back(policy.home_region);
  std::vector<uint32_t> regions;
  regions.reserve(policy.allowed_regions.size() + 1);
  regions.push_back(home);  // the home region can never be opted out
  for (const std::string& r : policy.allowed_regions) {
    const uint32_t ri = topology.RegionIndex(r);
    if (ri != kNoIndex) {
      regions.push_back(ri);
    } else if (r != policy.home_region) {
      ct.unknown_regions.push_back(r);  // ignored
    }
  }
  // Fail closed: an unknown home region allows nothing.
  ct.allowed = home == kNoIndex ? DcSet(topology.dc_count()) : topology.DcsInRegions(regions);
  ct.policy = std::move(policy);
  return ct;
}

TenantTable::HashedId TenantTable::Hashed(std::string_view tenant_id) {
  const absl::string_view id = AsKey(tenant_id);
  return {id, IdHash{}(id)};
}

size_t TenantTable::ShardOf(const HashedId& key) {
  // The high bits: the shard's own hash map uses the low ones (SwissTable's H2), which would
  // otherwise be the same for every key of a shard.
  return (key.hash >> (sizeof(size_t) * 8 - 8)) % kShards;
}

const TenantTable::Entry* TenantTable::FindEntry(std::string_view tenant_id) const {
  const HashedId key = Hashed(tenant_id);
  const std::shared_ptr<const Shard>& shard = shards_[ShardOf(key)];
  if (shard == nullptr) return nullptr;
  auto it = shard->find(key);
  return it == shard->end() ? nullptr : &it->second;
}

const CompiledTenant* TenantTable::Find(std::string_view tenant_id) const {
  const Entry* e = FindEntry(tenant_id);
  return e == nullptr ? nullptr : e->tenant.get();
}

std::optional<DcSetView> TenantTable::FindAllowed(std::string_view tenant_id) const {
  const Entry* e = FindEntry(tenant_id);
  if (e == nullptr) return std::nullopt;
  return DcSetView(e->allowed_words.data(), e->allowed_words.size());
}

TenantTable::Lookup TenantTable::StartLookup(std::string_view tenant_id) const {
  Lookup lookup;
  lookup.key_ = Hashed(tenant_id);
  const Shard* shard = shards_[ShardOf(lookup.key_)].get();
  if (shard != nullptr) shard->prefetch(lookup.key_);
  lookup.shard_ = shard;
  return lookup;
}

std::optional<DcSetView> TenantTable::FindAllowed(const Lookup& lookup) const {
  const Shard* shard = lookup.shard_;
  if (shard == nullptr) return std::nullopt;
  auto it = shard->find(lookup.key_);
  if (it == shard->end()) return std::nullopt;
  const absl::InlinedVector<uint64_t, 2>& words = it->second.allowed_words;
  return DcSetView(words.data(), words.size());
}

void TenantTable::ForEach(absl::FunctionRef<void(const CompiledTenant&)> f) const {
  for (const std::shared_ptr<const Shard>& shard : shards_) {
    if (shard == nullptr) continue;
    for (const auto& [id, entry] : *shard) f(*entry.tenant);
  }
}

TenantTable::Editor::Editor(std::shared_ptr<const TenantTable> base) : base_(std::move(base)) {
  if (base_ != nullptr) table_ = *base_;  // copies the shard pointers only
}

TenantTable::Shard& TenantTable::Editor::Mutable(size_t shard) {
  std::shared_ptr<Shard>& copy = copies_[shard];
  if (copy == nullptr) {
    const std::shared_ptr<const Shard>& slot = table_.shards_[shard];
    copy = slot == nullptr ? std::make_shared<Shard>() : std::make_shared<Shard>(*slot);
    table_.shards_[shard] = copy;  // only this editor can change it, until Finish()
  }
  return *copy;
}

void TenantTable::Editor::Put(CompiledTenant tenant) {
  edited_ = true;
  Shard& shard = Mutable(ShardOf(Hashed(tenant.policy.tenant_id)));
  std::string id = tenant.policy.tenant_id;
  const bool orphan = !tenant.unknown_regions.empty();
  auto [it, inserted] = shard.try_emplace(std::move(id));
  if (inserted) {
    ++table_.size_;
  } else if (!it->second.tenant->unknown_regions.empty()) {
    --table_.orphaned_;
  }
  if (orphan) ++table_.orphaned_;
  absl::InlinedVector<uint64_t, 2> words(tenant.allowed.words(),
                                         tenant.allowed.words() + tenant.allowed.word_count());
  it->second = Entry{std::move(words), std::make_shared<const CompiledTenant>(std::move(tenant))};
}

bool TenantTable::Editor::Erase(std::string_view tenant_id) {
  if (table_.Find(tenant_id) == nullptr) return false;
  edited_ = true;
  const HashedId key = Hashed(tenant_id);
  Shard& shard = Mutable(ShardOf(key));
  auto it = shard.find(key);
  if (!it->second.tenant->unknown_regions.empty()) --table_.orphaned_;
  shard.erase(it);
  --table_.size_;
  return true;
}

std::shared_ptr<const TenantTable> TenantTable::Editor::Finish() {
  for (std::shared_ptr<Shard>& copy : copies_) copy.reset();
  std::shared_ptr<const TenantTable> out =
      !edited_ ? (base_ != nullptr ? std::move(base_) : std::make_shared<const TenantTable>())
               : std::make_shared<const TenantTable>(std::move(table_));
  edited_ = false;
  base_.reset();
  table_ = TenantTable();
  return out;
}

std::shared_ptr<const TenantTable> CompileTenants(const Topology& topology,
                                                  const std::vector<TenantPolicy>& tenants) {
  TenantTable::Editor editor(nullptr);
  for (const TenantPolicy& p : tenants) editor.Put(CompileTenant(topology, p));
  return editor.Finish();
}

}  // namespace dcdir::core

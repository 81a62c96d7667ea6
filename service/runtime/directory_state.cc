#include "service/runtime/directory_state.h"

#include <mutex>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/core/health.h"
#include "service/util/log.h"

namespace dcdir::runtime {
namespace {

using util::LogLevel;

// A batch of tenant changes logs at most this many orphan lines, then one summary line: a
// reload that removes a region named by 50,000 policies must not write 50,000 lines.
constexpr size_t kMaxOrphanLogLines = 20;

// The orphan log lines of one batch of tenant changes.
class OrphanLog {
 public:
  explicit OrphanLog(std::vector<std::pair<LogLevel, std::string>>* logs) : logs_(logs) {}
  ~OrphanLog() {
    if (more_ > 0) {
      logs_->emplace_back(LogLevel::kWarning,
                          absl::StrCat("... and ", more_,
                                       " more tenant policies whose regions changed "
                                       "(dcdir_tenants_orphaned has the count)"));
    }
  }
  // A tenant went from `before` (null: new) to `after` (null: removed).
  void Note(const core::CompiledTenant* before, const core::CompiledTenant* after) {
    if (after == nullptr) return;
    static const std::vector<std::string> kNone;
    const std::vector<std::string>& was = before != nullptr ? before->unknown_regions : kNone;
    const std::string& id = after->policy.tenant_id;
    if (!after->unknown_regions.empty() && was != after->unknown_regions) {
      // Policies that name regions the config does not define (a reload removed them) fail
      // closed (unknown home) or lose those regions (unknown allowed regions): say so once per
      // change.
      if (after->home_unknown()) {
        Add(LogLevel::kWarning,
            absl::StrCat("tenant policy \"", id, "\": home region \"", after->policy.home_region,
                         "\" is not defined by the config: its clients are refused every DC "
                         "(fail closed) until the policy is changed or the region returns"));
      } else {
        Add(LogLevel::kWarning,
            absl::StrCat("tenant policy \"", id, "\": allowed region(s) ",
                         absl::StrJoin(after->unknown_regions, ", "),
                         " not defined by the config: ignored"));
      }
    } else if (after->unknown_regions.empty() && !was.empty()) {
      Add(LogLevel::kInfo, absl::StrCat("tenant policy \"", id,
                                        "\": every region it names is defined again"));
    }
  }

 private:
  void Add(LogLevel level, std::string line) {
    if (lines_ < kMaxOrphanLogLines) {
      ++lines_;
      logs_->emplace_back(level, std::move(line));
    } else {
      ++more_;
    }
  }

  std::vector<std::pair<LogLevel, std::string>>* logs_;
  size_t lines_ = 0;
  size_t more_ = 0;
};

// A local write's stripe: writes of one key serialise, others do not.
size_t Stripe(bool tenant, absl::string_view key, size_t stripes) {
  return (absl::Hash<absl::string_view>{}(key) + (tenant ? 1 : 0)) % stripes;
}

bool ConsumeEcho(absl::flat_hash_map<std::string, int>* echoes, const std::string& key) {
  auto it = echoes->find(key);
  if (it == echoes->end()) return false;
  if (--it->second <= 0) echoes->erase(it);
  return true;
}

// Drops the entries of local writes applied at or before `seq`: every later read begins after
// them, so they can no longer win over a read.
void Prune(absl::flat_hash_map<std::string, uint64_t>* written, uint64_t seq) {
  for (auto it = written->begin(); it != written->end();) {
    auto here = it++;
    if (here->second <= seq) written->erase(here);
  }
}

}  // namespace

DirectoryState::DirectoryState(std::shared_ptr<const core::Topology> topology,
                               store::Store* store, const core::Clock* clock,
                               DirectoryStateOptions options)
    : store_(store),
      clock_(clock),
      options_(options),
      topology_(std::move(topology)),
      tenants_(std::make_shared<const core::TenantTable>()) {
  store_->SetChangeListener([this](const store::Change& change) { OnStoreChange(change); });
}

DirectoryState::~DirectoryState() { Stop(); }

absl::Status DirectoryState::Initialize() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (initialized_) return absl::OkStatus();
  }
  Refresh();
  std::lock_guard<std::mutex> lock(mu_);
  if (initialized_) return absl::OkStatus();
  return absl::UnavailableError("the shared store could not be read; retrying in the background");
}

absl::Status DirectoryState::InitializeFromSaved(store::StoreState state,
                                                 absl::Time health_time) {
  // Compiled against the served topology before the lock (compliance comes from the config).
  std::shared_ptr<const core::TenantTable> tenants =
      core::CompileTenants(*topology(), state.tenants);
  PendingLogs logs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (initialized_) return absl::FailedPreconditionError("a snapshot is already served");
    health_ = std::move(state.health);
    tenants_ = std::move(tenants);
    initialized_ = true;
    store_available_ = false;  // stale until the store is read: Refresh() resyncs then
    PublishLocked(health_time, &logs);  // no previous snapshot: judged at health_time
  }
  WriteLogs(logs);
  Deliver();
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
  std::lock_guard<std::mutex> lock(deliver_mu_);
  listeners_.push_back(std::move(listener));
}

void DirectoryState::OnStoreChange(const store::Change& change) {
  {
    std::lock_guard<std::mutex> lock(pending_mu_);
    switch (change.kind) {
      case store::Change::Kind::kHealth:
        if (!ConsumeEcho(&health_echoes_, change.id)) pending_health_.insert(change.id);
        break;
      case store::Change::Kind::kTenant:
        if (!ConsumeEcho(&tenant_echoes_, change.id)) pending_tenants_.insert(change.id);
        break;
      case store::Change::Kind::kResync:
        // Messages may have been lost, echoes of our own writes among them: expect none (a
        // late echo only costs one read).
        pending_resync_ = true;
        health_echoes_.clear();
        tenant_echoes_.clear();
        break;
    }
  }
  pending_cv_.notify_one();
}

void DirectoryState::ExpectEcho(absl::flat_hash_map<std::string, int>* echoes,
                                const std::string& key) {
  std::lock_guard<std::mutex> lock(pending_mu_);
  ++(*echoes)[key];
}

void DirectoryState::WriteFailed(bool tenant, const std::string& key) {
  {
    std::lock_guard<std::mutex> lock(pending_mu_);
    (tenant ? tenant_echoes_ : health_echoes_).erase(key);
    (tenant ? pending_tenants_ : pending_health_).insert(key);
  }
  pending_cv_.notify_one();
}

void DirectoryState::WriteLogs(const PendingLogs& logs) {
  for (const auto& [level, line] : logs) util::WriteLogLine(level, line);
}

void DirectoryState::Refresh() {
  // 1. The pending work.
  absl::flat_hash_set<std::string> health_ids, tenant_ids;
  bool resync;
  {
    std::lock_guard<std::mutex> lock(pending_mu_);
    health_ids.swap(pending_health_);
    tenant_ids.swap(pending_tenants_);
    resync = std::exchange(pending_resync_, false);
  }

  // 2. What to read, decided under the lock (memory only).
  enum class Read { kNone, kChanged, kResync, kFull };
  Read read = Read::kNone;
  std::shared_ptr<const core::Topology> topology;
  std::shared_ptr<const core::TenantTable> base;
  store::TenantLogPosition position;
  uint64_t seq = 0;
  bool availability_changed = false;
  PendingLogs logs;
  const absl::Time monotonic_now = clock_->MonotonicNow();
  {
    std::lock_guard<std::mutex> lock(mu_);
    topology = topology_;
    base = tenants_;
    position = tenant_position_;
    seq = write_seq_;
    if (!initialized_) {
      read = Read::kFull;
    } else {
      const bool available = store_->Available();
      if (available != store_available_) {
        store_available_ = available;
        availability_changed = true;
        if (available) {
          // A full read, not the tenant log: the store may be another node now (a Sentinel
          // failover), whose log never listed a write the old master took and lost, one this
          // replica may have read back and applied (tests/netfault split brain). Due until a
          // full read succeeds.
          last_full_resync_ = absl::InfinitePast();
          logs.emplace_back(LogLevel::kInfo, "store reachable again: full resync");
        } else {
          logs.emplace_back(LogLevel::kWarning,
                            "store unreachable: serving the last good snapshot (stale)");
        }
      }
      if (!store_available_) {
        read = Read::kNone;
      } else if (monotonic_now - last_full_resync_ >= options_.full_resync_interval) {
        read = Read::kFull;
      } else if (resync || monotonic_now - last_resync_ >= options_.resync_interval) {
        read = Read::kResync;
      } else if (!health_ids.empty() || !tenant_ids.empty()) {
        read = Read::kChanged;
      }
    }
  }
  WriteLogs(logs);
  logs.clear();

  // 3. The store round trips, without the lock.
  std::optional<core::HealthMap> all_health;
  std::vector<std::pair<std::string, std::optional<core::HealthRecord>>> health_reads;
  std::optional<std::vector<core::TenantPolicy>> all_tenants;
  std::vector<store::TenantRead> tenant_reads;
  std::optional<store::TenantLogPosition> new_position;
  bool full = read == Read::kFull;
  bool read_ok = true;
  if (read == Read::kResync || read == Read::kFull) {
    // The resync reads everything the echoes could stand for.
    std::lock_guard<std::mutex> lock(pending_mu_);
    health_echoes_.clear();
    tenant_echoes_.clear();
  }
  if (read == Read::kResync) {
    absl::StatusOr<std::optional<store::TenantChanges>> changes =
        store_->TenantChangesSince(position);
    if (!changes.ok()) {
      read_ok = false;
    } else if (!changes->has_value()) {
      full = true;  // the log cannot tell: read every policy
    } else {
      absl::StatusOr<core::HealthMap> health = store_->LoadHealth();
      if (!health.ok()) {
        read_ok = false;
      } else {
        all_health = *std::move(health);
        new_position = (*changes)->position;
        for (std::string& id : (*changes)->ids) tenant_ids.insert(std::move(id));
      }
    }
  }
  if (read_ok && full) {
    absl::StatusOr<store::StoreState> state = store_->LoadAll();
    if (!state.ok()) {
      read_ok = false;
    } else {
      all_health = std::move(state->health);
      all_tenants = std::move(state->tenants);
      new_position = state->tenant_position;
    }
  }
  if (read_ok && read == Read::kChanged) {
    for (const std::string& id : health_ids) {
      absl::StatusOr<std::optional<core::HealthRecord>> record = store_->GetHealth(id);
      if (!record.ok()) {
        read_ok = false;
        break;
      }
      health_reads.emplace_back(id, *std::move(record));
    }
  }
  if (read_ok && !full && (read == Read::kChanged || read == Read::kResync) &&
      !tenant_ids.empty()) {
    absl::StatusOr<std::vector<store::TenantRead>> tenants =
        store_->GetTenants(std::vector<std::string>(tenant_ids.begin(), tenant_ids.end()));
    if (!tenants.ok()) {
      read_ok = false;
    } else {
      tenant_reads = *std::move(tenants);
    }
  }
  if (!read_ok) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!initialized_) return;  // retried on the next tick
  }
  if (!read_ok && read != Read::kNone) OnStoreChange({store::Change::Kind::kResync, ""});

  // 4. The tenant edits, compiled against `base` without the lock.
  std::vector<TenantEdit> edits;
  if (read_ok && all_tenants.has_value()) {
    absl::flat_hash_set<absl::string_view> seen;
    seen.reserve(all_tenants->size());
    for (core::TenantPolicy& policy : *all_tenants) {
      seen.insert(policy.tenant_id);
      const core::CompiledTenant* old = base->Find(policy.tenant_id);
      if (old != nullptr && old->policy == policy) continue;
      edits.push_back({policy.tenant_id, policy});
    }
    base->ForEach([&](const core::CompiledTenant& t) {
      if (!seen.contains(t.policy.tenant_id)) edits.push_back({t.policy.tenant_id, std::nullopt});
    });
  } else if (read_ok) {
    for (store::TenantRead& r : tenant_reads) {
      const core::CompiledTenant* old = base->Find(r.tenant_id);
      if (r.policy.has_value()) {
        if (old != nullptr && old->policy == *r.policy) continue;
        edits.push_back({std::move(r.tenant_id), std::move(r.policy)});
      } else if (old != nullptr) {
        edits.push_back({std::move(r.tenant_id), std::nullopt});
      }
    }
  }
  std::shared_ptr<const core::TenantTable> prepared = base;
  if (!edits.empty()) {
    core::TenantTable::Editor editor(base);
    for (const TenantEdit& e : edits) {
      if (e.policy.has_value()) {
        editor.Put(core::CompileTenant(*topology, *e.policy));
      } else {
        editor.Erase(e.tenant_id);
      }
    }
    prepared = editor.Finish();
  }

  // 5. Commit under the lock (memory only).
  {
    std::lock_guard<std::mutex> lock(mu_);
    const absl::Time now = HealthNow();
    bool changed = availability_changed;
    if (read_ok && !initialized_) {
      initialized_ = true;
      store_available_ = true;
      changed = true;
    }
    auto written_after = [&](const absl::flat_hash_map<std::string, uint64_t>& written,
                             absl::string_view key) {
      auto it = written.find(key);
      return it != written.end() && it->second > seq;
    };
    if (read_ok && all_health.has_value()) {
      for (auto it = health_.begin(); it != health_.end();) {
        auto here = it++;
        if (!all_health->contains(here->first) && !written_after(health_written_, here->first)) {
          health_.erase(here);
          changed = true;
        }
      }
      for (auto& [id, record] : *all_health) {
        if (written_after(health_written_, id)) continue;
        auto [it, inserted] = health_.try_emplace(id, record);
        if (inserted) {
          changed = true;
        } else if (it->second != record) {
          it->second = record;
          changed = true;
        }
      }
    }
    if (read_ok) {
      for (auto& [id, record] : health_reads) {
        if (written_after(health_written_, id)) continue;
        auto it = health_.find(id);
        if (!record.has_value()) {
          if (it != health_.end()) {
            health_.erase(it);
            changed = true;
          }
        } else if (it == health_.end() || it->second != *record) {
          health_[id] = *record;
          changed = true;
        }
      }
    }
    if (!edits.empty() &&
        CommitTenantsLocked(base, topology, std::move(prepared), std::move(edits), seq, &logs)) {
      changed = true;
    }
    if (read_ok && new_position.has_value()) tenant_position_ = *new_position;
    if (read_ok && (read == Read::kResync || read == Read::kFull)) {
      last_resync_ = monotonic_now;
      if (full) last_full_resync_ = monotonic_now;
    }
    Prune(&health_written_, seq);
    Prune(&tenants_written_, seq);
    // While the store is away, health is frozen at the last good snapshot: nobody can renew a
    // report, so expiring them would take every DC down. Once back, real expiry applies.
    const auto current = holder_.Get();
    if (initialized_ && store_available_ && current != nullptr && now >= current->next_expiry) {
      changed = true;
    }
    // Self-preservation can start or end without any record changing (e.g. DOWN records
    // expiring, which are not in next_expiry).
    if (initialized_ && !changed && store_available_) {
      const core::SelfPreservation next = DecidePreservationLocked(now);
      if (next.active != preservation_.active || next.floor != preservation_.floor ||
          (next.active && (next.alive != preservation_.alive ||
                           next.expired != preservation_.expired))) {
        changed = true;
      }
    }
    if (initialized_ && changed) PublishLocked(now, &logs);
  }
  WriteLogs(logs);
  Deliver();
}

bool DirectoryState::CommitTenantsLocked(const std::shared_ptr<const core::TenantTable>& base,
                                         const std::shared_ptr<const core::Topology>& topology,
                                         std::shared_ptr<const core::TenantTable> prepared,
                                         std::vector<TenantEdit> edits, uint64_t seq,
                                         PendingLogs* logs) {
  OrphanLog orphans(logs);
  if (tenants_ == base && topology_ == topology) {
    // Nothing was applied since the edits were prepared: take them as they are.
    for (const TenantEdit& e : edits) orphans.Note(base->Find(e.tenant_id), prepared->Find(e.tenant_id));
    tenants_ = std::move(prepared);
    return true;
  }
  // A local write or a reload came in between: redo the edits on the current table (against
  // the current topology), leaving alone what was written locally since the read began.
  core::TenantTable::Editor editor(tenants_);
  for (const TenantEdit& e : edits) {
    if (auto it = tenants_written_.find(e.tenant_id);
        it != tenants_written_.end() && it->second > seq) {
      continue;
    }
    const core::CompiledTenant* before = tenants_->Find(e.tenant_id);
    if (e.policy.has_value()) {
      editor.Put(core::CompileTenant(*topology_, *e.policy));
      orphans.Note(before, editor.Find(e.tenant_id));
    } else {
      editor.Erase(e.tenant_id);
    }
  }
  std::shared_ptr<const core::TenantTable> next = editor.Finish();
  const bool changed = next != tenants_;
  tenants_ = std::move(next);
  return changed;
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

void DirectoryState::PublishLocked(absl::Time now, PendingLogs* logs) {
  // Stale snapshots keep judging expiry at the time of the last good one.
  const absl::Time health_time = HealthTimeLocked(now);
  const core::SelfPreservation decision = DecidePreservationLocked(health_time);
  const core::SelfPreservationConfig& config = topology_->world().self_preservation;
  if (decision.active && !preservation_.active) {
    logs->emplace_back(
        LogLevel::kWarning,
        absl::StrCat("self-preservation ON: ", decision.expired, " of ",
                     decision.alive + decision.expired, " reported DCs in ", decision.spread,
                     " of ", decision.regions, " regions expired within ",
                     absl::FormatDuration(config.window),
                     " (reporters, not DCs, are likely broken); keeping their last known "
                     "health for at most ",
                     absl::FormatDuration(config.max_duration), " until reports come back"));
  } else if (decision.ended_by_max_duration) {
    logs->emplace_back(LogLevel::kWarning,
                       absl::StrCat("self-preservation ended after its maximum of ",
                                    absl::FormatDuration(config.max_duration), ": ",
                                    preservation_.expired,
                                    " kept DCs' health now expires for real (UNKNOWN)"));
  } else if (!decision.active && preservation_.active) {
    logs->emplace_back(LogLevel::kInfo,
                       absl::StrCat("self-preservation OFF: ", decision.alive,
                                    " reported DCs are alive, ", decision.expired,
                                    " still expired (now judged by their real expiry)"));
  }
  preservation_ = decision;
  self_preservation_active_.store(decision.active, std::memory_order_release);
  std::shared_ptr<const core::Snapshot> published = core::BuildSnapshotWithSelfPreservation(
      topology_, health_, tenants_, ++version_, health_time, !store_available_, decision);
  holder_.Publish(published);
  std::lock_guard<std::mutex> lock(queue_mu_);
  undelivered_.push_back(std::move(published));
}

void DirectoryState::Deliver() {
  std::lock_guard<std::mutex> deliver(deliver_mu_);
  for (;;) {
    std::shared_ptr<const core::Snapshot> next;
    {
      std::lock_guard<std::mutex> lock(queue_mu_);
      if (undelivered_.empty()) return;
      next = std::move(undelivered_.front());
      undelivered_.pop_front();
    }
    for (const SnapshotListener& listener : listeners_) listener(next);
  }
}

absl::StatusOr<core::HealthRecord> DirectoryState::ReportHealth(const std::string& dc_id,
                                                                core::HealthStatus status,
                                                                double congestion,
                                                                absl::Duration ttl,
                                                                absl::Duration* health_to_wall) {
  std::lock_guard<std::mutex> write(
      dc_write_mu_[Stripe(/*tenant=*/false, dc_id, dc_write_mu_.size())]);
  core::HealthRecord record;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!store_available_ || !store_->Available()) {
      return absl::UnavailableError("the shared store is unreachable; retry the report later");
    }
    std::optional<core::HealthRecord> previous;
    if (auto it = health_.find(dc_id); it != health_.end()) previous = it->second;
    // One reading of the store's time for the record and for its wall-clock offset.
    const absl::Time health_now = HealthNow();
    if (health_to_wall != nullptr) *health_to_wall = clock_->Now() - health_now;
    record = core::AcceptReport(previous, status, congestion, ttl, health_now,
                                topology_->world().thresholds);
  }
  ExpectEcho(&health_echoes_, dc_id);
  if (absl::Status s = store_->PutHealth(dc_id, record); !s.ok()) {
    WriteFailed(/*tenant=*/false, dc_id);
    return s;
  }
  PendingLogs logs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    health_[dc_id] = record;
    health_written_[dc_id] = ++write_seq_;
    PublishLocked(HealthNow(), &logs);
  }
  WriteLogs(logs);
  Deliver();
  return record;
}

absl::StatusOr<core::TenantPolicy> DirectoryState::SetTenant(core::TenantPolicy policy) {
  std::lock_guard<std::mutex> write(
      dc_write_mu_[Stripe(/*tenant=*/true, policy.tenant_id, dc_write_mu_.size())]);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!store_available_ || !store_->Available()) {
      return absl::UnavailableError("the shared store is unreachable; retry later");
    }
  }
  policy.updated_at = clock_->Now();
  ExpectEcho(&tenant_echoes_, policy.tenant_id);
  if (absl::Status s = store_->PutTenant(policy); !s.ok()) {
    WriteFailed(/*tenant=*/true, policy.tenant_id);
    return s;
  }
  PendingLogs logs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    OrphanLog orphans(&logs);
    core::TenantTable::Editor editor(tenants_);
    editor.Put(core::CompileTenant(*topology_, policy));  // one tenant: about a µs
    orphans.Note(tenants_->Find(policy.tenant_id), editor.Find(policy.tenant_id));
    tenants_ = editor.Finish();
    tenants_written_[policy.tenant_id] = ++write_seq_;
    PublishLocked(HealthNow(), &logs);
  }
  WriteLogs(logs);
  Deliver();
  return policy;
}

absl::StatusOr<core::TenantPolicy> DirectoryState::GetTenant(const std::string& tenant_id) const {
  const auto snapshot = holder_.Get();
  if (snapshot != nullptr && snapshot->tenants != nullptr) {
    if (const core::CompiledTenant* t = snapshot->tenants->Find(tenant_id)) return t->policy;
  }
  return absl::NotFoundError(absl::StrCat("no policy is stored for tenant \"", tenant_id, "\""));
}

absl::Status DirectoryState::DeleteTenant(const std::string& tenant_id) {
  std::lock_guard<std::mutex> write(
      dc_write_mu_[Stripe(/*tenant=*/true, tenant_id, dc_write_mu_.size())]);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!store_available_ || !store_->Available()) {
      return absl::UnavailableError("the shared store is unreachable; retry later");
    }
  }
  ExpectEcho(&tenant_echoes_, tenant_id);
  absl::StatusOr<bool> deleted = store_->DeleteTenant(tenant_id);
  if (!deleted.ok()) {
    WriteFailed(/*tenant=*/true, tenant_id);
    return deleted.status();
  }
  if (!*deleted) {
    {
      std::lock_guard<std::mutex> lock(pending_mu_);
      ConsumeEcho(&tenant_echoes_, tenant_id);  // nothing deleted: no change message comes
    }
    return absl::NotFoundError(absl::StrCat("no policy is stored for tenant \"", tenant_id, "\""));
  }
  PendingLogs logs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    core::TenantTable::Editor editor(tenants_);
    editor.Erase(tenant_id);
    tenants_ = editor.Finish();
    tenants_written_[tenant_id] = ++write_seq_;
    PublishLocked(HealthNow(), &logs);
  }
  WriteLogs(logs);
  Deliver();
  return absl::OkStatus();
}

std::shared_ptr<const core::Topology> DirectoryState::topology() const {
  std::lock_guard<std::mutex> lock(mu_);
  return topology_;
}

void DirectoryState::ReplaceTopology(std::shared_ptr<const core::Topology> topology) {
  std::lock_guard<std::mutex> reload(reload_mu_);
  PendingLogs logs;
  // Compile every tenant against the new topology without the lock; retry if a tenant change
  // lands meanwhile, and compile under the lock only if that keeps happening.
  for (int attempt = 0;; ++attempt) {
    std::shared_ptr<const core::TenantTable> base;
    {
      std::lock_guard<std::mutex> lock(mu_);
      base = tenants_;
    }
    auto recompile = [&](const core::TenantTable& from, PendingLogs* out) {
      OrphanLog orphans(out);
      core::TenantTable::Editor editor(nullptr);
      from.ForEach([&](const core::CompiledTenant& t) {
        editor.Put(core::CompileTenant(*topology, t.policy));
        orphans.Note(&t, editor.Find(t.policy.tenant_id));
      });
      return editor.Finish();
    };
    PendingLogs attempt_logs;
    std::shared_ptr<const core::TenantTable> compiled;
    if (attempt < 3) compiled = recompile(*base, &attempt_logs);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (tenants_ != base) {
        if (attempt < 3) continue;
        attempt_logs.clear();
        compiled = recompile(*tenants_, &attempt_logs);
      } else if (compiled == nullptr) {
        compiled = recompile(*base, &attempt_logs);
      }
      logs = std::move(attempt_logs);
      topology_ = std::move(topology);
      tenants_ = std::move(compiled);
      if (initialized_) PublishLocked(HealthNow(), &logs);
    }
    break;
  }
  WriteLogs(logs);
  Deliver();
}

}  // namespace dcdir::runtime

#include "service/audit/audit_log.h"

#include <algorithm>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "service/util/json.h"
#include "service/util/log.h"

namespace dcdir::audit {
namespace {

std::string TimeText(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

// Opens a DC's object with its id, region and country; the caller adds members and closes it.
void WriteDc(util::JsonWriter& w, const core::DataCenter& dc) {
  w.BeginObject().Key("id").Value(dc.id).Key("region").Value(dc.region).Key("country").Value(
      dc.country);
}

}  // namespace

std::string_view FallbackReasonToken(FallbackReason reason) {
  switch (reason) {
    case FallbackReason::kNoUsablePrimary: return "no_usable_primary";
    case FallbackReason::kAllUsablePrimariesCongested: return "all_usable_primaries_congested";
  }
  return "unknown";
}

AuditLog::AuditLog(const core::Clock* clock, AuditWriter* writer, AuditLogOptions options)
    : clock_(clock),
      writer_(writer),
      options_(options),
      registry_(std::make_shared<prometheus::Registry>()) {
  dropped_counter_ = &prometheus::BuildCounter()
                          .Name("dcdir_audit_dropped_total")
                          .Help("Cross-border fallback decisions left out of the audit log "
                                "because the window's aggregation map was full.")
                          .Register(*registry_)
                          .Add({});
  lines_counter_ = &prometheus::BuildCounter()
                        .Name("dcdir_audit_lines_total")
                        .Help("Aggregated cross-border fallback lines written to the audit log.")
                        .Register(*registry_)
                        .Add({});
  std::lock_guard<std::mutex> lock(mu_);
  window_start_ = clock_->MonotonicNow();
}

AuditLog::~AuditLog() { Stop(); }

void AuditLog::RecordAnswer(const core::Snapshot& snapshot, const core::Answer& answer,
                            std::string_view client_country, std::string_view tenant_id) {
  if (!answer.fallback_active || answer.cross_border_fallback_dcs.empty()) return;
  if (snapshot.topology == nullptr || answer.region == core::kNoIndex) return;
  const absl::Time now = clock_->MonotonicNow();

  // Build the key outside the lock.
  Key key;
  key.topology = snapshot.topology.get();
  key.region = answer.region;
  if (client_country.size() == 2) {
    key.country[0] = client_country[0];
    key.country[1] = client_country[1];
  }
  key.tenant = std::string(tenant_id);
  key.tenant_policy = !tenant_id.empty() && snapshot.tenants != nullptr &&
                      snapshot.tenants->contains(tenant_id);
  key.reason = answer.primaries.empty() ? FallbackReason::kNoUsablePrimary
                                        : FallbackReason::kAllUsablePrimariesCongested;
  for (const core::Pick& p : answer.primaries) key.congested_primaries.push_back(p.dc);
  std::sort(key.congested_primaries.begin(), key.congested_primaries.end());
  const size_t tries = std::min<size_t>(answer.secondary_attempts, answer.secondaries.size());
  for (size_t i = 0; i < tries; ++i) {
    key.secondaries.push_back(answer.secondaries[i].dc);
    key.cross_border.push_back(answer.secondaries[i].cross_border);
  }

  bool dropped = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end()) {
      if (entries_.size() >= options_.max_entries) {
        dropped = true;
      } else {
        Entry entry;
        entry.topology = snapshot.topology;
        entry.first_seen = now;
        entry.first_snapshot_version = snapshot.version;
        it = entries_.emplace(std::move(key), std::move(entry)).first;
      }
    }
    if (!dropped) {
      Entry& e = it->second;
      ++e.count;
      e.last_seen = std::max(e.last_seen, now);
      e.last_snapshot_version = std::max(e.last_snapshot_version, snapshot.version);
    }
  }
  if (dropped) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    dropped_counter_->Increment();
  }
}

size_t AuditLog::Poll() { return FlushWindow(/*force=*/false); }

size_t AuditLog::Flush() { return FlushWindow(/*force=*/true); }

size_t AuditLog::FlushWindow(bool force) {
  std::lock_guard<std::mutex> write_lock(write_mu_);
  // Windows are measured on the monotonic clock (a wall-clock step neither stretches nor cuts
  // one); the times printed are wall-clock times, mapped at the moment of writing.
  const absl::Time now = clock_->MonotonicNow();
  const absl::Duration to_wall = clock_->Now() - now;
  Map taken;
  absl::Time start;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!force && now < window_start_ + options_.window) return 0;
    taken.swap(entries_);
    start = window_start_;
    window_start_ = now;
  }
  if (taken.empty()) return 0;
  std::vector<std::string> lines;
  lines.reserve(taken.size());
  std::vector<std::pair<absl::Time, size_t>> order;
  for (const auto& [key, entry] : taken) {
    order.emplace_back(entry.first_seen, lines.size());
    lines.push_back(FormatLine(key, entry, start, now, to_wall));
  }
  // First seen first; identical times by line text, so the output is deterministic.
  std::sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    return lines[a.second] < lines[b.second];
  });
  std::string batch;
  for (const auto& [t, i] : order) absl::StrAppend(&batch, lines[i], "\n");
  if (absl::Status status = writer_->Write(batch); !status.ok()) {
    DCDIR_LOG(kError) << "audit log: " << status.message() << " (" << lines.size()
                      << " lines lost)";
    return 0;
  }
  lines_counter_->Increment(static_cast<double>(lines.size()));
  return lines.size();
}

std::string AuditLog::FormatLine(const Key& key, const Entry& entry, absl::Time window_start,
                                 absl::Time window_end, absl::Duration to_wall) const {
  const core::Topology& topo = *entry.topology;
  util::JsonWriter w;
  w.BeginObject()
      .Key("time").Value(TimeText(window_end + to_wall))
      .Key("event").Value("cross_border_fallback")
      .Key("count").Value(entry.count)
      .Key("window_start").Value(TimeText(window_start + to_wall))
      .Key("first_seen").Value(TimeText(entry.first_seen + to_wall))
      .Key("last_seen").Value(TimeText(entry.last_seen + to_wall))
      .Key("client_region")
      .Value(key.region < topo.region_count() ? topo.region_config(key.region).id
                                              : std::string("unknown"))
      .Key("client_country").Value(std::string_view(key.country, 2))
      .Key("tenant");
  if (key.tenant.empty()) {
    w.Null();
  } else {
    w.Value(key.tenant);
  }
  w.Key("tenant_policy").Value(key.tenant_policy)
      .Key("reason").Value(FallbackReasonToken(key.reason))
      .Key("congested_primaries").BeginArray();
  for (uint32_t dc : key.congested_primaries) {
    WriteDc(w, topo.dc(dc));
    w.EndObject();
  }
  w.EndArray().Key("secondaries").BeginArray();
  for (size_t i = 0; i < key.secondaries.size(); ++i) {
    WriteDc(w, topo.dc(key.secondaries[i]));
    w.Key("cross_border").Value(static_cast<bool>(key.cross_border[i])).EndObject();
  }
  w.EndArray().Key("cross_border_dcs").BeginArray();
  for (size_t i = 0; i < key.secondaries.size(); ++i) {
    if (key.cross_border[i]) w.Value(topo.dc(key.secondaries[i]).id);
  }
  w.EndArray()
      .Key("config_version").Value(topo.world().version)
      .Key("snapshot_version").Value(entry.last_snapshot_version)
      .Key("first_snapshot_version").Value(entry.first_snapshot_version)
      .EndObject();
  return w.Take();
}

void AuditLog::Start() {
  std::lock_guard<std::mutex> lock(thread_mu_);
  if (thread_.joinable() || stop_) return;
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(thread_mu_);
    while (!thread_cv_.wait_for(lock, absl::ToChronoMilliseconds(options_.poll_interval),
                                [this] { return stop_; })) {
      lock.unlock();
      Poll();
      lock.lock();
    }
  });
}

void AuditLog::Stop() {
  std::thread thread;
  {
    std::lock_guard<std::mutex> lock(thread_mu_);
    if (stop_) return;
    stop_ = true;
    thread = std::move(thread_);
  }
  thread_cv_.notify_all();
  if (thread.joinable()) thread.join();
  Flush();
}

}  // namespace dcdir::audit

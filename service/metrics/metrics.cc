#include "service/metrics/metrics.h"

#include <mutex>
#include <set>
#include <string>
#include <utility>

#include "dcdir/client/version.h"

namespace dcdir::metrics {
namespace {

constexpr const char* kCodeNames[kCodeCount] = {
    "OK",        "CANCELLED",        "UNKNOWN",           "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",   "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
    "UNIMPLEMENTED", "INTERNAL",     "UNAVAILABLE",       "DATA_LOSS",
    "UNAUTHENTICATED"};

constexpr const char* kUnknownRegion = "unknown";
constexpr const char* kTenantControlRule = "tenant_control";

prometheus::Histogram::BucketBoundaries DurationBuckets() {
  return {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 1};
}

}  // namespace

const char* CodeName(int code) {
  return code >= 0 && code < kCodeCount ? kCodeNames[code] : "UNKNOWN";
}

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      requests_(prometheus::BuildCounter()
                    .Name("dcdir_directory_requests_total")
                    .Help("Directory requests by client region and canonical gRPC code.")
                    .Register(*registry_)),
      duration_(prometheus::BuildHistogram()
                    .Name("dcdir_directory_request_duration_seconds")
                    .Help("Time to answer a directory request inside the server.")
                    .Register(*registry_)),
      fallbacks_(prometheus::BuildCounter()
                     .Name("dcdir_fallback_responses_total")
                     .Help("Answers with fallback_active (no non-congested primary usable).")
                     .Register(*registry_)),
      cross_border_(prometheus::BuildCounter()
                        .Name("dcdir_cross_border_fallback_total")
                        .Help("Cross-border DCs among the secondaries clients will try, in "
                              "answers with fallback_active because the client's own region "
                              "could not serve them (policy-mandated answers are in "
                              "dcdir_policy_cross_border_total).")
                        .Register(*registry_)),
      policy_cross_border_(prometheus::BuildCounter()
                               .Name("dcdir_policy_cross_border_total")
                               .Help("Cross-border DCs among the secondaries clients will try, "
                                     "in answers whose tenant's routing control excludes every "
                                     "primary of the client's region (abroad by policy, not a "
                                     "fallback).")
                               .Register(*registry_)),
      directory_errors_(prometheus::BuildCounter()
                            .Name("dcdir_directory_errors_total")
                            .Help("Directory requests (Get, Watch) answered without a "
                                  "directory, by client region and reason token.")
                            .Register(*registry_)),
      exclusions_(prometheus::BuildCounter()
                      .Name("dcdir_compliance_exclusions_total")
                      .Help("DCs a client would have been offered but a deny rule (or the "
                            "tenant's routing control) withheld.")
                      .Register(*registry_)),
      dc_up_(prometheus::BuildGauge()
                 .Name("dcdir_datacenter_up")
                 .Help("1 when the DC is usable (HEALTHY, report not expired), else 0.")
                 .Register(*registry_)),
      dc_congestion_(prometheus::BuildGauge()
                         .Name("dcdir_datacenter_congestion")
                         .Help("Last reported congestion of the DC, in [0,1].")
                         .Register(*registry_)),
      health_reports_(prometheus::BuildCounter()
                          .Name("dcdir_health_reports_total")
                          .Help("Health reports by result.")
                          .Register(*registry_)),
      client_fallbacks_(prometheus::BuildCounter()
                            .Name("dcdir_client_fallbacks_total")
                            .Help("Fallbacks reported by clients (ReportFallback).")
                            .Register(*registry_)),
      store_up_(prometheus::BuildGauge()
                    .Name("dcdir_store_up")
                    .Help("1 when the shared store is reachable, else 0.")
                    .Register(*registry_)
                    .Add({})),
      snapshot_age_(prometheus::BuildGauge()
                        .Name("dcdir_snapshot_age_seconds")
                        .Help("Seconds since the current snapshot was built.")
                        .Register(*registry_)
                        .Add({})),
      snapshot_version_(prometheus::BuildGauge()
                            .Name("dcdir_snapshot_version")
                            .Help("Version of the current snapshot.")
                            .Register(*registry_)
                            .Add({})),
      self_preservation_(prometheus::BuildGauge()
                             .Name("dcdir_self_preservation_active")
                             .Help("1 while mass expiry is ignored (reporters broken, not DCs).")
                             .Register(*registry_)
                             .Add({})),
      store_bad_records_(prometheus::BuildCounter()
                             .Name("dcdir_store_bad_records_total")
                             .Help("Bad records found in the store and skipped: undecodable, or "
                                   "a tenant id the API refuses.")
                             .Register(*registry_)
                             .Add({})),
      self_preservation_kept_(prometheus::BuildGauge()
                                  .Name("dcdir_self_preservation_kept_datacenters")
                                  .Help("DCs whose health self-preservation keeps past its "
                                        "expiry (0 outside an episode).")
                                  .Register(*registry_)
                                  .Add({})),
      orphaned_tenants_(prometheus::BuildGauge()
                            .Name("dcdir_orphaned_tenant_policies")
                            .Help("Stored tenant policies naming a region the served config "
                                  "does not define (an unknown home region fails closed).")
                            .Register(*registry_)
                            .Add({})),
      config_reloads_(prometheus::BuildCounter()
                          .Name("dcdir_config_reload_total")
                          .Help("Config reloads by result (success, error, loosening_refused).")
                          .Register(*registry_)),
      unparsable_requests_(prometheus::BuildCounter()
                               .Name("dcdir_unparsable_requests_total")
                               .Help("Requests whose message could not be parsed (e.g. a string "
                                     "that is not UTF-8), by RPC; answered INVALID_ARGUMENT.")
                               .Register(*registry_)),
      connections_open_(prometheus::BuildGauge()
                            .Name("dcdir_grpc_connections")
                            .Help("Open connections on the gRPC port.")
                            .Register(*registry_)
                            .Add({})),
      connections_accepted_(prometheus::BuildCounter()
                                .Name("dcdir_grpc_connections_accepted_total")
                                .Help("Connections the gRPC port accepted and served.")
                                .Register(*registry_)
                                .Add({})) {
  auto& refused = prometheus::BuildCounter()
                      .Name("dcdir_grpc_connections_refused_total")
                      .Help("Connections the gRPC port closed at once: over --max_connections "
                            "(limit), over --max_connections_per_peer (peer_limit), or the "
                            "process was out of file descriptors (descriptors).")
                      .Register(*registry_);
  connections_refused_ = {&refused.Add({{"reason", "limit"}}),
                          &refused.Add({{"reason", "peer_limit"}}),
                          &refused.Add({{"reason", "descriptors"}})};
  duration_by_method_ = {&duration_.Add({{"method", "GetDirectory"}}, DurationBuckets()),
                         &duration_.Add({{"method", "WatchDirectory"}}, DurationBuckets()),
                         &duration_.Add({{"method", "ExplainDirectory"}}, DurationBuckets())};
  health_report_results_ = {&health_reports_.Add({{"result", "accepted"}}),
                            &health_reports_.Add({{"result", "invalid"}}),
                            &health_reports_.Add({{"result", "unauthenticated"}}),
                            &health_reports_.Add({{"result", "unknown_datacenter"}}),
                            &health_reports_.Add({{"result", "store_unavailable"}}),
                            &health_reports_.Add({{"result", "rate_limited"}}),
                            &health_reports_.Add({{"result", "not_ready"}})};
  config_reload_results_ = {&config_reloads_.Add({{"result", "success"}}),
                            &config_reloads_.Add({{"result", "error"}}),
                            &config_reloads_.Add({{"result", "loosening_refused"}}),
                            &config_reloads_.Add({{"result", "unchanged"}})};
  prometheus::BuildGauge()
      .Name("dcdir_build_info")
      .Help("Always 1; the version label is this build's (project(dcdir VERSION) in CMake).")
      .Register(*registry_)
      .Add({{"version", kVersion}})
      .Set(1);
}

void Metrics::SetTopology(const core::Topology& topology) {
  std::lock_guard<std::mutex> lock(mu_);
  auto h = std::make_unique<Handles>();
  const size_t regions = topology.region_count();
  h->region_count = regions;
  auto region_id = [&](size_t r) -> std::string {
    return r < regions ? topology.region_config(r).id : kUnknownRegion;
  };
  h->requests.resize(regions + 1);
  for (size_t r = 0; r <= regions; ++r) {
    // Index 0 is "unknown"; regions follow.
    const std::string label = r == 0 ? kUnknownRegion : region_id(r - 1);
    for (int c = 0; c < kCodeCount; ++c) {
      h->requests[r][c] = &requests_.Add({{"client_region", label}, {"code", kCodeNames[c]}});
    }
  }
  static constexpr const char* kErrorReasons[kDirectoryErrorCount] = {
      "NO_COMPLIANT_DATACENTER", "NO_HEALTHY_COMPLIANT_DATACENTER", "COUNTRY_NOT_MAPPED",
      "NOT_READY", "TOO_MANY_WATCHES", "TOO_MANY_WATCHES_FROM_PEER"};
  h->errors.resize(regions + 1);
  for (size_t r = 0; r <= regions; ++r) {
    const std::string label = r == 0 ? kUnknownRegion : region_id(r - 1);
    for (int e = 0; e < kDirectoryErrorCount; ++e) {
      h->errors[r][e] =
          &directory_errors_.Add({{"client_region", label}, {"reason", kErrorReasons[e]}});
    }
  }
  for (size_t r = 0; r < regions; ++r) h->region_ids.push_back(region_id(r));
  h->cross_border = std::vector<std::atomic<prometheus::Counter*>>(regions * regions);
  h->policy_cross_border = std::vector<std::atomic<prometheus::Counter*>>(regions * regions);
  h->client_fallbacks = std::vector<std::atomic<prometheus::Counter*>>(regions * regions * 2);
  for (size_t c = 0; c < regions; ++c) {
    h->fallbacks.push_back(&fallbacks_.Add({{"client_region", region_id(c)}}));
    std::set<size_t> named = {c};
    for (const auto* ids : {&topology.region_config(c).primaries,
                            &topology.region_config(c).secondaries}) {
      for (const std::string& id : *ids) named.insert(topology.dc_region()[topology.DcIndex(id)]);
    }
    for (size_t d : named) {
      if (d != c) CrossBorder(*h, c, d);
      ClientFallback(*h, c, d, false);
      ClientFallback(*h, c, d, true);
    }
  }
  for (const core::DenyRule& rule : topology.world().deny_rules) {
    h->exclusions.push_back(&exclusions_.Add({{"rule", rule.name}}));
  }
  h->exclusions.push_back(&exclusions_.Add({{"rule", kTenantControlRule}}));
  // DC gauges of DCs that left the topology disappear.
  if (const Handles* old = handles_.load()) {
    for (size_t i = 0; i < old->dc_up.size(); ++i) {
      dc_up_.Remove(old->dc_up[i]);
      dc_congestion_.Remove(old->dc_congestion[i]);
    }
  }
  for (size_t i = 0; i < topology.dc_count(); ++i) {
    const core::DataCenter& dc = topology.dc(i);
    const prometheus::Labels labels = {{"datacenter", dc.id}, {"region", dc.region}};
    h->dc_up.push_back(&dc_up_.Add(labels));
    h->dc_congestion.push_back(&dc_congestion_.Add(labels));
  }
  h->dc_region = topology.dc_region();
  h->topology = &topology;
  handles_.store(h.get(), std::memory_order_release);
  all_handles_.push_back(std::move(h));
}

const Metrics::Handles* Metrics::HandlesFor(const core::Topology* topology) {
  const Handles* h = handles_.load(std::memory_order_acquire);
  if (h == nullptr || topology == nullptr || h->topology == topology) return h;
  std::lock_guard<std::mutex> lock(mu_);
  return HandlesForLocked(topology);
}

const Metrics::Handles* Metrics::HandlesForLocked(const core::Topology* topology) const {
  // Newest first: a topology allocated where a freed one was is the newer registration.
  for (auto it = all_handles_.rbegin(); it != all_handles_.rend(); ++it) {
    if ((*it)->topology == topology) return it->get();
  }
  return nullptr;
}

prometheus::Counter& Metrics::RegionPair(prometheus::Family<prometheus::Counter>& family,
                                         const Handles& h,
                                         std::vector<std::atomic<prometheus::Counter*>>& slots,
                                         size_t client, size_t dc_region) {
  std::atomic<prometheus::Counter*>& slot = slots[client * h.region_count + dc_region];
  prometheus::Counter* counter = slot.load(std::memory_order_acquire);
  if (counter == nullptr) {  // Family::Add returns the existing series for the same labels
    counter = &family.Add(
        {{"client_region", h.region_ids[client]}, {"dc_region", h.region_ids[dc_region]}});
    slot.store(counter, std::memory_order_release);
  }
  return *counter;
}

prometheus::Counter& Metrics::CrossBorder(const Handles& h, size_t client, size_t dc_region) {
  return RegionPair(cross_border_, h, h.cross_border, client, dc_region);
}

void Metrics::RecordDirectoryError(const core::Topology* topology, uint32_t region,
                                   DirectoryError error) {
  const Handles* h = HandlesFor(topology);
  if (h == nullptr) return;
  const size_t row = region < h->region_count ? region + 1 : 0;
  h->errors[row][static_cast<int>(error)]->Increment();
}

prometheus::Counter& Metrics::ClientFallback(const Handles& h, size_t client, size_t dc_region,
                                             bool cross_border) {
  std::atomic<prometheus::Counter*>& slot =
      h.client_fallbacks[(client * h.region_count + dc_region) * 2 + (cross_border ? 1 : 0)];
  prometheus::Counter* counter = slot.load(std::memory_order_acquire);
  if (counter == nullptr) {
    counter = &client_fallbacks_.Add({{"client_region", h.region_ids[client]},
                                      {"dc_region", h.region_ids[dc_region]},
                                      {"cross_border", cross_border ? "true" : "false"}});
    slot.store(counter, std::memory_order_release);
  }
  return *counter;
}

void Metrics::ObserveRequest(Method method, const core::Topology* topology, uint32_t region,
                             int code, absl::Duration elapsed) {
  duration_by_method_[static_cast<int>(method)]->Observe(absl::ToDoubleSeconds(elapsed));
  const Handles* h = HandlesFor(topology);
  if (h == nullptr || code < 0 || code >= kCodeCount) return;
  const size_t row = region < h->region_count ? region + 1 : 0;
  h->requests[row][code]->Increment();
}

void Metrics::RecordAnswer(const core::Topology& topology, const core::Answer& answer) {
  if (!answer.fallback_active) return;
  const Handles* h = HandlesFor(&topology);
  if (h == nullptr || answer.region >= h->region_count) return;
  h->fallbacks[answer.region]->Increment();
  for (uint32_t dc : answer.cross_border_fallback_dcs) {
    if (dc < h->dc_region.size()) CrossBorder(*h, answer.region, h->dc_region[dc]).Increment();
  }
  for (uint32_t dc : answer.policy_cross_border_dcs) {
    if (dc < h->dc_region.size()) {
      RegionPair(policy_cross_border_, *h, h->policy_cross_border, answer.region,
                 h->dc_region[dc])
          .Increment();
    }
  }
}

void Metrics::RecordComplianceExclusion(const core::Topology& topology, int32_t rule_index) {
  const Handles* h = HandlesFor(&topology);
  if (h == nullptr) return;
  const size_t tenant_slot = h->exclusions.size() - 1;
  const size_t slot =
      rule_index >= 0 && static_cast<size_t>(rule_index) < tenant_slot ? rule_index : tenant_slot;
  h->exclusions[slot]->Increment();
}

prometheus::Counter* Metrics::UnparsableRequests(const std::string& method) {
  return &unparsable_requests_.Add({{"method", method}});
}

void Metrics::RecordHealthReport(HealthReportResult result) {
  health_report_results_[static_cast<int>(result)]->Increment();
}

void Metrics::RecordClientFallback(const core::Topology& topology, uint32_t client_region,
                                   uint32_t dc_region, bool cross_border) {
  const Handles* h = HandlesFor(&topology);
  if (h == nullptr || client_region >= h->region_count || dc_region >= h->region_count) return;
  ClientFallback(*h, client_region, dc_region, cross_border).Increment();
}

void Metrics::OnSnapshot(const core::Snapshot& snapshot) {
  std::lock_guard<std::mutex> lock(mu_);
  // The DC gauges are those of the newest topology; a snapshot of an older one (published while
  // a reload switches) does not set them, and its version and store state are not newer.
  const Handles* h = handles_.load(std::memory_order_acquire);
  if (h == nullptr || h->topology != snapshot.topology.get()) return;
  for (size_t i = 0; i < snapshot.dcs.size(); ++i) {
    h->dc_up[i]->Set(snapshot.dcs[i].usable ? 1 : 0);
    h->dc_congestion[i]->Set(snapshot.dcs[i].record.congestion);
  }
  snapshot_version_.Set(static_cast<double>(snapshot.version));
  store_up_.Set(snapshot.stale ? 0 : 1);
  self_preservation_kept_.Set(static_cast<double>(snapshot.kept));
  orphaned_tenants_.Set(static_cast<double>(snapshot.orphaned_tenants));
}

void Metrics::RecordConfigReload(ConfigReloadResult result) {
  config_reload_results_[static_cast<size_t>(result)]->Increment();
}

void Metrics::SetSelfPreservation(bool active) { self_preservation_.Set(active ? 1 : 0); }

void Metrics::SetStoreBadRecords(uint64_t total) {
  const uint64_t seen = bad_records_seen_.exchange(total);
  if (total > seen) store_bad_records_.Increment(static_cast<double>(total - seen));
}

void Metrics::SetConnectionCounts(const ConnectionCounts& counts) {
  std::lock_guard<std::mutex> lock(connections_mu_);
  auto add = [](prometheus::Counter* counter, uint64_t now, uint64_t seen) {
    if (now > seen) counter->Increment(static_cast<double>(now - seen));
  };
  add(&connections_accepted_, counts.accepted, connections_seen_.accepted);
  add(connections_refused_[0], counts.refused_limit, connections_seen_.refused_limit);
  add(connections_refused_[1], counts.refused_peer_limit, connections_seen_.refused_peer_limit);
  add(connections_refused_[2], counts.refused_descriptors, connections_seen_.refused_descriptors);
  connections_open_.Set(static_cast<double>(counts.open));
  connections_seen_ = counts;
}

void Metrics::SetSnapshotAge(absl::Duration age) {
  snapshot_age_.Set(absl::ToDoubleSeconds(age));
}

}  // namespace dcdir::metrics

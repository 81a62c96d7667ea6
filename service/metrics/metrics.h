#ifndef DCDIR_SERVICE_METRICS_METRICS_H_
#define DCDIR_SERVICE_METRICS_METRICS_H_

// The Prometheus metrics of docs/CONTRACT.md ("Metrics"). Label values come only from the config
// (region ids, DC ids, rule names) and from fixed tokens ("unknown", code names, results):
// never from request text, so the number of series is bounded by the config.
// Series are created when a topology is set, so the request path only bumps pointers.

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "service/core/answer.h"
#include "service/core/snapshot.h"
#include "service/core/topology.h"

namespace dcdir::metrics {

// Canonical gRPC code numbers 0..16 (grpc::StatusCode values).
inline constexpr int kCodeCount = 17;
// Name of a canonical code, e.g. "OK", "INVALID_ARGUMENT".
const char* CodeName(int code);

enum class Method { kGetDirectory, kWatchDirectory, kExplainDirectory };

enum class HealthReportResult {
  kAccepted,
  kInvalid,
  kUnauthenticated,
  kUnknownDatacenter,
  kStoreUnavailable,
  kRateLimited,
};

// dcdir_config_reload_total{result}: the file was served (success), was not a valid config
// (error), or would have loosened compliance without acknowledging it (loosening_refused).
enum class ConfigReloadResult { kSuccess, kError, kLooseningRefused };

class Metrics {
 public:
  Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

  // Creates the series for a topology (first config and every reload).
  void SetTopology(const core::Topology& topology);

  // A directory request finished. `region` is the client's region index or core::kNoIndex.
  void ObserveRequest(Method method, uint32_t region, int code, absl::Duration elapsed);
  // An answer was served: counts fallback responses and cross-border fallback DCs.
  void RecordAnswer(const core::Answer& answer);
  // A DC withheld from a client by deny rule `rule_index` (or by the tenant's control: -1).
  void RecordComplianceExclusion(int32_t rule_index);
  void RecordHealthReport(HealthReportResult result);
  // A client reported where it ended up.
  void RecordClientFallback(uint32_t client_region, uint32_t dc_region, bool cross_border);
  // A new snapshot was published: DC gauges, version, store state.
  void OnSnapshot(const core::Snapshot& snapshot);
  void RecordConfigReload(ConfigReloadResult result);
  void SetSelfPreservation(bool active);
  void SetStoreBadRecords(uint64_t total);
  // Sets dcdir_snapshot_age_seconds (called on every maintenance tick).
  void SetSnapshotAge(absl::Duration age);

  // The gRPC port's connection counts (api::ConnectionListener::Stats; totals since start):
  // dcdir_grpc_connections, dcdir_grpc_connections_accepted_total and
  // dcdir_grpc_connections_refused_total{reason="limit"|"peer_limit"|"descriptors"}.
  struct ConnectionCounts {
    uint64_t accepted = 0;
    uint64_t refused_limit = 0;
    uint64_t refused_peer_limit = 0;
    uint64_t refused_descriptors = 0;
    size_t open = 0;
  };
  void SetConnectionCounts(const ConnectionCounts& counts);

 private:
  // Per-topology series pointers; never freed (config reloads are rare) so that the request
  // path can read them without a lock.
  struct Handles {
    std::vector<std::array<prometheus::Counter*, kCodeCount>> requests;  // [region+1][code]
    std::vector<prometheus::Counter*> fallbacks;                         // [region]
    // Region-pair series: those of the pairs the config names (a region and the regions of
    // its primaries and secondaries) are created with the topology, any other pair (a top-up
    // from an unlisted region) on its first increment. Regions² zero series would dominate
    // a large world's memory and every scrape.
    mutable std::vector<std::atomic<prometheus::Counter*>> cross_border;  // [c*R+d]
    mutable std::vector<std::atomic<prometheus::Counter*>> client_fallbacks;  // [(c*R+d)*2+x]
    std::vector<prometheus::Counter*> exclusions;  // [rule], last one is tenant control
    std::vector<prometheus::Gauge*> dc_up;
    std::vector<prometheus::Gauge*> dc_congestion;
    std::vector<uint32_t> dc_region;
    std::vector<std::string> region_ids;
    size_t region_count = 0;
  };

  prometheus::Counter& CrossBorder(const Handles& h, size_t client, size_t dc_region);
  prometheus::Counter& ClientFallback(const Handles& h, size_t client, size_t dc_region,
                                      bool cross_border);

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& duration_;
  prometheus::Family<prometheus::Counter>& fallbacks_;
  prometheus::Family<prometheus::Counter>& cross_border_;
  prometheus::Family<prometheus::Counter>& exclusions_;
  prometheus::Family<prometheus::Gauge>& dc_up_;
  prometheus::Family<prometheus::Gauge>& dc_congestion_;
  prometheus::Family<prometheus::Counter>& health_reports_;
  prometheus::Family<prometheus::Counter>& client_fallbacks_;
  prometheus::Gauge& store_up_;
  prometheus::Gauge& snapshot_age_;
  prometheus::Gauge& snapshot_version_;
  prometheus::Gauge& self_preservation_;
  prometheus::Counter& store_bad_records_;
  prometheus::Gauge& self_preservation_kept_;
  prometheus::Gauge& orphaned_tenants_;
  prometheus::Family<prometheus::Counter>& config_reloads_;
  std::array<prometheus::Counter*, 3> config_reload_results_;
  prometheus::Gauge& connections_open_;
  prometheus::Counter& connections_accepted_;
  std::array<prometheus::Counter*, 3> connections_refused_;  // limit, peer_limit, descriptors
  std::mutex connections_mu_;
  ConnectionCounts connections_seen_ ABSL_GUARDED_BY(connections_mu_);
  std::array<prometheus::Histogram*, 3> duration_by_method_;
  std::array<prometheus::Counter*, 6> health_report_results_;

  std::mutex mu_;  // serialises SetTopology and OnSnapshot
  std::vector<std::unique_ptr<Handles>> all_handles_ ABSL_GUARDED_BY(mu_);
  std::atomic<const Handles*> handles_{nullptr};
  std::atomic<uint64_t> bad_records_seen_{0};
};

}  // namespace dcdir::metrics

#endif  // DCDIR_SERVICE_METRICS_METRICS_H_

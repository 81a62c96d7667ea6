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

// Why a directory request (Get, Watch) got no answer: dcdir_directory_errors_total{
// client_region, reason} with the reason token. Kept apart so that "the replica has no snapshot
// yet" or "too many watches" never looks like "no compliant DC" to an alert.
enum class DirectoryError {
  kNoCompliantDatacenter,         // NO_COMPLIANT_DATACENTER
  kNoHealthyCompliantDatacenter,  // NO_HEALTHY_COMPLIANT_DATACENTER
  kCountryNotMapped,              // COUNTRY_NOT_MAPPED
  kNotReady,                      // NOT_READY
  kTooManyWatches,                // TOO_MANY_WATCHES
  kTooManyWatchesFromPeer,        // TOO_MANY_WATCHES_FROM_PEER (one client address's cap)
};
inline constexpr int kDirectoryErrorCount = 6;

// dcdir_health_reports_total{result}: accepted, invalid, unauthenticated, unknown_datacenter,
// store_unavailable (the store is unreachable or its write queue is full), rate_limited, and
// not_ready (refused NOT_READY: no snapshot yet, the server is still starting).
enum class HealthReportResult {
  kAccepted,
  kInvalid,
  kUnauthenticated,
  kUnknownDatacenter,
  kStoreUnavailable,
  kRateLimited,
  kNotReady,
};

// dcdir_config_reload_total{result}: the file was served (success), was not a valid config
// (error), would have loosened compliance without acknowledging it (loosening_refused), or
// changed back to the config already served, e.g. restored after a rejected edit (unchanged:
// nothing was replaced).
enum class ConfigReloadResult { kSuccess, kError, kLooseningRefused, kUnchanged };

class Metrics {
 public:
  Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

  // Creates the series for a topology (first config and every reload). Must be called before
  // any snapshot of `topology` is published.
  void SetTopology(const core::Topology& topology);

  // Region, DC and rule indices below are indices of `topology`, the topology of the snapshot
  // the request was answered from (or DirectoryState::topology() when there was none). They
  // are counted under that topology's labels, even while a reload switches to another one; an
  // index of a topology never passed to SetTopology is dropped, never counted under another
  // topology's labels. A null `topology` (only with region core::kNoIndex: the request was
  // invalid before any topology was consulted) counts under the newest topology's "unknown".

  // A directory request finished. `region` is the client's region index or core::kNoIndex.
  void ObserveRequest(Method method, const core::Topology* topology, uint32_t region, int code,
                      absl::Duration elapsed);
  // An answer was served: counts fallback responses, cross-border fallback DCs
  // (dcdir_cross_border_fallback_total) and the cross-border DCs of a policy-mandated answer
  // (dcdir_policy_cross_border_total: the tenant's control sends its clients abroad).
  void RecordAnswer(const core::Topology& topology, const core::Answer& answer);
  // A directory request got no answer for `error`; `region` is the client's home region index
  // when its country is valid and mapped, else core::kNoIndex ("unknown").
  void RecordDirectoryError(const core::Topology* topology, uint32_t region,
                            DirectoryError error);
  // A DC withheld from a client by deny rule `rule_index` (or by the tenant's control: -1).
  void RecordComplianceExclusion(const core::Topology& topology, int32_t rule_index);
  void RecordHealthReport(HealthReportResult result);
  // A client reported where it ended up.
  void RecordClientFallback(const core::Topology& topology, uint32_t client_region,
                            uint32_t dc_region, bool cross_border);
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

  // The series dcdir_unparsable_requests_total{method} of one RPC ("/dcdir.v1.Service/Method"):
  // requests whose message could not be parsed (api/unparsable_request.h). Created on the first
  // call; the pointer lives as long as this object. Call it only with the server's own methods
  // (the label set stays fixed).
  prometheus::Counter* UnparsableRequests(const std::string& method);

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
    mutable std::vector<std::atomic<prometheus::Counter*>> policy_cross_border;  // [c*R+d]
    std::vector<std::array<prometheus::Counter*, kDirectoryErrorCount>> errors;  // [region+1]
    mutable std::vector<std::atomic<prometheus::Counter*>> client_fallbacks;  // [(c*R+d)*2+x]
    std::vector<prometheus::Counter*> exclusions;  // [rule], last one is tenant control
    std::vector<prometheus::Gauge*> dc_up;
    std::vector<prometheus::Gauge*> dc_congestion;
    std::vector<uint32_t> dc_region;
    std::vector<std::string> region_ids;
    size_t region_count = 0;
    const core::Topology* topology = nullptr;  // identity only, never dereferenced
  };

  // The handles of `topology`: the newest ones without a lock when it is the newest topology
  // (every request but those racing a reload) or null, else a search under mu_; null when
  // `topology` was never registered.
  const Handles* HandlesFor(const core::Topology* topology);
  const Handles* HandlesForLocked(const core::Topology* topology) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // The region-pair series of `family` in `slots`, created on first use.
  static prometheus::Counter& RegionPair(prometheus::Family<prometheus::Counter>& family,
                                         const Handles& h,
                                         std::vector<std::atomic<prometheus::Counter*>>& slots,
                                         size_t client, size_t dc_region);
  prometheus::Counter& CrossBorder(const Handles& h, size_t client, size_t dc_region);
  prometheus::Counter& ClientFallback(const Handles& h, size_t client, size_t dc_region,
                                      bool cross_border);

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& duration_;
  prometheus::Family<prometheus::Counter>& fallbacks_;
  prometheus::Family<prometheus::Counter>& cross_border_;
  prometheus::Family<prometheus::Counter>& policy_cross_border_;
  prometheus::Family<prometheus::Counter>& directory_errors_;
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
  prometheus::Family<prometheus::Counter>& unparsable_requests_;
  std::array<prometheus::Counter*, 4> config_reload_results_;
  prometheus::Gauge& connections_open_;
  prometheus::Counter& connections_accepted_;
  std::array<prometheus::Counter*, 3> connections_refused_;  // limit, peer_limit, descriptors
  std::mutex connections_mu_;
  ConnectionCounts connections_seen_ ABSL_GUARDED_BY(connections_mu_);
  std::array<prometheus::Histogram*, 3> duration_by_method_;
  std::array<prometheus::Counter*, 7> health_report_results_;

  std::mutex mu_;  // serialises SetTopology and OnSnapshot
  std::vector<std::unique_ptr<Handles>> all_handles_ ABSL_GUARDED_BY(mu_);
  std::atomic<const Handles*> handles_{nullptr};
  std::atomic<uint64_t> bad_records_seen_{0};
};

}  // namespace dcdir::metrics

#endif  // DCDIR_SERVICE_METRICS_METRICS_H_

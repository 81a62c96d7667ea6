#ifndef DCDIR_SERVICE_API_REPORTING_SERVICE_H_
#define DCDIR_SERVICE_API_REPORTING_SERVICE_H_

#include <memory>
#include <mutex>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "dcdir/v1/reporting.grpc.pb.h"
#include "service/api/service_context.h"
#include "service/api/validation.h"
#include "service/core/token_bucket.h"

namespace dcdir::api {

// dcdir.v1.ReportingService: ReportHealth (agents, token) and ReportFallback (apps, no token).
class ReportingServiceImpl final : public v1::ReportingService::CallbackService {
 public:
  // `fallback_reports_per_second` bounds ReportFallback server-wide, and
  // `fallback_reports_per_second_per_peer` (burst: twice that, at least 1) per client address
  // (the peer, or the address a trusted proxy forwards when GeoIP is on); a peer over its own
  // limit does not use up the server-wide one. Both answer RESOURCE_EXHAUSTED RATE_LIMITED; 0: no
  // per-peer limit. `health_reports_per_second_per_dc` (burst `health_report_burst_per_dc`)
  // bounds ReportHealth for each DC (RESOURCE_EXHAUSTED RATE_LIMITED above); 0: no limit.
  ReportingServiceImpl(ServiceContext context, double fallback_reports_per_second,
                       double health_reports_per_second_per_dc = 0,
                       double health_report_burst_per_dc = 0,
                       double fallback_reports_per_second_per_peer = 0);

  grpc::ServerUnaryReactor* ReportHealth(grpc::CallbackServerContext* context,
                                         const v1::HealthReport* request,
                                         v1::ReportHealthResponse* response) override;
  grpc::ServerUnaryReactor* ReportFallback(grpc::CallbackServerContext* context,
                                           const v1::FallbackReport* request,
                                           v1::ReportFallbackResponse* response) override;

 private:
  // A report that passed every check, ready for the store.
  struct AdmittedReport {
    std::string dc_id;
    ValidHealthReport report;
  };
  // Authentication, validation and the per-DC rate limit: cheap, on the gRPC thread, so a flood
  // of bad reports never takes the store queue's places. Counts the refusals.
  absl::StatusOr<AdmittedReport> AdmitHealthReport(const grpc::CallbackServerContext& context,
                                                   const v1::HealthReport& request);
  // The store write (on the store queue). Counts the outcome.
  absl::Status WriteHealthReport(const AdmittedReport& admitted,
                                 v1::ReportHealthResponse* response);
  // Takes a token from `dc_id`'s bucket. Only ids of known DCs get here, so the map is bounded
  // by the topology.
  bool TakeHealthToken(const std::string& dc_id, absl::Time now);

  ServiceContext context_;
  // A peer's share of ReportFallback first, then the server-wide limit.
  bool TakeFallbackToken(const grpc::CallbackServerContext& context, absl::Time now,
                         bool* peer_limited);

  core::TokenBucket fallback_limiter_;
  std::unique_ptr<core::KeyedTokenBuckets> fallback_peer_limiter_;  // null: no per-peer limit
  const double health_rate_;
  const double health_burst_;
  std::mutex health_mu_;  // guards the map; each bucket locks itself
  absl::flat_hash_map<std::string, std::unique_ptr<core::TokenBucket>> health_buckets_;
};

}  // namespace dcdir::api

#endif  // DCDIR_SERVICE_API_REPORTING_SERVICE_H_

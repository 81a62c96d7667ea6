#ifndef DCDIR_SERVICE_API_REPORTING_SERVICE_H_
#define DCDIR_SERVICE_API_REPORTING_SERVICE_H_

#include "dcdir/v1/reporting.grpc.pb.h"
#include "service/api/service_context.h"
#include "service/core/token_bucket.h"

namespace dcdir::api {

// dcdir.v1.ReportingService: ReportHealth (agents, token) and ReportFallback (apps, no token).
class ReportingServiceImpl final : public v1::ReportingService::CallbackService {
 public:
  // `fallback_reports_per_second` bounds ReportFallback server-wide (RESOURCE_EXHAUSTED above).
  ReportingServiceImpl(ServiceContext context, double fallback_reports_per_second);

  grpc::ServerUnaryReactor* ReportHealth(grpc::CallbackServerContext* context,
                                         const v1::HealthReport* request,
                                         v1::ReportHealthResponse* response) override;
  grpc::ServerUnaryReactor* ReportFallback(grpc::CallbackServerContext* context,
                                           const v1::FallbackReport* request,
                                           v1::ReportFallbackResponse* response) override;

 private:
  std::optional<ApiError> HandleReportHealth(const grpc::CallbackServerContext& context,
                                             const v1::HealthReport& request,
                                             v1::ReportHealthResponse* response);
  ServiceContext context_;
  core::TokenBucket fallback_limiter_;
};

}  // namespace dcdir::api

#endif  // DCDIR_SERVICE_API_REPORTING_SERVICE_H_

#include "service/api/reporting_service.h"

#include "service/api/mapping.h"
#include "service/api/validation.h"

namespace dcdir::api {

using metrics::HealthReportResult;

ReportingServiceImpl::ReportingServiceImpl(ServiceContext context,
                                           double fallback_reports_per_second)
    : context_(context),
      fallback_limiter_(fallback_reports_per_second, fallback_reports_per_second) {}

std::optional<ApiError> ReportingServiceImpl::HandleReportHealth(
    const grpc::CallbackServerContext& context, const v1::HealthReport& request,
    v1::ReportHealthResponse* response) {
  if (auto e = context_.auth->Check(context)) {
    context_.metrics->RecordHealthReport(HealthReportResult::kUnauthenticated);
    return e;
  }
  const auto snapshot = context_.state->Current();
  if (snapshot == nullptr) {
    context_.metrics->RecordHealthReport(HealthReportResult::kStoreUnavailable);
    return ApiError{grpc::StatusCode::UNAVAILABLE, "NOT_READY",
                    "the directory has not loaded the store yet; retry shortly"};
  }
  ValidHealthReport report;
  if (auto e = ValidateHealthReport(request, *snapshot->topology, &report)) {
    context_.metrics->RecordHealthReport(e->code == grpc::StatusCode::NOT_FOUND
                                             ? HealthReportResult::kUnknownDatacenter
                                             : HealthReportResult::kInvalid);
    return e;
  }
  auto record = context_.state->ReportHealth(snapshot->topology->dc(report.dc).id, report.status,
                                             report.congestion, report.ttl);
  if (!record.ok()) {
    context_.metrics->RecordHealthReport(HealthReportResult::kStoreUnavailable);
    return FromStatus(record.status());
  }
  context_.metrics->RecordHealthReport(HealthReportResult::kAccepted);
  ToProto(record->expires_at, response->mutable_expire_time());
  response->set_congested(record->congested);
  return std::nullopt;
}

grpc::ServerUnaryReactor* ReportingServiceImpl::ReportHealth(
    grpc::CallbackServerContext* context, const v1::HealthReport* request,
    v1::ReportHealthResponse* response) {
  auto* reactor = context->DefaultReactor();
  auto error = HandleReportHealth(*context, *request, response);
  reactor->Finish(error ? Reply(context, *error) : grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* ReportingServiceImpl::ReportFallback(
    grpc::CallbackServerContext* context, const v1::FallbackReport* request,
    v1::ReportFallbackResponse* response) {
  auto* reactor = context->DefaultReactor();
  std::optional<ApiError> error;
  const auto snapshot = context_.state->Current();
  ValidFallbackReport report;
  if (snapshot == nullptr) {
    error = ApiError{grpc::StatusCode::UNAVAILABLE, "NOT_READY",
                     "the directory is not ready yet; retry shortly"};
  } else if (!fallback_limiter_.TryTake(context_.clock->Now())) {
    error = ApiError{grpc::StatusCode::RESOURCE_EXHAUSTED, "RATE_LIMITED",
                     "too many fallback reports right now; drop this one or retry later"};
  } else {
    error = ValidateFallbackReport(*request, *snapshot->topology, &report);
  }
  if (!error) {
    if (request->fallback()) {
      context_.metrics->RecordClientFallback(report.client_region,
                                             snapshot->topology->dc_region()[report.dc],
                                             report.cross_border);
    }
    response->set_cross_border(report.cross_border);
  }
  reactor->Finish(error ? Reply(context, *error) : grpc::Status::OK);
  return reactor;
}

}  // namespace dcdir::api

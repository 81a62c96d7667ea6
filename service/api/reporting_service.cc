#include "service/api/reporting_service.h"

#include <algorithm>
#include <mutex>
#include <optional>
#include <string>

#include "absl/hash/hash.h"
#include "service/geoip/client_address.h"
#include "service/geoip/geoip_database.h"

#include "service/api/mapping.h"
#include "service/api/reasons.h"
#include "service/api/validation.h"

namespace dcdir::api {

using metrics::HealthReportResult;

ReportingServiceImpl::ReportingServiceImpl(ServiceContext context,
                                           double fallback_reports_per_second,
                                           double health_reports_per_second_per_dc,
                                           double health_report_burst_per_dc,
                                           double fallback_reports_per_second_per_peer)
    : context_(context),
      fallback_limiter_(fallback_reports_per_second, fallback_reports_per_second),
      health_rate_(health_reports_per_second_per_dc),
      health_burst_(health_report_burst_per_dc < 1 ? 1 : health_report_burst_per_dc) {
  if (fallback_reports_per_second_per_peer > 0) {
    fallback_peer_limiter_ = std::make_unique<core::KeyedTokenBuckets>(
        fallback_reports_per_second_per_peer,
        std::max(1.0, 2 * fallback_reports_per_second_per_peer));
  }
}

bool ReportingServiceImpl::TakeFallbackToken(const grpc::CallbackServerContext& context,
                                             absl::Time now, bool* peer_limited) {
  *peer_limited = false;
  if (fallback_peer_limiter_ != nullptr) {
    const std::string peer = context.peer();
    std::optional<geoip::IpAddress> address;
    if (context_.locator != nullptr) {
      address = context_.locator->Address(peer, RequestHeader(context, "x-forwarded-for"),
                                          RequestHeader(context, "forwarded"));
    } else {
      address = geoip::ParsePeer(peer);
    }
    // Not an IP peer (unix socket, in-process): one shared bucket.
    const size_t key = address ? absl::HashOf(address->v6, address->bytes) : 0;
    if (!fallback_peer_limiter_->TryTake(key, now)) {
      *peer_limited = true;
      return false;
    }
  }
  return fallback_limiter_.TryTake(now);
}

bool ReportingServiceImpl::TakeHealthToken(const std::string& dc_id, absl::Time now) {
  if (health_rate_ <= 0) return true;
  core::TokenBucket* bucket;
  {
    std::lock_guard<std::mutex> lock(health_mu_);
    auto& slot = health_buckets_[dc_id];
    if (slot == nullptr) slot = std::make_unique<core::TokenBucket>(health_rate_, health_burst_);
    bucket = slot.get();  // buckets are never removed
  }
  return bucket->TryTake(now);
}

absl::StatusOr<ReportingServiceImpl::AdmittedReport> ReportingServiceImpl::AdmitHealthReport(
    const grpc::CallbackServerContext& context, const v1::HealthReport& request) {
  absl::StatusOr<Authenticator::Caller> caller = context_.auth->Authenticate(context);
  if (!caller.ok()) {
    context_.metrics->RecordHealthReport(HealthReportResult::kUnauthenticated);
    return caller.status();
  }
  const auto snapshot = context_.state->Current();
  if (snapshot == nullptr) {
    context_.metrics->RecordHealthReport(HealthReportResult::kNotReady);
    return NotReadyError();
  }
  absl::StatusOr<ValidHealthReport> report = ValidateHealthReport(request, *snapshot->topology);
  if (!report.ok()) {
    context_.metrics->RecordHealthReport(absl::IsNotFound(report.status())
                                             ? HealthReportResult::kUnknownDatacenter
                                             : HealthReportResult::kInvalid);
    return report.status();
  }
  AdmittedReport admitted{.dc_id = snapshot->topology->dc(report->dc).id, .report = *report};
  if (absl::Status e = Authenticator::CheckMayReport(*caller, admitted.dc_id); !e.ok()) {
    context_.metrics->RecordHealthReport(HealthReportResult::kUnauthenticated);
    return e;
  }
  if (!TakeHealthToken(admitted.dc_id, context_.clock->MonotonicNow())) {
    context_.metrics->RecordHealthReport(HealthReportResult::kRateLimited);
    return ApiError(absl::StatusCode::kResourceExhausted, reasons::kRateLimited,
                    "too many health reports for this data center; report less often");
  }
  return admitted;
}

absl::Status ReportingServiceImpl::WriteHealthReport(const AdmittedReport& admitted,
                                                     v1::ReportHealthResponse* response) {
  const ValidHealthReport& report = admitted.report;
  absl::Duration health_to_wall;
  auto record = context_.state->ReportHealth(admitted.dc_id, report.status, report.congestion,
                                             report.ttl, &health_to_wall);
  if (!record.ok()) {
    context_.metrics->RecordHealthReport(HealthReportResult::kStoreUnavailable);
    return record.status();
  }
  context_.metrics->RecordHealthReport(HealthReportResult::kAccepted);
  // The record's times are on the store's timeline; the client is shown wall-clock time,
  // converted with the offset of the same time reading as the record (not one taken after the
  // write, which a store stall may have moved).
  ToProto(record->expires_at + health_to_wall, response->mutable_expire_time());
  response->set_congested(record->congested);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* ReportingServiceImpl::ReportHealth(
    grpc::CallbackServerContext* context, const v1::HealthReport* request,
    v1::ReportHealthResponse* response) {
  auto* reactor = context->DefaultReactor();
  absl::StatusOr<AdmittedReport> admitted = AdmitHealthReport(*context, *request);
  if (!admitted.ok()) {
    reactor->Finish(Reply(context, admitted.status()));
    return reactor;
  }
  const bool queued = FinishOnStoreQueue(context_, context, reactor,
                                         [this, admitted = *std::move(admitted), response] {
                                           return WriteHealthReport(admitted, response);
                                         });
  if (!queued) context_.metrics->RecordHealthReport(HealthReportResult::kStoreUnavailable);
  return reactor;
}

grpc::ServerUnaryReactor* ReportingServiceImpl::ReportFallback(
    grpc::CallbackServerContext* context, const v1::FallbackReport* request,
    v1::ReportFallbackResponse* response) {
  auto* reactor = context->DefaultReactor();
  absl::StatusOr<ValidFallbackReport> report;
  const auto snapshot = context_.state->Current();
  if (snapshot == nullptr) {
    report = NotReadyError();
  } else if (bool peer_limited;
             !TakeFallbackToken(*context, context_.clock->MonotonicNow(), &peer_limited)) {
    report = ApiError(absl::StatusCode::kResourceExhausted, reasons::kRateLimited,
                      peer_limited ? "too many fallback reports from this address; drop this "
                                     "one (a client reports a fallback once, when it happens)"
                                   : "too many fallback reports right now; drop this one or "
                                     "retry later");
  } else {
    report = ValidateFallbackReport(*request, *snapshot->topology);
  }
  if (report.ok()) {
    if (request->fallback()) {
      context_.metrics->RecordClientFallback(*snapshot->topology, report->client_region,
                                             snapshot->topology->dc_region()[report->dc],
                                             report->cross_border);
    }
    response->set_cross_border(report->cross_border);
  }
  reactor->Finish(Reply(context, report.status()));
  return reactor;
}

}  // namespace dcdir::api

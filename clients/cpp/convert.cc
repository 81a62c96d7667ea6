#include "clients/cpp/convert.h"

#include <cstdint>

namespace dcdir::client {
namespace {

absl::Duration FromProto(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

HealthStatus FromProto(v1::HealthStatus status) {
  switch (status) {
    case v1::HEALTH_STATUS_UNSPECIFIED:
      return HealthStatus::kUnspecified;
    case v1::HEALTH_STATUS_HEALTHY:
      return HealthStatus::kHealthy;
    case v1::HEALTH_STATUS_DRAINING:
      return HealthStatus::kDraining;
    case v1::HEALTH_STATUS_DOWN:
      return HealthStatus::kDown;
    default:
      return HealthStatus::kUnknown;
  }
}

}  // namespace

v1::GetDirectoryRequest ToProto(const DirectoryRequest& request) {
  v1::GetDirectoryRequest out;
  out.set_client_country(request.client_country);
  out.set_tenant_id(request.tenant_id);
  out.set_client_id(request.client_id);
  out.set_max_secondaries(request.max_secondaries);
  if (request.client_location.has_value()) {
    out.mutable_client_location()->set_latitude(request.client_location->latitude);
    out.mutable_client_location()->set_longitude(request.client_location->longitude);
  }
  out.set_client_subdivision(request.client_subdivision);
  for (const ObservedRtt& o : request.observed_rtts) {
    v1::ObservedRtt* p = out.add_observed_rtts();
    p->set_datacenter_id(o.datacenter_id);
    const int64_t rtt_ns = absl::ToInt64Nanoseconds(o.rtt);
    p->mutable_rtt()->set_seconds(rtt_ns / 1'000'000'000);
    p->mutable_rtt()->set_nanos(static_cast<int32_t>(rtt_ns % 1'000'000'000));
    const int64_t age_ns = absl::ToInt64Nanoseconds(o.age);
    p->mutable_age()->set_seconds(age_ns / 1'000'000'000);
    p->mutable_age()->set_nanos(static_cast<int32_t>(age_ns % 1'000'000'000));
  }
  return out;
}

DataCenter FromProto(const v1::DataCenter& dc) {
  DataCenter out;
  out.id = dc.id();
  out.region = dc.region();
  out.country = dc.country();
  out.city = dc.city();
  out.endpoints.assign(dc.endpoints().begin(), dc.endpoints().end());
  out.status = FromProto(dc.status());
  out.congestion = dc.congestion();
  out.congested = dc.congested();
  out.cross_border = dc.cross_border();
  return out;
}

Directory FromProto(const v1::Directory& directory) {
  Directory out;
  out.client_region = directory.client_region();
  out.primaries.reserve(directory.primaries_size());
  for (const v1::DataCenter& dc : directory.primaries()) out.primaries.push_back(FromProto(dc));
  out.secondaries.reserve(directory.secondaries_size());
  for (const v1::DataCenter& dc : directory.secondaries()) {
    out.secondaries.push_back(FromProto(dc));
  }
  out.fallback_active = directory.fallback_active();
  out.secondary_attempts = directory.secondary_attempts();
  out.snapshot_version = directory.snapshot_version();
  out.stale = directory.stale();
  out.ttl = FromProto(directory.ttl());
  out.generated_at = absl::UnixEpoch() + absl::Seconds(directory.generated_at().seconds()) +
                     absl::Nanoseconds(directory.generated_at().nanos());
  out.config_version = directory.config_version();
  return out;
}

ReportFallbackResult FromProto(const v1::ReportFallbackResponse& response) {
  ReportFallbackResult out;
  out.cross_border = response.cross_border();
  return out;
}

}  // namespace dcdir::client

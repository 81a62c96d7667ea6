#include "service/api/mapping.h"

#include "absl/strings/str_cat.h"
#include "service/api/reasons.h"
#include "service/metrics/metrics.h"

namespace dcdir::api {

v1::HealthStatus ToProto(core::HealthStatus status) {
  switch (status) {
    case core::HealthStatus::kHealthy:
      return v1::HEALTH_STATUS_HEALTHY;
    case core::HealthStatus::kDraining:
      return v1::HEALTH_STATUS_DRAINING;
    case core::HealthStatus::kDown:
      return v1::HEALTH_STATUS_DOWN;
    case core::HealthStatus::kUnknown:
      break;
  }
  return v1::HEALTH_STATUS_UNKNOWN;
}

void ToProto(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t micros = absl::ToUnixMicros(t);
  out->set_seconds(micros / 1'000'000);
  out->set_nanos(static_cast<int32_t>(micros % 1'000'000) * 1000);
  if (out->nanos() < 0) {
    out->set_seconds(out->seconds() - 1);
    out->set_nanos(out->nanos() + 1'000'000'000);
  }
}

void ToProto(const core::TenantPolicy& policy, v1::TenantPolicy* out) {
  out->set_tenant_id(policy.tenant_id);
  out->set_home_region(policy.home_region);
  for (const std::string& r : policy.allowed_regions) out->add_allowed_regions(r);
  if (policy.updated_at != absl::InfinitePast()) ToProto(policy.updated_at, out->mutable_update_time());
}

v1::LocationSource ToProto(core::LocationSource source) {
  switch (source) {
    case core::LocationSource::kDeclared:
      return v1::LOCATION_SOURCE_DECLARED;
    case core::LocationSource::kSubdivision:
      return v1::LOCATION_SOURCE_SUBDIVISION;
    case core::LocationSource::kGeoIp:
      return v1::LOCATION_SOURCE_GEOIP;
    case core::LocationSource::kNone:
      break;
  }
  return v1::LOCATION_SOURCE_NONE;
}

v1::RttSource ToProto(core::RttSource source) {
  switch (source) {
    case core::RttSource::kObserved:
      return v1::RTT_SOURCE_OBSERVED;
    case core::RttSource::kDistance:
      return v1::RTT_SOURCE_DISTANCE;
    case core::RttSource::kNone:
      break;
  }
  return v1::RTT_SOURCE_NONE;
}

void ToProto(const core::CompiledTenant& tenant, v1::TenantPolicy* out) {
  ToProto(tenant.policy, out);
  for (const std::string& r : tenant.unknown_regions) out->add_unknown_regions(r);
}

void FillDataCenter(const core::Snapshot& snapshot, uint32_t dc, bool cross_border,
                    v1::DataCenter* out) {
  const core::DataCenter& config = snapshot.topology->dc(dc);
  const core::DcState& state = snapshot.dcs[dc];
  out->set_id(config.id);
  out->set_region(config.region);
  out->set_country(config.country);
  out->set_city(config.city);
  for (const std::string& e : config.endpoints) out->add_endpoints(e);
  out->set_status(ToProto(state.status));
  out->set_congestion(state.record.congestion);
  out->set_congested(state.congested);
  out->set_cross_border(cross_border);
  out->set_health_kept(state.health_kept);
}

void FillDirectory(const core::Snapshot& snapshot, const core::Answer& answer, absl::Time now,
                   v1::Directory* out) {
  const core::Topology& topology = *snapshot.topology;
  out->set_client_region(topology.region_config(answer.region).id);
  for (const core::Pick& p : answer.primaries) {
    FillDataCenter(snapshot, p.dc, p.cross_border, out->add_primaries());
  }
  for (const core::Pick& p : answer.secondaries) {
    FillDataCenter(snapshot, p.dc, p.cross_border, out->add_secondaries());
  }
  out->set_fallback_active(answer.fallback_active);
  out->set_secondary_attempts(answer.secondary_attempts);
  out->set_snapshot_version(snapshot.version);
  out->set_stale(snapshot.stale);
  const absl::Duration ttl = topology.world().thresholds.answer_ttl;
  out->mutable_ttl()->set_seconds(absl::ToInt64Seconds(ttl));
  ToProto(now, out->mutable_generated_at());
  out->set_config_version(topology.world().version);
  out->set_location_source(ToProto(answer.location_source));
}

absl::Status AnswerToError(const core::Snapshot& snapshot, const core::Answer& answer,
                           std::string_view country) {
  const std::string_view token = core::ReasonToken(answer.error);
  const absl::string_view reason(token.data(), token.size());
  const std::string where(country);
  switch (answer.error) {
    case core::AnswerError::kCountryNotMapped:
      return ApiError(absl::StatusCode::kNotFound, reason,
                      absl::StrCat("country ", where,
                                   " is not mapped to a region and the config has no "
                                   "default_region"));
    case core::AnswerError::kNoCompliantDatacenter:
      return ApiError(
          absl::StatusCode::kFailedPrecondition, reason,
          absl::StrCat("no data center of the topology is allowed for clients in ", where,
                       " under the deny rules and the tenant's routing control; "
                       "ExplainDirectory shows which rule excludes each one"));
    case core::AnswerError::kNoHealthyCompliantDatacenter:
      return ApiError(absl::StatusCode::kUnavailable, reason,
                      absl::StrCat("no compliant data center is healthy for clients in ", where,
                                   " right now; retry later (forbidden data centers are never "
                                   "offered)"));
    case core::AnswerError::kNone:
      break;
  }
  return ApiError(absl::StatusCode::kInternal, reasons::kInternal, "unexpected answer state");
}

namespace {

v1::VerdictReason ToProto(core::VerdictReason r) {
  switch (r) {
    case core::VerdictReason::kCandidate:
      return v1::VERDICT_REASON_CANDIDATE;
    case core::VerdictReason::kTopUp:
      return v1::VERDICT_REASON_TOP_UP;
    case core::VerdictReason::kCongested:
      return v1::VERDICT_REASON_CONGESTED;
    case core::VerdictReason::kDenyRule:
      return v1::VERDICT_REASON_DENY_RULE;
    case core::VerdictReason::kTenantControl:
      return v1::VERDICT_REASON_TENANT_CONTROL;
    case core::VerdictReason::kStatus:
      return v1::VERDICT_REASON_STATUS;
    case core::VerdictReason::kExpired:
      return v1::VERDICT_REASON_EXPIRED;
    case core::VerdictReason::kNotACandidate:
      return v1::VERDICT_REASON_NOT_A_CANDIDATE;
    case core::VerdictReason::kCutByMaxSecondaries:
      return v1::VERDICT_REASON_CUT_BY_MAX_SECONDARIES;
    case core::VerdictReason::kHealthKept:
      return v1::VERDICT_REASON_HEALTH_KEPT;
  }
  return v1::VERDICT_REASON_UNSPECIFIED;
}

std::string Detail(const core::Snapshot& snapshot, const core::DcVerdict& v,
                   const core::TenantPolicy* tenant, absl::Duration to_wall) {
  const core::World& world = snapshot.topology->world();
  switch (v.reason) {
    case core::VerdictReason::kCandidate:
      return v.kind == core::VerdictKind::kPrimary ? "usable primary of the client's region"
                                                   : "usable configured secondary";
    case core::VerdictReason::kTopUp:
      return "added to reach the minimum number of secondaries (nearest allowed usable DC)";
    case core::VerdictReason::kCongested:
      return "offered, but congested: ranked after non-congested DCs";
    case core::VerdictReason::kDenyRule:
      return absl::StrCat("denied by rule ",
                          v.rule_index >= 0 ? world.deny_rules[v.rule_index].name : "?");
    case core::VerdictReason::kTenantControl:
      return absl::StrCat("outside the routing control of tenant ",
                          tenant != nullptr ? tenant->tenant_id : "?");
    case core::VerdictReason::kStatus:
      return absl::StrCat("reported ", v1::HealthStatus_Name(api::ToProto(snapshot.dcs[v.dc].status)));
    case core::VerdictReason::kExpired:
      return snapshot.dcs[v.dc].record.reported_at == absl::InfinitePast()
                 ? "never reported"
                 : "last health report expired";
    case core::VerdictReason::kNotACandidate:
      return "allowed and usable, but not a candidate of the region and not needed";
    case core::VerdictReason::kCutByMaxSecondaries:
      return "cut by the request's max_secondaries";
    case core::VerdictReason::kHealthKept: {
      const core::DcState& st = snapshot.dcs[v.dc];
      return absl::StrCat(
          "health kept by self-preservation: last reported ",
          v1::HealthStatus_Name(api::ToProto(st.status)), ", report expired at ",
          absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", st.record.expires_at + to_wall,
                           absl::UTCTimeZone()),
          v.kind == core::VerdictKind::kExcluded ? "; not offered" : "; offered on that health");
    }
  }
  return "";
}

v1::Verdict ToProto(core::VerdictKind k) {
  switch (k) {
    case core::VerdictKind::kPrimary:
      return v1::VERDICT_PRIMARY;
    case core::VerdictKind::kSecondary:
      return v1::VERDICT_SECONDARY;
    case core::VerdictKind::kExcluded:
      return v1::VERDICT_EXCLUDED;
  }
  return v1::VERDICT_UNSPECIFIED;
}

}  // namespace

void FillExplanation(const core::Snapshot& snapshot, const core::Explanation& explanation,
                     std::string_view country, absl::Time now, absl::Duration to_wall,
                     v1::DirectoryExplanation* out) {
  const core::Topology& topology = *snapshot.topology;
  const core::Answer& answer = explanation.answer;
  if (answer.region != core::kNoIndex) {
    out->set_client_region(topology.region_config(answer.region).id);
  }
  for (const core::DcVerdict& v : explanation.verdicts) {
    v1::DataCenterVerdict* dv = out->add_datacenters();
    FillDataCenter(snapshot, v.dc, v.cross_border, dv->mutable_datacenter());
    dv->set_verdict(ToProto(v.kind));
    dv->set_reason(ToProto(v.reason));
    if (v.reason == core::VerdictReason::kDenyRule && v.rule_index >= 0) {
      dv->set_rule(topology.world().deny_rules[v.rule_index].name);
    }
    dv->set_detail(Detail(snapshot, v, explanation.tenant, to_wall));
    dv->set_rank(v.rank);
    const core::HealthRecord& record = snapshot.dcs[v.dc].record;
    if (record.reported_at != absl::InfinitePast() && record.expires_at != absl::InfiniteFuture()) {
      ToProto(record.expires_at + to_wall, dv->mutable_expire_time());
    }
    dv->set_rtt_source(ToProto(v.rtt_source));
    if (v.rtt_source != core::RttSource::kNone) {
      const int64_t micros = static_cast<int64_t>(v.estimated_rtt_ms * 1000 + 0.5);
      dv->mutable_estimated_rtt()->set_seconds(micros / 1'000'000);
      dv->mutable_estimated_rtt()->set_nanos(static_cast<int32_t>(micros % 1'000'000) * 1000);
    }
    dv->set_in_latency_band(v.in_latency_band);
    dv->set_spilled(v.spilled);
  }
  out->set_location_source(ToProto(answer.location_source));
  if (answer.location_source != core::LocationSource::kNone) {
    out->mutable_client_location()->set_latitude(answer.location.lat);
    out->mutable_client_location()->set_longitude(answer.location.lon);
  }
  if (answer.error == core::AnswerError::kNone) {
    out->set_outcome("OK");
    FillDirectory(snapshot, answer, now, out->mutable_directory());
  } else {
    const absl::Status e = AnswerToError(snapshot, answer, country);
    out->set_outcome(metrics::CodeName(static_cast<int>(e.code())));
    out->set_outcome_reason(ReasonOf(e));
  }
  out->set_snapshot_version(snapshot.version);
  out->set_config_version(topology.world().version);
  if (explanation.tenant != nullptr) api::ToProto(*explanation.tenant, out->mutable_tenant_policy());
}

}  // namespace dcdir::api

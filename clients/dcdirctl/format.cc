#include "clients/dcdirctl/format.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "clients/cli/table.h"
#include "google/protobuf/util/json_util.h"

namespace dcdir::ctl {
namespace {

std::string Congestion(double c) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", c);
  return buf;
}

std::string YesNo(bool b) { return b ? "yes" : "no"; }

std::string Notes(const v1::DataCenter& dc) {
  std::vector<std::string> notes;
  if (dc.congested()) notes.push_back("congested");
  if (dc.cross_border()) notes.push_back("cross-border");
  return absl::StrJoin(notes, ",");
}

std::string VersionLine(uint64_t snapshot, const std::string& config, bool stale) {
  std::string line = absl::StrCat("snapshot ", snapshot, ", config ", config);
  if (stale) absl::StrAppend(&line, ", STALE (the shared store is unreachable)");
  return line + "\n";
}

std::string ReasonName(v1::VerdictReason reason) {
  return absl::AsciiStrToLower(
      absl::StripPrefix(v1::VerdictReason_Name(reason), "VERDICT_REASON_"));
}

std::string VerdictName(v1::Verdict verdict) {
  return absl::AsciiStrToLower(absl::StripPrefix(v1::Verdict_Name(verdict), "VERDICT_"));
}

absl::Duration FromProto(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

std::string SourceName(v1::LocationSource source) {
  return absl::AsciiStrToLower(
      absl::StripPrefix(v1::LocationSource_Name(source), "LOCATION_SOURCE_"));
}

// "27.1 ms distance", "12.0 ms observed", "-".
std::string Rtt(const v1::DataCenterVerdict& v) {
  if (v.rtt_source() == v1::RTT_SOURCE_NONE) return "-";
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%.1f ms %s",
                absl::ToDoubleMilliseconds(FromProto(v.estimated_rtt())),
                v.rtt_source() == v1::RTT_SOURCE_OBSERVED ? "observed" : "distance");
  return buf;
}

std::string Ranking(const v1::DataCenterVerdict& v) {
  std::vector<std::string> notes;
  if (v.in_latency_band()) notes.push_back("band");
  if (v.spilled()) notes.push_back("spilled");
  return notes.empty() ? "-" : absl::StrJoin(notes, ",");
}

}  // namespace

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out + "\n";
}

std::string FormatTimestamp(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return "-";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(ts.seconds()),
                          absl::UTCTimeZone());
}

std::string StatusName(v1::HealthStatus status) {
  return std::string(absl::StripPrefix(v1::HealthStatus_Name(status), "HEALTH_STATUS_"));
}

std::string FormatDirectory(const v1::Directory& d) {
  std::string out = absl::StrCat(
      "client region ", d.client_region(), ": ", d.primaries_size(),
      d.primaries_size() == 1 ? " primary, " : " primaries, ", d.secondaries_size(),
      d.secondaries_size() == 1 ? " secondary (try " : " secondaries (try ", d.secondary_attempts(), "), fallback ",
      d.fallback_active() ? "ACTIVE" : "inactive", ", ttl ", absl::FormatDuration(FromProto(d.ttl())),
      "\n");
  if (d.location_source() != v1::LOCATION_SOURCE_NONE || !d.client_country().empty()) {
    out += absl::StrCat("ranked by the client's location (", SourceName(d.location_source()), ")");
    if (!d.client_country().empty()) absl::StrAppend(&out, ", country ", d.client_country(), " (not declared)");
    out += "\n";
  }
  out += VersionLine(d.snapshot_version(), d.config_version(), d.stale());
  cli::Table table({"KIND", "TRY", "DC", "REGION", "COUNTRY", "CITY", "STATUS", "CONGESTION",
                    "NOTES"});
  int attempt = 0;
  for (const v1::DataCenter& dc : d.primaries()) {
    table.AddRow({"primary", absl::StrCat(++attempt), dc.id(), dc.region(), dc.country(),
                  dc.city(), StatusName(dc.status()), Congestion(dc.congestion()), Notes(dc)});
  }
  uint32_t secondaries = 0;
  for (const v1::DataCenter& dc : d.secondaries()) {
    const bool tried = secondaries++ < d.secondary_attempts();
    table.AddRow({"secondary", tried ? absl::StrCat(++attempt) : "-", dc.id(), dc.region(),
                  dc.country(), dc.city(), StatusName(dc.status()), Congestion(dc.congestion()),
                  Notes(dc)});
  }
  return out + table.Render();
}

std::string FormatExplanation(const v1::DirectoryExplanation& e) {
  std::string out = absl::StrCat("client region ", e.client_region(), ": outcome ", e.outcome());
  if (!e.outcome_reason().empty()) absl::StrAppend(&out, " (", e.outcome_reason(), ")");
  out += "\n";
  if (e.has_tenant_policy()) {
    absl::StrAppend(&out, "tenant ", e.tenant_policy().tenant_id(), ": home region ",
                    e.tenant_policy().home_region(), ", allowed regions ",
                    e.tenant_policy().allowed_regions().empty()
                        ? "-"
                        : absl::StrJoin(e.tenant_policy().allowed_regions(), ","),
                    "\n");
  }
  if (e.location_source() != v1::LOCATION_SOURCE_NONE) {
    char where[64];
    std::snprintf(where, sizeof(where), "%.2f,%.2f", e.client_location().latitude(),
                  e.client_location().longitude());
    absl::StrAppend(&out, "client ", e.client_country(),
                    e.client_subdivision().empty() ? "" : absl::StrCat(" ", e.client_subdivision()),
                    " at ", where, " (", SourceName(e.location_source()), ")\n");
  }
  out += VersionLine(e.snapshot_version(), e.config_version(),
                     e.has_directory() && e.directory().stale());
  const bool estimates = std::any_of(e.datacenters().begin(), e.datacenters().end(),
                                     [](const v1::DataCenterVerdict& v) {
                                       return v.rtt_source() != v1::RTT_SOURCE_NONE;
                                     });
  if (estimates) {
    cli::Table table({"DC", "REGION", "COUNTRY", "STATUS", "VERDICT", "RANK", "EST RTT", "RANKING",
                      "REASON", "DETAIL"});
    for (const v1::DataCenterVerdict& v : e.datacenters()) {
      std::string reason = ReasonName(v.reason());
      if (!v.rule().empty()) absl::StrAppend(&reason, ":", v.rule());
      table.AddRow({v.datacenter().id(), v.datacenter().region(), v.datacenter().country(),
                    StatusName(v.datacenter().status()), VerdictName(v.verdict()),
                    v.rank() > 0 ? absl::StrCat(v.rank()) : "-", Rtt(v), Ranking(v), reason,
                    v.detail()});
    }
    return out + table.Render();
  }
  cli::Table table({"DC", "REGION", "COUNTRY", "STATUS", "VERDICT", "RANK", "REASON", "DETAIL"});
  for (const v1::DataCenterVerdict& v : e.datacenters()) {
    std::string reason = ReasonName(v.reason());
    if (!v.rule().empty()) absl::StrAppend(&reason, ":", v.rule());
    table.AddRow({v.datacenter().id(), v.datacenter().region(), v.datacenter().country(),
                  StatusName(v.datacenter().status()), VerdictName(v.verdict()),
                  v.rank() > 0 ? absl::StrCat(v.rank()) : "-", reason, v.detail()});
  }
  return out + table.Render();
}

std::string FormatHealthReport(const v1::HealthReport& request,
                               const v1::ReportHealthResponse& response) {
  const absl::Duration ttl = FromProto(request.ttl());
  return absl::StrCat("reported ", request.datacenter_id(), " ", StatusName(request.status()),
                      ", congestion ", Congestion(request.congestion()), ", ttl ",
                      ttl == absl::ZeroDuration() ? "server default" : absl::FormatDuration(ttl),
                      ": congested ", YesNo(response.congested()), ", expires ",
                      FormatTimestamp(response.expire_time()), "\n");
}

std::string FormatTenantPolicy(const v1::TenantPolicy& p) {
  std::string out = absl::StrCat(
      "tenant ", p.tenant_id(), ": home region ", p.home_region(), ", allowed regions ",
      p.allowed_regions().empty() ? "-" : absl::StrJoin(p.allowed_regions(), ","), ", updated ",
      FormatTimestamp(p.update_time()), "\n");
  for (const std::string& region : p.unknown_regions()) {
    if (region == p.home_region()) {
      absl::StrAppend(&out, "warning: home region ", region,
                      " no longer exists in the served config: this tenant's clients are "
                      "refused every DC (fail closed) until the policy is changed\n");
    } else {
      absl::StrAppend(&out, "warning: allowed region ", region,
                      " no longer exists in the served config: ignored\n");
    }
  }
  return out;
}

std::string FormatTenantPolicies(const std::vector<v1::TenantPolicy>& policies) {
  std::string out = absl::StrCat(policies.size(),
                                 policies.size() == 1 ? " tenant policy\n" : " tenant policies\n");
  if (policies.empty()) return out;
  cli::Table table({"TENANT", "HOME", "ALLOWED", "UNKNOWN", "UPDATED"});
  for (const v1::TenantPolicy& p : policies) {
    table.AddRow({p.tenant_id(), p.home_region(),
                  p.allowed_regions().empty() ? "-" : absl::StrJoin(p.allowed_regions(), ","),
                  p.unknown_regions().empty() ? "-" : absl::StrJoin(p.unknown_regions(), ","),
                  FormatTimestamp(p.update_time())});
  }
  return out + table.Render();
}

std::string TenantPoliciesJson(const std::vector<v1::TenantPolicy>& policies) {
  std::string out = "{\"tenants\":[";
  for (size_t i = 0; i < policies.size(); ++i) {
    std::string one = ToJson(policies[i]);
    one.pop_back();  // ToJson's '\n'
    absl::StrAppend(&out, i == 0 ? "" : ",", one);
  }
  return out + "]}\n";
}

std::string FormatDataCenters(const v1::ListDataCentersResponse& r) {
  std::string out = VersionLine(r.snapshot_version(), r.config_version(), r.stale());
  cli::Table table({"DC", "REGION", "COUNTRY", "CITY", "STATUS", "CONGESTION", "CONGESTED",
                    "CAPACITY", "EXPIRES"});
  for (const v1::DataCenterState& s : r.datacenters()) {
    const v1::DataCenter& dc = s.datacenter();
    table.AddRow({dc.id(), dc.region(), dc.country(), dc.city(), StatusName(dc.status()),
                  Congestion(dc.congestion()), YesNo(dc.congested()),
                  absl::StrCat(s.capacity_sessions()), FormatTimestamp(s.expire_time())});
  }
  return out + table.Render();
}

}  // namespace dcdir::ctl

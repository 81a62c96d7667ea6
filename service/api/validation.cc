#include "service/api/validation.h"

#include <cmath>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "service/api/reasons.h"

namespace dcdir::api {
namespace {

absl::Status Invalid(absl::string_view reason, absl::string_view message) {
  return ApiError(absl::StatusCode::kInvalidArgument, reason, message);
}

// Quotes user text for an error message, cut to a readable length.
std::string Quote(std::string_view text) {
  constexpr size_t kMax = 40;
  const std::string_view head = text.substr(0, kMax);
  std::string out = absl::CEscape(absl::string_view(head.data(), head.size()));
  if (text.size() > kMax) out += "...";
  return absl::StrCat("\"", out, "\"");
}

bool IsIdChar(char c) { return absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '-'; }

}  // namespace

absl::StatusOr<std::string> ValidateCountry(std::string_view country) {
  if (country.size() != 2 || !absl::ascii_isalpha(country[0]) ||
      !absl::ascii_isalpha(country[1])) {
    return Invalid(reasons::kInvalidCountry,
                   absl::StrCat("client_country must be an ISO 3166-1 alpha-2 code of two letters "
                                "such as \"US\"; got ",
                                Quote(country)));
  }
  return std::string({absl::ascii_toupper(country[0]), absl::ascii_toupper(country[1])});
}

absl::Status ValidateTenantId(std::string_view tenant_id, bool required) {
  if (tenant_id.empty()) {
    if (!required) return absl::OkStatus();
    return Invalid(reasons::kInvalidTenantId, "tenant_id is required");
  }
  if (core::IsValidTenantId(absl::string_view(tenant_id.data(), tenant_id.size()))) {
    return absl::OkStatus();
  }
  if (tenant_id.size() > kMaxTenantIdBytes) {
    return Invalid(reasons::kInvalidTenantId,
                   absl::StrCat("tenant_id is ", tenant_id.size(), " bytes; at most ",
                                kMaxTenantIdBytes, " are allowed"));
  }
  return Invalid(reasons::kInvalidTenantId,
                 absl::StrCat("tenant_id may only contain letters, digits, '.', '_' and '-'; got ",
                              Quote(tenant_id)));
}

namespace {

absl::Duration FromProto(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

bool ValidDuration(const google::protobuf::Duration& d) {
  return d.nanos() > -1'000'000'000 && d.nanos() < 1'000'000'000 &&
         !(d.seconds() > 0 && d.nanos() < 0) && !(d.seconds() < 0 && d.nanos() > 0);
}

absl::Status InvalidRtts(absl::string_view message) {
  return Invalid(reasons::kInvalidObservedRtts, message);
}

}  // namespace

absl::Status MissingCountryError(bool geoip_configured) {
  return Invalid(reasons::kInvalidCountry,
                 geoip_configured
                     ? "client_country is required (an ISO 3166-1 alpha-2 code such as \"US\"): "
                       "neither client_subdivision nor the server's GeoIP database tells the "
                       "country of this client"
                     : "client_country must be an ISO 3166-1 alpha-2 code of two letters such as "
                       "\"US\"; got \"\"");
}

absl::StatusOr<DirectoryRequestFields> ValidateDirectoryRequest(
    const v1::GetDirectoryRequest& request) {
  DirectoryRequestFields fields;
  DirectoryRequestFields* const out = &fields;
  if (!request.client_country().empty()) {
    absl::StatusOr<std::string> country = ValidateCountry(request.client_country());
    if (!country.ok()) return country.status();
    out->country = *std::move(country);
  }
  if (const std::string& sub = request.client_subdivision(); !sub.empty()) {
    const std::string upper = absl::AsciiStrToUpper(sub.substr(0, 8));
    if (sub.size() > 6 || !core::IsSubdivisionCode(upper)) {
      return Invalid(reasons::kInvalidSubdivision,
                     absl::StrCat("client_subdivision must be an ISO 3166-2 code: two letters, "
                                  "'-', 1 to 3 letters or digits, such as \"US-WA\"; got ",
                                  Quote(sub)));
    }
    if (!out->country.empty() && upper.substr(0, 2) != out->country) {
      return Invalid(reasons::kInvalidSubdivision,
                     absl::StrCat("client_subdivision ", upper, " is not in client_country ",
                                  out->country, " (its first two letters must be the country)"));
    }
    out->subdivision = upper;
    if (out->country.empty()) out->country = upper.substr(0, 2);
  }
  if (request.has_client_location()) {
    const double lat = request.client_location().latitude();
    const double lon = request.client_location().longitude();
    if (!(lat >= -90 && lat <= 90) || !(lon >= -180 && lon <= 180)) {
      return Invalid(reasons::kInvalidLocation,
                     absl::StrCat("client_location must have latitude in [-90, 90] and longitude "
                                  "in [-180, 180] degrees; got (", lat, ", ", lon, ")"));
    }
    out->location = core::GeoPoint{lat, lon};
  }
  if (request.observed_rtts_size() > static_cast<int>(kMaxObservedRtts)) {
    return InvalidRtts(absl::StrCat("observed_rtts has ", request.observed_rtts_size(),
                                    " entries; at most ", kMaxObservedRtts, " are allowed"));
  }
  out->observed_rtts.reserve(request.observed_rtts_size());  // one allocation, none for zero
  for (int k = 0; k < request.observed_rtts_size(); ++k) {
    const v1::ObservedRtt& o = request.observed_rtts(k);
    const std::string& id = o.datacenter_id();
    bool id_ok = !id.empty() && id.size() <= kMaxDatacenterIdBytes;
    for (char c : id) id_ok = id_ok && IsIdChar(c);
    if (!id_ok) {
      return InvalidRtts(absl::StrCat("observed_rtts[", k, "].datacenter_id must be 1-",
                                      kMaxDatacenterIdBytes,
                                      " of [A-Za-z0-9._-]; got ", Quote(id)));
    }
    for (int j = 0; j < k; ++j) {
      if (request.observed_rtts(j).datacenter_id() == id) {
        return InvalidRtts(absl::StrCat("observed_rtts[", k, "].datacenter_id ", Quote(id),
                                        " repeats observed_rtts[", j, "]; one entry per DC"));
      }
    }
    if (!ValidDuration(o.rtt()) || !ValidDuration(o.age())) {
      return InvalidRtts(absl::StrCat("observed_rtts[", k,
                                      "]: rtt and age must be valid google.protobuf.Durations"));
    }
    const absl::Duration rtt = FromProto(o.rtt());
    const absl::Duration age = FromProto(o.age());
    if (rtt <= absl::ZeroDuration() || rtt > kMaxObservedRtt) {
      return InvalidRtts(absl::StrCat("observed_rtts[", k, "].rtt must be in (0, ",
                                      absl::FormatDuration(kMaxObservedRtt), "]; got ",
                                      absl::FormatDuration(rtt)));
    }
    if (age < absl::ZeroDuration()) {
      return InvalidRtts(absl::StrCat("observed_rtts[", k, "].age must be >= 0; got ",
                                      absl::FormatDuration(age)));
    }
    out->observed_rtts.push_back({id, rtt, age});
  }
  if (absl::Status e = ValidateTenantId(request.tenant_id(), /*required=*/false); !e.ok()) {
    return e;
  }
  if (request.client_id().size() > kMaxClientIdBytes) {
    return Invalid(reasons::kInvalidClientId,
                   absl::StrCat("client_id is ", request.client_id().size(), " bytes; at most ",
                                kMaxClientIdBytes, " are allowed"));
  }
  if (request.max_secondaries() > kMaxSecondaries) {
    return Invalid(reasons::kInvalidMaxSecondaries,
                   absl::StrCat("max_secondaries is ", request.max_secondaries(), "; at most ",
                                kMaxSecondaries, " (0 means no cap)"));
  }
  return fields;
}

absl::StatusOr<std::string> ValidateDirectoryRequestCountry(
    const v1::GetDirectoryRequest& request) {
  absl::StatusOr<DirectoryRequestFields> fields = ValidateDirectoryRequest(request);
  if (!fields.ok()) return fields.status();
  if (fields->country.empty()) return MissingCountryError(false);
  return std::move(fields->country);
}

namespace {

// The DC's index in `topology`.
absl::StatusOr<uint32_t> ValidateDatacenterId(std::string_view id, const core::Topology& topology) {
  if (id.empty()) return Invalid(reasons::kInvalidDatacenterId, "datacenter_id is required");
  if (id.size() > kMaxDatacenterIdBytes) {
    return Invalid(reasons::kInvalidDatacenterId,
                   absl::StrCat("datacenter_id is ", id.size(), " bytes; at most ",
                                kMaxDatacenterIdBytes, " are allowed"));
  }
  const uint32_t index = topology.DcIndex(id);
  if (index == core::kNoIndex) {
    return ApiError(absl::StatusCode::kNotFound, reasons::kUnknownDatacenter,
                    absl::StrCat("datacenter ", Quote(id),
                                 " is not in the topology; ListDataCenters shows the known ids"));
  }
  return index;
}

}  // namespace

absl::StatusOr<ValidHealthReport> ValidateHealthReport(const v1::HealthReport& report,
                                                       const core::Topology& topology) {
  ValidHealthReport valid;
  ValidHealthReport* const out = &valid;
  switch (report.status()) {
    case v1::HEALTH_STATUS_HEALTHY:
      out->status = core::HealthStatus::kHealthy;
      break;
    case v1::HEALTH_STATUS_DRAINING:
      out->status = core::HealthStatus::kDraining;
      break;
    case v1::HEALTH_STATUS_DOWN:
      out->status = core::HealthStatus::kDown;
      break;
    default:
      return Invalid(reasons::kInvalidStatus,
                     "status must be HEALTH_STATUS_HEALTHY, HEALTH_STATUS_DRAINING or "
                     "HEALTH_STATUS_DOWN (UNSPECIFIED and UNKNOWN cannot be reported)");
  }
  const double c = report.congestion();
  if (std::isnan(c) || c < 0 || c > 1) {
    return Invalid(reasons::kInvalidCongestion,
                   absl::StrCat("congestion must be a number in [0, 1]; got ", c));
  }
  out->congestion = c;
  const auto& ttl = report.ttl();
  if (ttl.nanos() <= -1'000'000'000 || ttl.nanos() >= 1'000'000'000 ||
      (ttl.seconds() > 0 && ttl.nanos() < 0) || (ttl.seconds() < 0 && ttl.nanos() > 0)) {
    return Invalid(reasons::kInvalidTtl, "ttl is not a valid google.protobuf.Duration");
  }
  const absl::Duration d = absl::Seconds(ttl.seconds()) + absl::Nanoseconds(ttl.nanos());
  const absl::Duration max = topology.world().thresholds.max_health_ttl;
  if (d < absl::ZeroDuration() || d > max) {
    return Invalid(reasons::kInvalidTtl,
                   absl::StrCat("ttl must be between 0 (server default) and ",
                                absl::FormatDuration(max), "; got ", absl::FormatDuration(d)));
  }
  out->ttl = d;
  absl::StatusOr<uint32_t> dc = ValidateDatacenterId(report.datacenter_id(), topology);
  if (!dc.ok()) return dc.status();
  out->dc = *dc;
  return valid;
}

absl::StatusOr<ValidFallbackReport> ValidateFallbackReport(const v1::FallbackReport& report,
                                                           const core::Topology& topology) {
  absl::StatusOr<std::string> valid_country = ValidateCountry(report.client_country());
  if (!valid_country.ok()) return valid_country.status();
  const std::string& country = *valid_country;
  if (absl::Status e = ValidateTenantId(report.tenant_id(), /*required=*/false); !e.ok()) {
    return e;
  }
  if (report.attempts() > kMaxAttempts) {
    return Invalid(reasons::kInvalidAttempts,
                   absl::StrCat("attempts is ", report.attempts(), "; at most ", kMaxAttempts));
  }
  absl::StatusOr<uint32_t> dc = ValidateDatacenterId(report.datacenter_id(), topology);
  if (!dc.ok()) return dc.status();
  ValidFallbackReport out;
  out.dc = *dc;
  out.client_region = topology.HomeRegion(country);
  if (out.client_region == core::kNoIndex) {
    return ApiError(absl::StatusCode::kNotFound, reasons::kCountryNotMapped,
                    absl::StrCat("country ", country,
                                 " is not mapped to a region and there is no default region"));
  }
  out.cross_border = topology.dc(out.dc).country != country;
  return out;
}

absl::StatusOr<core::TenantPolicy> ValidateTenantPolicy(const v1::TenantPolicy& policy,
                                                        const core::Topology& topology) {
  if (absl::Status e = ValidateTenantId(policy.tenant_id(), /*required=*/true); !e.ok()) {
    return e;
  }
  auto known = [&](const std::string& region) {
    return topology.RegionIndex(region) != core::kNoIndex;
  };
  auto known_list = [&] {
    std::vector<std::string> ids;
    for (size_t r = 0; r < topology.region_count(); ++r) ids.push_back(topology.region_config(r).id);
    return absl::StrJoin(ids, ", ");
  };
  if (policy.home_region().empty() || !known(policy.home_region())) {
    return Invalid(reasons::kUnknownRegion,
                   absl::StrCat("home_region ", Quote(policy.home_region()),
                                " is not a region of the config (known: ", known_list(), ")"));
  }
  if (policy.allowed_regions_size() > static_cast<int>(topology.region_count())) {
    return Invalid(reasons::kInvalidAllowedRegions,
                   absl::StrCat("allowed_regions has ", policy.allowed_regions_size(),
                                " entries; the config has only ", topology.region_count(),
                                " regions"));
  }
  core::TenantPolicy valid;
  core::TenantPolicy* const out = &valid;
  out->tenant_id = policy.tenant_id();
  out->home_region = policy.home_region();
  for (const std::string& region : policy.allowed_regions()) {
    if (!known(region)) {
      return Invalid(reasons::kUnknownRegion,
                     absl::StrCat("allowed region ", Quote(region),
                                  " is not a region of the config (known: ", known_list(), ")"));
    }
    if (std::find(out->allowed_regions.begin(), out->allowed_regions.end(), region) ==
        out->allowed_regions.end()) {
      out->allowed_regions.push_back(region);
    }
  }
  return valid;
}

}  // namespace dcdir::api

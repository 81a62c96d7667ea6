#include "service/api/validation.h"

#include <cmath>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace dcdir::api {
namespace {

ApiError Invalid(std::string reason, std::string message) {
  return {grpc::StatusCode::INVALID_ARGUMENT, std::move(reason), std::move(message)};
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

std::optional<ApiError> ValidateCountry(std::string_view country, std::string* normalized) {
  if (country.size() != 2 || !absl::ascii_isalpha(country[0]) ||
      !absl::ascii_isalpha(country[1])) {
    return Invalid("INVALID_COUNTRY",
                   absl::StrCat("client_country must be an ISO 3166-1 alpha-2 code of two letters "
                                "such as \"US\"; got ",
                                Quote(country)));
  }
  normalized->assign({absl::ascii_toupper(country[0]), absl::ascii_toupper(country[1])});
  return std::nullopt;
}

std::optional<ApiError> ValidateTenantId(std::string_view tenant_id, bool required) {
  if (tenant_id.empty()) {
    if (!required) return std::nullopt;
    return Invalid("INVALID_TENANT_ID", "tenant_id is required");
  }
  if (tenant_id.size() > kMaxTenantIdBytes) {
    return Invalid("INVALID_TENANT_ID", absl::StrCat("tenant_id is ", tenant_id.size(),
                                                     " bytes; at most ", kMaxTenantIdBytes,
                                                     " are allowed"));
  }
  for (char c : tenant_id) {
    if (!IsIdChar(c)) {
      return Invalid("INVALID_TENANT_ID",
                     absl::StrCat("tenant_id may only contain letters, digits, '.', '_' and '-'; "
                                  "got ",
                                  Quote(tenant_id)));
    }
  }
  return std::nullopt;
}

std::optional<ApiError> ValidateDirectoryRequest(const v1::GetDirectoryRequest& request,
                                                 std::string* country) {
  if (auto e = ValidateCountry(request.client_country(), country)) return e;
  if (auto e = ValidateTenantId(request.tenant_id(), /*required=*/false)) return e;
  if (request.client_id().size() > kMaxClientIdBytes) {
    return Invalid("INVALID_CLIENT_ID", absl::StrCat("client_id is ", request.client_id().size(),
                                                     " bytes; at most ", kMaxClientIdBytes,
                                                     " are allowed"));
  }
  if (request.max_secondaries() > kMaxSecondaries) {
    return Invalid("INVALID_MAX_SECONDARIES",
                   absl::StrCat("max_secondaries is ", request.max_secondaries(), "; at most ",
                                kMaxSecondaries, " (0 means no cap)"));
  }
  return std::nullopt;
}

namespace {

std::optional<ApiError> ValidateDatacenterId(std::string_view id, const core::Topology& topology,
                                             uint32_t* index) {
  if (id.empty()) return Invalid("INVALID_DATACENTER_ID", "datacenter_id is required");
  if (id.size() > kMaxDatacenterIdBytes) {
    return Invalid("INVALID_DATACENTER_ID",
                   absl::StrCat("datacenter_id is ", id.size(), " bytes; at most ",
                                kMaxDatacenterIdBytes, " are allowed"));
  }
  *index = topology.DcIndex(id);
  if (*index == core::kNoIndex) {
    return ApiError{grpc::StatusCode::NOT_FOUND, "UNKNOWN_DATACENTER",
                    absl::StrCat("datacenter ", Quote(id),
                                 " is not in the topology; ListDataCenters shows the known ids")};
  }
  return std::nullopt;
}

}  // namespace

std::optional<ApiError> ValidateHealthReport(const v1::HealthReport& report,
                                             const core::Topology& topology,
                                             ValidHealthReport* out) {
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
      return Invalid("INVALID_STATUS",
                     "status must be HEALTH_STATUS_HEALTHY, HEALTH_STATUS_DRAINING or "
                     "HEALTH_STATUS_DOWN (UNSPECIFIED and UNKNOWN cannot be reported)");
  }
  const double c = report.congestion();
  if (std::isnan(c) || c < 0 || c > 1) {
    return Invalid("INVALID_CONGESTION",
                   absl::StrCat("congestion must be a number in [0, 1]; got ", c));
  }
  out->congestion = c;
  const auto& ttl = report.ttl();
  if (ttl.nanos() <= -1'000'000'000 || ttl.nanos() >= 1'000'000'000 ||
      (ttl.seconds() > 0 && ttl.nanos() < 0) || (ttl.seconds() < 0 && ttl.nanos() > 0)) {
    return Invalid("INVALID_TTL", "ttl is not a valid google.protobuf.Duration");
  }
  const absl::Duration d = absl::Seconds(ttl.seconds()) + absl::Nanoseconds(ttl.nanos());
  const absl::Duration max = topology.world().thresholds.max_health_ttl;
  if (d < absl::ZeroDuration() || d > max) {
    return Invalid("INVALID_TTL", absl::StrCat("ttl must be between 0 (server default) and ",
                                               absl::FormatDuration(max), "; got ",
                                               absl::FormatDuration(d)));
  }
  out->ttl = d;
  return ValidateDatacenterId(report.datacenter_id(), topology, &out->dc);
}

std::optional<ApiError> ValidateFallbackReport(const v1::FallbackReport& report,
                                               const core::Topology& topology,
                                               ValidFallbackReport* out) {
  std::string country;
  if (auto e = ValidateCountry(report.client_country(), &country)) return e;
  if (auto e = ValidateTenantId(report.tenant_id(), /*required=*/false)) return e;
  if (report.attempts() > kMaxAttempts) {
    return Invalid("INVALID_ATTEMPTS", absl::StrCat("attempts is ", report.attempts(),
                                                    "; at most ", kMaxAttempts));
  }
  if (auto e = ValidateDatacenterId(report.datacenter_id(), topology, &out->dc)) return e;
  out->client_region = topology.HomeRegion(country);
  if (out->client_region == core::kNoIndex) {
    return ApiError{grpc::StatusCode::NOT_FOUND, "COUNTRY_NOT_MAPPED",
                    absl::StrCat("country ", country,
                                 " is not mapped to a region and there is no default region")};
  }
  out->cross_border = topology.dc(out->dc).country != country;
  return std::nullopt;
}

std::optional<ApiError> ValidateTenantPolicy(const v1::TenantPolicy& policy,
                                             const core::Topology& topology,
                                             core::TenantPolicy* out) {
  if (auto e = ValidateTenantId(policy.tenant_id(), /*required=*/true)) return e;
  auto known = [&](const std::string& region) {
    return topology.RegionIndex(region) != core::kNoIndex;
  };
  auto known_list = [&] {
    std::vector<std::string> ids;
    for (size_t r = 0; r < topology.region_count(); ++r) ids.push_back(topology.region_config(r).id);
    return absl::StrJoin(ids, ", ");
  };
  if (policy.home_region().empty() || !known(policy.home_region())) {
    return Invalid("UNKNOWN_REGION", absl::StrCat("home_region ", Quote(policy.home_region()),
                                                  " is not a region of the config (known: ",
                                                  known_list(), ")"));
  }
  if (policy.allowed_regions_size() > static_cast<int>(topology.region_count())) {
    return Invalid("INVALID_ALLOWED_REGIONS",
                   absl::StrCat("allowed_regions has ", policy.allowed_regions_size(),
                                " entries; the config has only ", topology.region_count(),
                                " regions"));
  }
  out->tenant_id = policy.tenant_id();
  out->home_region = policy.home_region();
  out->allowed_regions.clear();
  for (const std::string& region : policy.allowed_regions()) {
    if (!known(region)) {
      return Invalid("UNKNOWN_REGION", absl::StrCat("allowed region ", Quote(region),
                                                    " is not a region of the config (known: ",
                                                    known_list(), ")"));
    }
    if (std::find(out->allowed_regions.begin(), out->allowed_regions.end(), region) ==
        out->allowed_regions.end()) {
      out->allowed_regions.push_back(region);
    }
  }
  return std::nullopt;
}

}  // namespace dcdir::api

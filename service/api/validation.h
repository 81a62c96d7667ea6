#ifndef DCDIR_SERVICE_API_VALIDATION_H_
#define DCDIR_SERVICE_API_VALIDATION_H_

// Input validation of every RPC. Pure functions: no I/O, no gRPC calls. Each returns the valid
// input (or OK) or the error to answer with: INVALID_ARGUMENT (NOT_FOUND where noted) with its
// reason token (api_error.h, reasons.h) and a message. On success nothing is allocated beyond
// what the returned value holds.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "dcdir/v1/admin.pb.h"
#include "dcdir/v1/directory.pb.h"
#include "dcdir/v1/reporting.pb.h"
#include "service/api/api_error.h"
#include "service/core/answer.h"
#include "service/core/model.h"
#include "service/core/tenant_id.h"
#include "service/core/topology.h"

namespace dcdir::api {

inline constexpr size_t kMaxTenantIdBytes = core::kMaxTenantIdBytes;  // service/core/tenant_id.h
inline constexpr size_t kMaxClientIdBytes = 128;
inline constexpr size_t kMaxDatacenterIdBytes = 64;
inline constexpr uint32_t kMaxSecondaries = 64;
inline constexpr uint32_t kMaxAttempts = 1000;

// Two ASCII letters; returns the upper-case form. INVALID_COUNTRY.
absl::StatusOr<std::string> ValidateCountry(std::string_view country);
// Empty (unless `required`), or core::IsValidTenantId (1-64 of [A-Za-z0-9._-]).
// INVALID_TENANT_ID.
absl::Status ValidateTenantId(std::string_view tenant_id, bool required);

inline constexpr size_t kMaxObservedRtts = 32;
inline constexpr absl::Duration kMaxObservedRtt = absl::Seconds(10);

// The fields of a valid GetDirectoryRequest, normalised.
struct DirectoryRequestFields {
  // Upper case; from client_country, else from client_subdivision's country part; empty when
  // the request gives neither (GeoIP may fill it in).
  std::string country;
  std::string subdivision;  // upper case, or empty
  std::optional<core::GeoPoint> location;
  // Views into the request's strings: valid while the request lives.
  std::vector<core::ObservedRtt> observed_rtts;
};

// Every field of a GetDirectory / WatchDirectory / ExplainDirectory request, except that the
// country may be missing (then the result's `country` is empty: the caller resolves it or
// answers MissingCountryError()). Reasons: INVALID_COUNTRY, INVALID_TENANT_ID,
// INVALID_CLIENT_ID, INVALID_MAX_SECONDARIES, INVALID_LOCATION, INVALID_SUBDIVISION,
// INVALID_OBSERVED_RTTS. The success path (GetDirectory's) builds no string: the fields'
// strings fit the small-string buffer; observed_rtts, when given, allocates once
// (tests/api/api_error_test.cc counts).
absl::StatusOr<DirectoryRequestFields> ValidateDirectoryRequest(
    const v1::GetDirectoryRequest& request);
// The error (INVALID_COUNTRY) for a request whose country is neither declared nor found.
absl::Status MissingCountryError(bool geoip_configured);

// Same, with the country required (no GeoIP): returns the upper-case country.
absl::StatusOr<std::string> ValidateDirectoryRequestCountry(const v1::GetDirectoryRequest& request);

// A validated health report.
struct ValidHealthReport {
  uint32_t dc = 0;
  core::HealthStatus status = core::HealthStatus::kUnknown;
  double congestion = 0;
  absl::Duration ttl;  // zero: the server default
};
// INVALID_STATUS, INVALID_CONGESTION, INVALID_TTL, INVALID_DATACENTER_ID; NOT_FOUND
// UNKNOWN_DATACENTER for an id `topology` lacks.
absl::StatusOr<ValidHealthReport> ValidateHealthReport(const v1::HealthReport& report,
                                                       const core::Topology& topology);

// A validated fallback report.
struct ValidFallbackReport {
  uint32_t client_region = core::kNoIndex;
  uint32_t dc = 0;
  bool cross_border = false;
};
// INVALID_COUNTRY, INVALID_TENANT_ID, INVALID_ATTEMPTS, INVALID_DATACENTER_ID; NOT_FOUND
// UNKNOWN_DATACENTER, or COUNTRY_NOT_MAPPED when the country has no region.
absl::StatusOr<ValidFallbackReport> ValidateFallbackReport(const v1::FallbackReport& report,
                                                           const core::Topology& topology);

// A tenant policy; returns the normalised policy (allowed regions deduplicated).
// INVALID_TENANT_ID, UNKNOWN_REGION, INVALID_ALLOWED_REGIONS.
absl::StatusOr<core::TenantPolicy> ValidateTenantPolicy(const v1::TenantPolicy& policy,
                                                        const core::Topology& topology);

}  // namespace dcdir::api

#endif  // DCDIR_SERVICE_API_VALIDATION_H_

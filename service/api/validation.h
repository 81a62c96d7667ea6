#ifndef DCDIR_SERVICE_API_VALIDATION_H_
#define DCDIR_SERVICE_API_VALIDATION_H_

// Input validation of every RPC. Pure functions: no I/O, no gRPC calls; each returns the
// error to answer with, or nullopt when the input is valid.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "service/core/answer.h"

#include "dcdir/v1/admin.pb.h"
#include "dcdir/v1/directory.pb.h"
#include "dcdir/v1/reporting.pb.h"
#include "service/api/api_error.h"
#include "service/core/model.h"
#include "service/core/topology.h"

namespace dcdir::api {

inline constexpr size_t kMaxTenantIdBytes = 64;
inline constexpr size_t kMaxClientIdBytes = 128;
inline constexpr size_t kMaxDatacenterIdBytes = 64;
inline constexpr uint32_t kMaxSecondaries = 64;
inline constexpr uint32_t kMaxAttempts = 1000;

// Two ASCII letters; on success writes the upper-case form to *normalized.
std::optional<ApiError> ValidateCountry(std::string_view country, std::string* normalized);
// Empty, or 1-64 of [A-Za-z0-9._-].
std::optional<ApiError> ValidateTenantId(std::string_view tenant_id, bool required);

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
// country may be missing (then `out->country` is empty: the caller resolves it or answers
// INVALID_COUNTRY with MissingCountryError()). Reasons: INVALID_COUNTRY, INVALID_TENANT_ID,
// INVALID_CLIENT_ID, INVALID_MAX_SECONDARIES, INVALID_LOCATION, INVALID_SUBDIVISION,
// INVALID_OBSERVED_RTTS.
std::optional<ApiError> ValidateDirectoryRequest(const v1::GetDirectoryRequest& request,
                                                 DirectoryRequestFields* out);
// The error for a request whose country is neither declared nor found.
ApiError MissingCountryError(bool geoip_configured);

// Same, with the country required. Writes the upper-case country.
std::optional<ApiError> ValidateDirectoryRequest(const v1::GetDirectoryRequest& request,
                                                 std::string* country);

// A validated health report.
struct ValidHealthReport {
  uint32_t dc = 0;
  core::HealthStatus status = core::HealthStatus::kUnknown;
  double congestion = 0;
  absl::Duration ttl;  // zero: the server default
};
std::optional<ApiError> ValidateHealthReport(const v1::HealthReport& report,
                                             const core::Topology& topology,
                                             ValidHealthReport* out);

// A validated fallback report.
struct ValidFallbackReport {
  uint32_t client_region = core::kNoIndex;
  uint32_t dc = 0;
  bool cross_border = false;
};
std::optional<ApiError> ValidateFallbackReport(const v1::FallbackReport& report,
                                               const core::Topology& topology,
                                               ValidFallbackReport* out);

// A tenant policy; on success writes the normalised policy (allowed regions deduplicated).
std::optional<ApiError> ValidateTenantPolicy(const v1::TenantPolicy& policy,
                                             const core::Topology& topology,
                                             core::TenantPolicy* out);

}  // namespace dcdir::api

#endif  // DCDIR_SERVICE_API_VALIDATION_H_

#ifndef DCDIR_SERVICE_API_REASONS_H_
#define DCDIR_SERVICE_API_REASONS_H_

// The catalogue of reason tokens: every value the server puts in the `dcdir-error-reason`
// trailer, with the gRPC code it comes with and what it means. Tokens are part of the API
// contract (docs/CONTRACT.md, "Errors"): add new ones, never rename or reuse one.
//
// Handlers use the constants below; service/core/answer.cc (which cannot depend on the API
// layer) spells its three tokens itself and they are listed here too. The docs check
// (tests/docs/check_docs.py, ctest docs_check) fails when a reason-shaped string literal in
// service/api/ or service/core/ is not in kCatalogue, or a catalogue entry is not documented in
// docs/CONTRACT.md with the same code.

#include <string_view>

#include "grpcpp/support/status_code_enum.h"

namespace dcdir::api::reasons {

// Request validation (INVALID_ARGUMENT unless noted).
inline constexpr char kInvalidCountry[] = "INVALID_COUNTRY";
inline constexpr char kInvalidTenantId[] = "INVALID_TENANT_ID";
inline constexpr char kInvalidClientId[] = "INVALID_CLIENT_ID";
inline constexpr char kInvalidMaxSecondaries[] = "INVALID_MAX_SECONDARIES";
inline constexpr char kInvalidLocation[] = "INVALID_LOCATION";
inline constexpr char kInvalidSubdivision[] = "INVALID_SUBDIVISION";
inline constexpr char kInvalidObservedRtts[] = "INVALID_OBSERVED_RTTS";
inline constexpr char kInvalidDatacenterId[] = "INVALID_DATACENTER_ID";
// The message could not be parsed at all (api/unparsable_request.h).
inline constexpr char kUnparsableRequest[] = "UNPARSABLE_REQUEST";
inline constexpr char kInvalidStatus[] = "INVALID_STATUS";
inline constexpr char kInvalidCongestion[] = "INVALID_CONGESTION";
inline constexpr char kInvalidTtl[] = "INVALID_TTL";
inline constexpr char kInvalidAttempts[] = "INVALID_ATTEMPTS";
inline constexpr char kInvalidAllowedRegions[] = "INVALID_ALLOWED_REGIONS";
inline constexpr char kUnknownRegion[] = "UNKNOWN_REGION";
inline constexpr char kMissingPolicy[] = "MISSING_POLICY";
inline constexpr char kInvalidPageSize[] = "INVALID_PAGE_SIZE";
inline constexpr char kInvalidPageToken[] = "INVALID_PAGE_TOKEN";
inline constexpr char kUnknownDatacenter[] = "UNKNOWN_DATACENTER";  // NOT_FOUND
inline constexpr char kTenantNotFound[] = "TENANT_NOT_FOUND";      // NOT_FOUND
// The answer (service/core/answer.cc ReasonToken).
inline constexpr char kCountryNotMapped[] = "COUNTRY_NOT_MAPPED";
inline constexpr char kNoCompliantDatacenter[] = "NO_COMPLIANT_DATACENTER";
inline constexpr char kNoHealthyCompliantDatacenter[] = "NO_HEALTHY_COMPLIANT_DATACENTER";
// Credentials.
inline constexpr char kMissingCredentials[] = "MISSING_CREDENTIALS";
inline constexpr char kInvalidCredentials[] = "INVALID_CREDENTIALS";
inline constexpr char kDatacenterNotInCertificate[] = "DATACENTER_NOT_IN_CERTIFICATE";
inline constexpr char kNotAnAdminCertificate[] = "NOT_AN_ADMIN_CERTIFICATE";
// Limits and availability.
inline constexpr char kRateLimited[] = "RATE_LIMITED";
inline constexpr char kTooManyWatches[] = "TOO_MANY_WATCHES";
inline constexpr char kTooManyWatchesFromPeer[] = "TOO_MANY_WATCHES_FROM_PEER";
inline constexpr char kNotReady[] = "NOT_READY";
inline constexpr char kStoreUnavailable[] = "STORE_UNAVAILABLE";
// A tenant write reached the Redis master but too few replicas acknowledged it (WAIT); the same
// token as store::kWriteUnconfirmedReason, which the store attaches to its status.
inline constexpr char kStoreWriteUnconfirmed[] = "STORE_WRITE_UNCONFIRMED";
// Reply (api_error.cc): a store or runtime status with no more specific token.
inline constexpr char kNotFound[] = "NOT_FOUND";
inline constexpr char kInvalidArgument[] = "INVALID_ARGUMENT";
inline constexpr char kInternal[] = "INTERNAL";

struct Reason {
  std::string_view token;
  grpc::StatusCode code;
  std::string_view meaning;  // one line, for people
};

// Every token above, once, with its code.
inline constexpr Reason kCatalogue[] = {
    {kInvalidCountry, grpc::StatusCode::INVALID_ARGUMENT,
     "client_country (or FallbackReport.client_country) is missing or not two letters"},
    {kInvalidTenantId, grpc::StatusCode::INVALID_ARGUMENT,
     "tenant_id is empty where required, too long, or not of [A-Za-z0-9._-]"},
    {kInvalidClientId, grpc::StatusCode::INVALID_ARGUMENT, "client_id is too long"},
    {kUnparsableRequest, grpc::StatusCode::INVALID_ARGUMENT,
     "the request is not a valid message of the RPC (e.g. a string that is not UTF-8)"},
    {kInvalidMaxSecondaries, grpc::StatusCode::INVALID_ARGUMENT, "max_secondaries is too large"},
    {kInvalidLocation, grpc::StatusCode::INVALID_ARGUMENT,
     "client_location is outside [-90, 90] x [-180, 180] degrees or not a number"},
    {kInvalidSubdivision, grpc::StatusCode::INVALID_ARGUMENT,
     "client_subdivision is not ISO 3166-2 or not in client_country"},
    {kInvalidObservedRtts, grpc::StatusCode::INVALID_ARGUMENT,
     "observed_rtts: too many, a bad or repeated DC id, an rtt out of range or a negative age"},
    {kInvalidDatacenterId, grpc::StatusCode::INVALID_ARGUMENT,
     "datacenter_id is empty or too long"},
    {kInvalidStatus, grpc::StatusCode::INVALID_ARGUMENT,
     "a health report's status is UNSPECIFIED, UNKNOWN or out of range"},
    {kInvalidCongestion, grpc::StatusCode::INVALID_ARGUMENT,
     "a health report's congestion is not a number in [0, 1]"},
    {kInvalidTtl, grpc::StatusCode::INVALID_ARGUMENT,
     "a health report's ttl is negative, malformed or above max_health_ttl"},
    {kInvalidAttempts, grpc::StatusCode::INVALID_ARGUMENT,
     "a fallback report's attempts is too large"},
    {kInvalidAllowedRegions, grpc::StatusCode::INVALID_ARGUMENT,
     "a tenant policy lists more allowed_regions than the config has regions"},
    {kUnknownRegion, grpc::StatusCode::INVALID_ARGUMENT,
     "a tenant policy names a region the config does not define"},
    {kMissingPolicy, grpc::StatusCode::INVALID_ARGUMENT, "SetTenantPolicy without a policy"},
    {kInvalidPageSize, grpc::StatusCode::INVALID_ARGUMENT,
     "a list request's page_size is negative"},
    {kInvalidPageToken, grpc::StatusCode::INVALID_ARGUMENT,
     "a list request's page_token was not made by this service"},
    {kUnknownDatacenter, grpc::StatusCode::NOT_FOUND, "a report names a DC the config lacks"},
    {kTenantNotFound, grpc::StatusCode::NOT_FOUND, "no policy is stored for this tenant"},
    {kCountryNotMapped, grpc::StatusCode::NOT_FOUND,
     "the client's country has no region and the config has no default_region"},
    {kNoCompliantDatacenter, grpc::StatusCode::FAILED_PRECONDITION,
     "the deny rules and the tenant's control allow no DC of the topology to this client"},
    {kNoHealthyCompliantDatacenter, grpc::StatusCode::UNAVAILABLE,
     "allowed DCs exist but none is usable (healthy and reported within its TTL)"},
    {kMissingCredentials, grpc::StatusCode::UNAUTHENTICATED,
     "a reporting or admin RPC came with neither the bearer token nor a client certificate"},
    {kInvalidCredentials, grpc::StatusCode::UNAUTHENTICATED,
     "the bearer token is not the server's (and no client certificate admitted the call)"},
    {kDatacenterNotInCertificate, grpc::StatusCode::PERMISSION_DENIED,
     "the client certificate does not name the reported DC"},
    {kNotAnAdminCertificate, grpc::StatusCode::PERMISSION_DENIED,
     "an admin RPC with a client certificate that lacks the SAN dcdir://admin"},
    {kRateLimited, grpc::StatusCode::RESOURCE_EXHAUSTED,
     "too many health reports for one DC, or fallback reports from one address or "
     "server-wide"},
    {kTooManyWatches, grpc::StatusCode::RESOURCE_EXHAUSTED,
     "the server already holds --max_watch_streams WatchDirectory streams"},
    {kTooManyWatchesFromPeer, grpc::StatusCode::RESOURCE_EXHAUSTED,
     "the client's address already holds its cap of WatchDirectory streams"},
    {kNotReady, grpc::StatusCode::UNAVAILABLE,
     "no snapshot yet: the replica has not read its store since it started"},
    {kStoreUnavailable, grpc::StatusCode::UNAVAILABLE,
     "a write (health report, tenant change) could not reach the store"},
    {kStoreWriteUnconfirmed, grpc::StatusCode::UNAVAILABLE,
     "a tenant write is on the Redis master but fewer than --redis_wait_replicas replicas "
     "acknowledged it within --redis_wait_timeout; read it back or repeat it"},
    {kNotFound, grpc::StatusCode::NOT_FOUND, "a store lookup found nothing (no specific token)"},
    {kInvalidArgument, grpc::StatusCode::INVALID_ARGUMENT,
     "the store refused a value (no specific token)"},
    {kInternal, grpc::StatusCode::INTERNAL, "an unexpected store or runtime error"},
};

}  // namespace dcdir::api::reasons

#endif  // DCDIR_SERVICE_API_REASONS_H_

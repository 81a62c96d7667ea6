#ifndef DCDIR_SERVICE_API_PAGE_TOKEN_H_
#define DCDIR_SERVICE_API_PAGE_TOKEN_H_

// Page tokens of the list RPCs (AIP-158): opaque to clients, stable across replicas and
// snapshots. A token names the last key a page returned; the next page starts after it.

#include <optional>
#include <string>
#include <string_view>

namespace dcdir::api {

// Page sizes of AdminService.ListTenantPolicies: 0 asks for the default, more than the maximum
// gets the maximum (AIP-158). The maximum keeps one response far below gRPC's 4 MiB default
// receive limit (a policy is well under 1 KiB).
inline constexpr int kDefaultTenantPageSize = 100;
inline constexpr int kMaxTenantPageSize = 1000;

// The token for the page after `last_key` (web-safe base64 of a versioned form).
std::string EncodePageToken(std::string_view last_key);

// The key a token names; nullopt when `token` is not one EncodePageToken made (or names an
// empty key).
std::optional<std::string> DecodePageToken(std::string_view token);

}  // namespace dcdir::api

#endif  // DCDIR_SERVICE_API_PAGE_TOKEN_H_

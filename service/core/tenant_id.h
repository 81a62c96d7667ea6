#ifndef DCDIR_SERVICE_CORE_TENANT_ID_H_
#define DCDIR_SERVICE_CORE_TENANT_ID_H_

// The one rule for a tenant id (TenantPolicy::tenant_id, model.h): 1 to kMaxTenantIdBytes bytes,
// each an ASCII letter, digit, '.', '_' or '-' ([A-Za-z0-9._-]{1,64}). The API refuses any
// other id (INVALID_TENANT_ID, docs/CONTRACT.md "Errors"), so does the tenants file, and the
// stores treat a stored tenant record with any other id as bad data (skipped and counted,
// docs/REDIS.md "Bad data"): no tenant can exist that the API could not read or delete.

#include <cstddef>

#include "absl/strings/string_view.h"

namespace dcdir::core {

// The longest tenant id, in bytes: our own choice, part of the API contract (docs/CONTRACT.md,
// "Errors"; not taken from a standard). It also bounds the per-tenant state kept for ids taken
// from requests (docs/COMPLIANCE.md, "Bounded memory").
inline constexpr size_t kMaxTenantIdBytes = 64;

// True when `id` is 1 to kMaxTenantIdBytes bytes of [A-Za-z0-9._-] (ASCII only: no byte
// >= 0x80, no control character, no space, none of the store's separators '|' ',' '%' ':').
// Pure; no allocation.
bool IsValidTenantId(absl::string_view id);

}  // namespace dcdir::core

#endif  // DCDIR_SERVICE_CORE_TENANT_ID_H_

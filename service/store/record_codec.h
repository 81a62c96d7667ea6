#ifndef DCDIR_SERVICE_STORE_RECORD_CODEC_H_
#define DCDIR_SERVICE_STORE_RECORD_CODEC_H_

// The value encoding of the Redis store: compact, versioned, human-readable text.
//
//   health: "h1|<status>|<congestion>|<congested>|<reported_at>|<expires_at>"
//     status: 0 unknown, 1 healthy, 2 draining, 3 down; congestion: decimal in [0, 1]
//     (round-trips exactly); congested: 0/1; times: unix microseconds, or "-inf" / "inf".
//   tenant: "t1|<tenant_id>|<home_region>|<allowed,comma,separated>|<updated_at>"
//     strings are percent-escaped ('%', '|', ',' and bytes < 0x20 become %XX).
//
// A value that does not match its version's grammar exactly (wrong version, missing or extra
// fields, out-of-range numbers, longer than kMaxEncodedValueBytes) is rejected with
// INVALID_ARGUMENT; the store skips and counts such values.

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "service/core/model.h"

namespace dcdir::store {

// Values longer than this are never decoded (a guard against huge garbage values).
inline constexpr size_t kMaxEncodedValueBytes = 64 * 1024;

std::string EncodeHealthRecord(const core::HealthRecord& record);
absl::StatusOr<core::HealthRecord> DecodeHealthRecord(std::string_view value);

std::string EncodeTenantPolicy(const core::TenantPolicy& policy);
absl::StatusOr<core::TenantPolicy> DecodeTenantPolicy(std::string_view value);

// The percent-escaping of the string fields above ('%', '|', ',' and bytes < 0x20 become %XX),
// for formats that embed such strings (the snapshot file). Unescape rejects a separator that
// is not escaped and a malformed escape (INVALID_ARGUMENT).
std::string EscapeField(std::string_view s);
absl::StatusOr<std::string> UnescapeField(std::string_view s);

// Unix microseconds, or "-inf" / "inf" for the infinite times.
std::string EncodeTime(absl::Time t);
absl::StatusOr<absl::Time> DecodeTime(std::string_view text);

}  // namespace dcdir::store

#endif  // DCDIR_SERVICE_STORE_RECORD_CODEC_H_

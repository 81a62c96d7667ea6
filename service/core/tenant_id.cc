#include "service/core/tenant_id.h"

#include "absl/strings/ascii.h"

namespace dcdir::core {
namespace {

bool IsTenantIdChar(char c) { return absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '-'; }

}  // namespace

bool IsValidTenantId(absl::string_view id) {
  if (id.empty() || id.size() > kMaxTenantIdBytes) return false;
  for (char c : id) {
    if (!IsTenantIdChar(c)) return false;
  }
  return true;
}

}  // namespace dcdir::core

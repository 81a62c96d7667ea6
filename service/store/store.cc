#include "service/store/store.h"

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace dcdir::store {

absl::Status InvalidTenantIdError(std::string_view tenant_id) {
  constexpr size_t kShown = 80;
  const absl::string_view id(tenant_id.data(), tenant_id.size());
  return absl::InvalidArgumentError(absl::StrCat(
      "tenant id \"", absl::CEscape(id.substr(0, kShown)), id.size() > kShown ? "..." : "",
      "\" (", id.size(), " bytes) is not 1-", core::kMaxTenantIdBytes,
      " bytes of [A-Za-z0-9._-]; the store holds no such tenant"));
}

}  // namespace dcdir::store

#include "tests/testing/synthetic_tenants.h"

#include <cstddef>

#include "absl/strings/str_format.h"

namespace dcdir::testing {

std::string SyntheticTenantId(int i) { return absl::StrFormat("tenant-%06d", i); }

TenantShape SyntheticTenant(int i, const std::vector<std::string>& regions, bool flipped) {
  const size_t k = static_cast<size_t>(i);
  TenantShape t{SyntheticTenantId(i), regions[k % regions.size()], {}};
  if (flipped || i % 3 == 0) t.allowed_regions.push_back(regions[(k + 1) % regions.size()]);
  return t;
}

}  // namespace dcdir::testing

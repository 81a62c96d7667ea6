#ifndef DCDIR_TESTS_TESTING_SYNTHETIC_TENANTS_H_
#define DCDIR_TESTS_TESTING_SYNTHETIC_TENANTS_H_

// The synthetic tenants of the tenant-scale benchmarks (issue 17), defined once: tenant i is
// "tenant-%06d", at home in regions[i % R], and every third one (i % 3 == 0) also allows the
// next region, regions[(i + 1) % R]. Plain strings, no core or proto type, so that each caller
// converts in one line to its own (core_bench: core::TenantPolicy; tenant_bench and load_client:
// v1::TenantPolicy) and load_client links neither the core nor the API mapping.

#include <string>
#include <vector>

namespace dcdir::testing {

// One synthetic tenant policy, as strings.
struct TenantShape {
  std::string id;                            // SyntheticTenantId(i)
  std::string home_region;                   // regions[i % R]
  std::vector<std::string> allowed_regions;  // empty, or {regions[(i + 1) % R]}
};

// The id of synthetic tenant `i` (i >= 0): "tenant-" and i in at least six digits,
// "tenant-000042", "tenant-123456", "tenant-1000000". A valid tenant id (core::IsValidTenantId).
std::string SyntheticTenantId(int i);

// Synthetic tenant `i` (i >= 0) over `regions` (not empty). `flipped` (tenant_bench's change of
// a policy): the tenant allows the next region whatever i is; tenants with i % 3 == 0 allow it
// either way, so flipping changes only the others.
TenantShape SyntheticTenant(int i, const std::vector<std::string>& regions, bool flipped = false);

}  // namespace dcdir::testing

#endif  // DCDIR_TESTS_TESTING_SYNTHETIC_TENANTS_H_

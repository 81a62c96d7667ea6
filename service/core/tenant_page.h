#ifndef DCDIR_SERVICE_CORE_TENANT_PAGE_H_
#define DCDIR_SERVICE_CORE_TENANT_PAGE_H_

// One page of the stored tenant policies in tenant id order (AdminService.ListTenantPolicies).
// Pure: reads a snapshot's TenantTable, no I/O.

#include <cstddef>
#include <string_view>
#include <vector>

#include "service/core/tenant_table.h"

namespace dcdir::core {

struct TenantPage {
  // At most `page_size` tenants with an id greater than `after` (byte order), ascending;
  // valid while the table is alive.
  std::vector<const CompiledTenant*> tenants;
  // True when more tenants follow the last one returned.
  bool more = false;
};

// The first `page_size` tenants of `tenants` whose id sorts after `after` ("" for the first
// page). A position by id, not an offset: pages stay correct while tenants are added or removed
// between calls. Cost O(n + page_size × log page_size) for n stored tenants (a selection, no
// full sort). page_size 0 returns an empty page with `more` telling whether any tenant follows.
TenantPage TenantsAfter(const TenantTable& tenants, std::string_view after, size_t page_size);

}  // namespace dcdir::core

#endif  // DCDIR_SERVICE_CORE_TENANT_PAGE_H_

#include "service/core/tenant_page.h"

#include <algorithm>

namespace dcdir::core {

TenantPage TenantsAfter(const TenantTable& tenants, std::string_view after, size_t page_size) {
  std::vector<const CompiledTenant*> candidates;
  tenants.ForEach([&](const CompiledTenant& tenant) {
    if (std::string_view(tenant.policy.tenant_id) > after) candidates.push_back(&tenant);
  });
  auto by_id = [](const CompiledTenant* a, const CompiledTenant* b) {
    return a->policy.tenant_id < b->policy.tenant_id;
  };
  TenantPage page;
  page.more = candidates.size() > page_size;
  if (page.more) {
    std::nth_element(candidates.begin(), candidates.begin() + page_size, candidates.end(), by_id);
    candidates.resize(page_size);
  }
  std::sort(candidates.begin(), candidates.end(), by_id);
  page.tenants = std::move(candidates);
  return page;
}

}  // namespace dcdir::core

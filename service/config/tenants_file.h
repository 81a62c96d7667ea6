#ifndef DCDIR_SERVICE_CONFIG_TENANTS_FILE_H_
#define DCDIR_SERVICE_CONFIG_TENANTS_FILE_H_

// The tenants file of `dcdir-server --check_config --tenants`: the tenant policies the
// compliance check (what_if.h) analyses.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/core/model.h"
#include "service/core/topology.h"

namespace dcdir::config {

// Parses a tenants file (YAML or JSON): `tenants: [{tenant_id, home_region, allowed_regions}]`,
// each tenant optionally with TenantPolicy's output-only `update_time` (a string) and
// `unknown_regions` (a list), which are ignored: what `dcdirctl tenant list --json` prints is a
// tenants file as it is. Tenant ids follow the API's rule (1-64 of [A-Za-z0-9._-]) and must be
// unique ("tenant `a` is listed twice"). A key given twice in one tenant, or `tenants` twice at
// the top, is refused as the world config loader refuses it ("duplicate key \"home_region\" in
// tenants[1] (acme) (first at line 4)"). Regions the config does not define are kept
// (CheckCompliance reports them, as the server treats stored policies after a reload removed a
// region). Errors are INVALID_ARGUMENT naming the file and line.
absl::StatusOr<std::vector<core::TenantPolicy>> ParseTenants(absl::string_view text,
                                                             absl::string_view file_name,
                                                             const core::Topology& topology);
// Reads `path` and parses it with ParseTenants (NOT_FOUND when it cannot be read).
absl::StatusOr<std::vector<core::TenantPolicy>> LoadTenantsFile(const std::string& path,
                                                                const core::Topology& topology);

}  // namespace dcdir::config

#endif  // DCDIR_SERVICE_CONFIG_TENANTS_FILE_H_

#include "service/config/tenants_file.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "service/core/tenant_id.h"
#include "yaml-cpp/yaml.h"

namespace dcdir::config {
namespace {

absl::Status TenantError(absl::string_view file, const YAML::Node& node, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(file, ":", node.Mark().line + 1, ": ", what));
}

}  // namespace

absl::StatusOr<std::vector<core::TenantPolicy>> ParseTenants(absl::string_view text,
                                                             absl::string_view file_name,
                                                             const core::Topology& topology) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(file_name, ":", e.mark.line + 1, ": not valid YAML/JSON: ", e.msg));
  }
  std::vector<core::TenantPolicy> out;
  if (!root || root.IsNull()) return out;
  if (!root.IsMap() || !root["tenants"]) {
    return TenantError(file_name, root, "expected a map with a `tenants` list");
  }
  const YAML::Node list = root["tenants"];
  if (list.IsNull()) return out;
  if (!list.IsSequence()) return TenantError(file_name, list, "`tenants` must be a list");
  absl::flat_hash_set<std::string> seen;
  try {
    for (const YAML::Node& item : list) {
      if (!item.IsMap()) return TenantError(file_name, item, "a tenant must be a map");
      for (const auto& kv : item) {
        const std::string key = kv.first.as<std::string>();
        // update_time and unknown_regions are TenantPolicy's output-only fields: present in
        // what `dcdirctl tenant list --json` prints, checked for shape and ignored.
        if (key == "update_time") {
          if (!kv.second.IsScalar()) {
            return TenantError(file_name, kv.second, "update_time must be a timestamp string");
          }
          continue;
        }
        if (key == "unknown_regions") {
          if (!kv.second.IsNull() && !kv.second.IsSequence()) {
            return TenantError(file_name, kv.second, "unknown_regions must be a list");
          }
          continue;
        }
        if (key != "tenant_id" && key != "home_region" && key != "allowed_regions") {
          return TenantError(file_name, kv.first, absl::StrCat("unknown tenant field `", key,
                                                               "` (tenant_id, home_region, "
                                                               "allowed_regions; output-only "
                                                               "update_time, unknown_regions)"));
        }
      }
      core::TenantPolicy policy;
      const YAML::Node id = item["tenant_id"];
      if (!id || !id.IsScalar()) return TenantError(file_name, item, "tenant_id is required");
      policy.tenant_id = id.as<std::string>();
      if (!core::IsValidTenantId(policy.tenant_id)) {
        return TenantError(file_name, id,
                           absl::StrCat("tenant_id `", policy.tenant_id, "` must be 1-",
                                        core::kMaxTenantIdBytes, " of [A-Za-z0-9._-]"));
      }
      if (!seen.insert(policy.tenant_id).second) {
        return TenantError(file_name, id,
                           absl::StrCat("tenant `", policy.tenant_id, "` is listed twice"));
      }
      const YAML::Node home = item["home_region"];
      if (!home || !home.IsScalar()) {
        return TenantError(file_name, item,
                           absl::StrCat("tenant `", policy.tenant_id, "`: home_region is required"));
      }
      policy.home_region = home.as<std::string>();
      const YAML::Node allowed = item["allowed_regions"];
      if (allowed && !allowed.IsNull()) {
        if (!allowed.IsSequence()) {
          return TenantError(file_name, allowed, "allowed_regions must be a list");
        }
        for (const YAML::Node& r : allowed) {
          const std::string region = r.as<std::string>();
          if (std::find(policy.allowed_regions.begin(), policy.allowed_regions.end(), region) ==
              policy.allowed_regions.end()) {
            policy.allowed_regions.push_back(region);
          }
        }
      }
      out.push_back(std::move(policy));
    }
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(file_name, ":", e.mark.line + 1, ": ", e.msg));
  }
  return out;
}

absl::StatusOr<std::vector<core::TenantPolicy>> LoadTenantsFile(const std::string& path,
                                                                const core::Topology& topology) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read the tenants file ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return ParseTenants(buffer.str(), path, topology);
}

}  // namespace dcdir::config

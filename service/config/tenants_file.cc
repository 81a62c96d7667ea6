#include "service/config/tenants_file.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "service/core/tenant_id.h"
#include "yaml-cpp/yaml.h"

namespace dcdir::config {
namespace {

absl::Status TenantError(absl::string_view file, const YAML::Node& node, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(file, ":", node.Mark().line + 1, ": ", what));
}

// INVALID_ARGUMENT at the second occurrence of a key of the mapping `map`, worded as the world
// config loader words it (config_loader.cc): `FILE:LINE: duplicate key "K" in PATH (first at
// line N)`. yaml-cpp keeps both entries and `map[key]` returns the first, so without this check
// the second value would be dropped silently. Non-scalar keys are left to the caller's checks.
absl::Status CheckNoDuplicateKeys(absl::string_view file, const YAML::Node& map,
                                  absl::string_view path) {
  std::vector<std::pair<std::string, YAML::Node>> seen;  // a tenant has a handful of keys
  // By value: yaml-cpp's `it->first` lives in a temporary proxy (a reference to it dangles).
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) continue;
    for (const auto& [name, first] : seen) {
      if (name == key.Scalar()) {
        return TenantError(file, key,
                           absl::StrCat("duplicate key \"", absl::CEscape(name), "\" in ", path,
                                        " (first at line ", first.Mark().line + 1, ")"));
      }
    }
    seen.emplace_back(key.Scalar(), key);
  }
  return absl::OkStatus();
}

// "tenants[3]", or "tenants[3] (acme)" when the item has a readable tenant_id (for errors met
// before the id itself is validated), as config_loader.cc's ItemPath.
std::string TenantPath(size_t i, const YAML::Node& item) {
  std::string path = absl::StrCat("tenants[", i, "]");
  const YAML::Node id = item["tenant_id"];
  if (id.IsDefined() && id.IsScalar() && !id.Scalar().empty() &&
      id.Scalar().size() <= core::kMaxTenantIdBytes) {
    absl::StrAppend(&path, " (", absl::CEscape(id.Scalar()), ")");
  }
  return path;
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
  if (absl::Status s = CheckNoDuplicateKeys(file_name, root, "the top level"); !s.ok()) return s;
  const YAML::Node list = root["tenants"];
  if (list.IsNull()) return out;
  if (!list.IsSequence()) return TenantError(file_name, list, "`tenants` must be a list");
  absl::flat_hash_set<std::string> seen;
  try {
    size_t index = 0;
    for (const YAML::Node& item : list) {
      if (!item.IsMap()) return TenantError(file_name, item, "a tenant must be a map");
      if (absl::Status s = CheckNoDuplicateKeys(file_name, item, TenantPath(index++, item));
          !s.ok()) {
        return s;
      }
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

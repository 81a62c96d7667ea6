#include "clients/agent/world_file.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "yaml-cpp/yaml.h"

namespace dcdir::agent {

absl::StatusOr<std::vector<AgentDatacenter>> LoadDatacenters(const std::string& path) {
  if (!std::ifstream(path).good()) {
    return absl::NotFoundError(absl::StrCat("cannot read the world config ", path));
  }
  YAML::Node root;
  try {  // yaml-cpp reports errors by throwing; nothing escapes this function.
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", e.what()));
  }
  const YAML::Node dcs = root["datacenters"];
  if (!dcs || !dcs.IsSequence() || dcs.size() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": no `datacenters:` list (see docs/CONFIG.md)"));
  }
  std::vector<AgentDatacenter> out;
  for (size_t i = 0; i < dcs.size(); ++i) {
    const YAML::Node dc = dcs[i];
    if (!dc.IsMap() || !dc["id"] || !dc["id"].IsScalar()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": datacenters[", i, "] has no id"));
    }
    AgentDatacenter entry;
    entry.id = dc["id"].Scalar();
    if (const YAML::Node endpoints = dc["endpoints"]; endpoints && endpoints.IsSequence()) {
      for (const YAML::Node& e : endpoints) {
        if (e.IsScalar()) entry.endpoints.push_back(e.Scalar());
      }
    }
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace dcdir::agent

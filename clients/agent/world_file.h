#ifndef DCDIR_CLIENTS_AGENT_WORLD_FILE_H_
#define DCDIR_CLIENTS_AGENT_WORLD_FILE_H_

// The only part of the world config the agent needs: the DC ids and their endpoints. The server
// validates the file in full (dcdir-server --check_config); this reads it leniently.

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace dcdir::agent {

struct AgentDatacenter {
  std::string id;
  std::vector<std::string> endpoints;  // host:port
};

// The `datacenters:` list of a world file, in file order. INVALID_ARGUMENT / NOT_FOUND with the
// file name when it cannot be read or has no DCs.
absl::StatusOr<std::vector<AgentDatacenter>> LoadDatacenters(const std::string& path);

}  // namespace dcdir::agent

#endif  // DCDIR_CLIENTS_AGENT_WORLD_FILE_H_

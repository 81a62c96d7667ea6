#ifndef DCDIR_SERVICE_CONFIG_CONFIG_LOADER_H_
#define DCDIR_SERVICE_CONFIG_CONFIG_LOADER_H_

// YAML world file -> validated core::World. The schema is documented in docs/CONFIG.md.
//
// Every error names the file and the 1-based line of the offending node:
//   world.yaml:42: datacenter "us-xyz" in regions.us.primaries is not defined
// Nothing here throws: yaml-cpp exceptions are caught and turned into statuses.

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "service/core/model.h"
#include "service/core/topology.h"

namespace dcdir::config {

// Files larger than this are rejected before parsing.
inline constexpr size_t kMaxConfigBytes = 16 << 20;

// The content version of a config file: core::StableHash64 of its bytes as 16 lower-case hex
// digits. Same bytes -> same version on every replica.
std::string ContentVersion(std::string_view bytes);

// Parses and validates a world. `file_name` is only used in error messages. On success
// World::version is ContentVersion(yaml_text). Errors are INVALID_ARGUMENT with a message
// "FILE:LINE: reason" naming the key and value at fault. Validation includes the compliance
// check of candidate lists: a region's primary or secondary that a deny rule forbids for any
// of that region's client countries is an error.
absl::StatusOr<core::World> ParseWorld(std::string_view yaml_text, std::string_view file_name);

// ParseWorld, and the world compiled (core::Topology::Compile): what the server serves. The
// loader compiles every world it accepts (whatever the core rejects must not get past it), so
// this is that one compilation, not a second. Same errors as ParseWorld.
absl::StatusOr<std::shared_ptr<const core::Topology>> ParseTopology(std::string_view yaml_text,
                                                                    std::string_view file_name);

// Reads `path` and parses it with ParseWorld. NOT_FOUND when the file does not exist,
// INVALID_ARGUMENT when it cannot be read, is too large or is not a valid world.
absl::StatusOr<core::World> LoadWorldFile(const std::string& path);
// Reads `path` and parses it with ParseTopology; the errors of LoadWorldFile.
absl::StatusOr<std::shared_ptr<const core::Topology>> LoadTopologyFile(const std::string& path);

// Reads a whole file (follows symlinks). NOT_FOUND when missing, INVALID_ARGUMENT when it cannot
// be read or is larger than kMaxConfigBytes.
absl::StatusOr<std::string> ReadConfigFile(const std::string& path);

}  // namespace dcdir::config

#endif  // DCDIR_SERVICE_CONFIG_CONFIG_LOADER_H_

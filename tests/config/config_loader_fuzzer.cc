// libFuzzer target for the config loader (clang only: configure with -DDCDIR_BUILD_FUZZERS=ON
// and CXX=clang++). Seed it with deploy/config/world.yaml:
//   dcdir_config_loader_fuzzer -max_total_time=60 corpus/ ../deploy/config/
// Any input must give a world or an INVALID_ARGUMENT positioned "fuzz.yaml:..." — never a crash,
// an exception, or another code.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "absl/status/status.h"
#include "service/config/config_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<dcdir::core::World> world = dcdir::config::ParseWorld(text, "fuzz.yaml");
  if (!world.ok()) {
    if (world.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
    if (world.status().message().substr(0, 9) != "fuzz.yaml") std::abort();
  } else if (world->version.size() != 16 || world->datacenters.empty()) {
    std::abort();
  }
  return 0;
}

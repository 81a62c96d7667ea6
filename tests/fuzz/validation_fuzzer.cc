// libFuzzer target for request validation (service/api/validation.h): the first byte picks the
// request type, the rest is parsed as that protobuf (ParseFromArray; unparsable input is
// skipped). Any request must be accepted with in-range indices or refused with
// INVALID_ARGUMENT / NOT_FOUND and a reason token — never a crash or another code.
//   dcdir_validation_fuzzer -runs=20000

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "dcdir/v1/admin.pb.h"
#include "dcdir/v1/directory.pb.h"
#include "dcdir/v1/reporting.pb.h"
#include "service/api/api_error.h"
#include "service/api/validation.h"
#include "service/config/config_loader.h"
#include "service/core/topology.h"

namespace {

const dcdir::core::Topology& Example() {
  static const std::shared_ptr<const dcdir::core::Topology> topology = [] {
    auto world = dcdir::config::LoadWorldFile(DCDIR_SOURCE_DIR "/deploy/config/world.yaml");
    if (!world.ok()) std::abort();
    auto compiled = dcdir::core::Topology::Compile(*world);
    if (!compiled.ok()) std::abort();
    return *compiled;
  }();
  return *topology;
}

void CheckError(const absl::Status& e) {
  if (e.ok()) return;
  if (!absl::IsInvalidArgument(e) && !absl::IsNotFound(e)) std::abort();
  if (dcdir::api::ReasonOf(e).empty()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const dcdir::core::Topology& topology = Example();
  const uint8_t kind = data[0] % 4;
  const void* bytes = data + 1;
  const int n = static_cast<int>(size - 1);
  switch (kind) {
    case 0: {
      dcdir::v1::GetDirectoryRequest request;
      if (!request.ParseFromArray(bytes, n)) return 0;
      auto country = dcdir::api::ValidateDirectoryRequestCountry(request);
      CheckError(country.status());
      if (country.ok() && country->size() != 2) std::abort();
      break;
    }
    case 1: {
      dcdir::v1::HealthReport request;
      if (!request.ParseFromArray(bytes, n)) return 0;
      auto out = dcdir::api::ValidateHealthReport(request, topology);
      CheckError(out.status());
      if (out.ok() && out->dc >= topology.world().datacenters.size()) std::abort();
      if (out.ok() && !(out->congestion >= 0 && out->congestion <= 1)) std::abort();
      break;
    }
    case 2: {
      dcdir::v1::FallbackReport request;
      if (!request.ParseFromArray(bytes, n)) return 0;
      auto out = dcdir::api::ValidateFallbackReport(request, topology);
      CheckError(out.status());
      if (out.ok() && out->dc >= topology.world().datacenters.size()) std::abort();
      break;
    }
    default: {
      dcdir::v1::TenantPolicy request;
      if (!request.ParseFromArray(bytes, n)) return 0;
      CheckError(dcdir::api::ValidateTenantPolicy(request, topology).status());
      break;
    }
  }
  return 0;
}

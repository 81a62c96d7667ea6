#include "dcdir/client/types.h"

namespace dcdir::client {

const char* HealthStatusName(HealthStatus status) {
  switch (status) {
    case HealthStatus::kHealthy:
      return "HEALTHY";
    case HealthStatus::kDraining:
      return "DRAINING";
    case HealthStatus::kDown:
      return "DOWN";
    case HealthStatus::kUnknown:
      return "UNKNOWN";
    case HealthStatus::kUnspecified:
      break;
  }
  return "UNSPECIFIED";
}

}  // namespace dcdir::client

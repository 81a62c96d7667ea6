#ifndef DCDIR_SERVICE_CORE_CLOCK_H_
#define DCDIR_SERVICE_CORE_CLOCK_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace dcdir::core {

// The only way the service reads the time. Tests use a FakeClock advanced by hand.
class Clock {
 public:
  virtual ~Clock() = default;
  // Current wall-clock time.
  virtual absl::Time Now() const = 0;
};

// The real wall clock.
class RealClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

}  // namespace dcdir::core

#endif  // DCDIR_SERVICE_CORE_CLOCK_H_

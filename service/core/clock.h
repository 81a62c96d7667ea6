#ifndef DCDIR_SERVICE_CORE_CLOCK_H_
#define DCDIR_SERVICE_CORE_CLOCK_H_

// Time, the only way the service reads it. Two readings, never mixed:
//
//   Now()           the wall clock (CLOCK_REALTIME). It may step (NTP, an operator, a VM
//                   restore). For display and timestamps only: generated_at, update_time, log
//                   and audit lines.
//   MonotonicNow()  the wall time when the clock was created plus the monotonic time
//                   (CLOCK_MONOTONIC) elapsed since. It never steps, so every duration inside
//                   one process (TTL judgement of the embedded store, resync and audit windows,
//                   rate limits, self-preservation episodes) is measured on it. Close to the
//                   wall clock until the wall clock steps; after a step the two differ by it.
//
// Health TTLs shared between replicas are judged on the store's own timeline (Store::Now(),
// service/store/store.h), never on one replica's wall clock.

#include <chrono>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace dcdir::core {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time: display and timestamps only.
  virtual absl::Time Now() const = 0;
  // Monotonic time on a wall-clock-like scale (see above): never steps.
  virtual absl::Time MonotonicNow() const = 0;
};

// The real clocks.
class RealClock final : public Clock {
 public:
  RealClock()
      : wall_at_start_(absl::FromChrono(std::chrono::system_clock::now())),
        steady_at_start_(std::chrono::steady_clock::now()) {}
  // std::chrono::system_clock reads CLOCK_REALTIME on every call; absl::Now() interpolates
  // between kernel samples and can show the old wall time for a while after a step.
  absl::Time Now() const override { return absl::FromChrono(std::chrono::system_clock::now()); }
  absl::Time MonotonicNow() const override {
    return wall_at_start_ + absl::FromChrono(std::chrono::steady_clock::now() - steady_at_start_);
  }

 private:
  const absl::Time wall_at_start_;
  const std::chrono::steady_clock::time_point steady_at_start_;
};

}  // namespace dcdir::core

#endif  // DCDIR_SERVICE_CORE_CLOCK_H_

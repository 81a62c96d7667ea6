#ifndef DCDIR_CLIENT_CLOCK_H_
#define DCDIR_CLIENT_CLOCK_H_

// The client library reads the time and sleeps only through this interface, so tests can run
// cache expiry and retry backoff on a fake clock without sleeping.

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace dcdir::client {

class Clock {
 public:
  virtual ~Clock() = default;
  // Current wall-clock time.
  virtual absl::Time Now() const = 0;
  // Blocks the caller for `d` (a fake clock just advances).
  virtual void SleepFor(absl::Duration d) const = 0;
};

// The real wall clock.
class RealClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
  void SleepFor(absl::Duration d) const override { absl::SleepFor(d); }
};

}  // namespace dcdir::client

#endif  // DCDIR_CLIENT_CLOCK_H_

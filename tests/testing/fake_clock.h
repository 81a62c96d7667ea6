#ifndef DCDIR_TESTS_TESTING_FAKE_CLOCK_H_
#define DCDIR_TESTS_TESTING_FAKE_CLOCK_H_

#include <mutex>

#include "absl/base/thread_annotations.h"
#include "service/core/clock.h"

namespace dcdir::testing {

// A clock that only moves when a test moves it. Thread-safe. Advance() moves both readings
// (time passing); StepWall() moves only the wall clock (an NTP or operator step).
class FakeClock final : public core::Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1'800'000'000))
      : wall_(start), monotonic_(start) {}
  absl::Time Now() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return wall_;
  }
  absl::Time MonotonicNow() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return monotonic_;
  }
  void Advance(absl::Duration d) {
    std::lock_guard<std::mutex> lock(mu_);
    wall_ += d;
    monotonic_ += d;
  }
  // Steps the wall clock only (may be negative).
  void StepWall(absl::Duration d) {
    std::lock_guard<std::mutex> lock(mu_);
    wall_ += d;
  }
  // Sets both readings to `t` (a fresh start; not a step).
  void Set(absl::Time t) {
    std::lock_guard<std::mutex> lock(mu_);
    wall_ = t;
    monotonic_ = t;
  }

 private:
  mutable std::mutex mu_;
  absl::Time wall_ ABSL_GUARDED_BY(mu_);
  absl::Time monotonic_ ABSL_GUARDED_BY(mu_);
};

}  // namespace dcdir::testing

#endif  // DCDIR_TESTS_TESTING_FAKE_CLOCK_H_

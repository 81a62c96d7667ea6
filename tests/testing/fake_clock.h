#ifndef DCDIR_TESTS_TESTING_FAKE_CLOCK_H_
#define DCDIR_TESTS_TESTING_FAKE_CLOCK_H_

#include "absl/synchronization/mutex.h"
#include "service/core/clock.h"

namespace dcdir::testing {

// A clock that only moves when a test advances it. Thread-safe.
class FakeClock final : public core::Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1'800'000'000)) : now_(start) {}
  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }
  void Set(absl::Time t) {
    absl::MutexLock lock(&mu_);
    now_ = t;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace dcdir::testing

#endif  // DCDIR_TESTS_TESTING_FAKE_CLOCK_H_

#ifndef DCDIR_TESTS_TESTING_POLL_H_
#define DCDIR_TESTS_TESTING_POLL_H_

// Bounded polling of asynchronous effects (the one polling helper of the tests).

#include <functional>
#include <optional>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace dcdir::testing {

// Calls `done` every `every` until it returns true or `timeout` passed; returns the time it
// took (nullopt on timeout).
inline std::optional<absl::Duration> PollUntil(const std::function<bool()>& done,
                                               absl::Duration timeout,
                                               absl::Duration every = absl::Milliseconds(5)) {
  const absl::Time start = absl::Now();
  for (;;) {
    if (done()) return absl::Now() - start;
    if (absl::Now() - start > timeout) return std::nullopt;
    absl::SleepFor(every);
  }
}

}  // namespace dcdir::testing

#endif  // DCDIR_TESTS_TESTING_POLL_H_

#ifndef DCDIR_SERVICE_CORE_TOKEN_BUCKET_H_
#define DCDIR_SERVICE_CORE_TOKEN_BUCKET_H_

#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"

namespace dcdir::core {

// A thread-safe token bucket: `rate` tokens per second, at most `burst` saved up.
// Time is passed in (Clock::MonotonicNow(): a wall-clock step must not refill or drain it),
// so tests drive it by hand.
class TokenBucket {
 public:
  TokenBucket(double rate, double burst) : rate_(rate), burst_(burst), tokens_(burst) {}
  // Takes one token if there is one at `now`.
  bool TryTake(absl::Time now) {
    std::lock_guard<std::mutex> lock(mu_);
    if (last_ != absl::InfinitePast() && now > last_) {
      tokens_ += absl::ToDoubleSeconds(now - last_) * rate_;
      if (tokens_ > burst_) tokens_ = burst_;
    }
    if (now > last_) last_ = now;
    if (tokens_ < 1) return false;
    tokens_ -= 1;
    return true;
  }

 private:
  const double rate_;
  const double burst_;
  std::mutex mu_;
  double tokens_ ABSL_GUARDED_BY(mu_);
  absl::Time last_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace dcdir::core

#endif  // DCDIR_SERVICE_CORE_TOKEN_BUCKET_H_

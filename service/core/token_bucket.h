#ifndef DCDIR_SERVICE_CORE_TOKEN_BUCKET_H_
#define DCDIR_SERVICE_CORE_TOKEN_BUCKET_H_

#include <cstddef>
#include <memory>
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

// Token buckets per key (a client address) in a fixed table of `slots` buckets: a key uses
// bucket hash(key) % slots. Memory is bounded whatever the number of keys (an attacker with many
// addresses cannot grow it); two keys that share a slot share a limit (with 4096 slots, one in
// 4096 innocent clients shares its bucket with a given flooding address).
class KeyedTokenBuckets {
 public:
  KeyedTokenBuckets(double rate, double burst, size_t slots = 4096)
      : slots_(slots), buckets_(std::make_unique<std::unique_ptr<TokenBucket>[]>(slots)) {
    for (size_t i = 0; i < slots_; ++i) buckets_[i] = std::make_unique<TokenBucket>(rate, burst);
  }
  // Takes one token from `key_hash`'s bucket if there is one at `now`.
  bool TryTake(size_t key_hash, absl::Time now) {
    return buckets_[key_hash % slots_]->TryTake(now);
  }

 private:
  const size_t slots_;
  std::unique_ptr<std::unique_ptr<TokenBucket>[]> buckets_;
};

}  // namespace dcdir::core

#endif  // DCDIR_SERVICE_CORE_TOKEN_BUCKET_H_

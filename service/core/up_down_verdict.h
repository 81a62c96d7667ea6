#ifndef DCDIR_SERVICE_CORE_UP_DOWN_VERDICT_H_
#define DCDIR_SERVICE_CORE_UP_DOWN_VERDICT_H_

// The up/down verdict on a dependency (the shared store), from the outcomes of its round trips:
// hysteresis plus flap damping, so that a lossy link gives a steady verdict.
//
// - Down after `down_after` consecutive failures (or at once, ForceDown).
// - Up after `up_after` consecutive successes, where `up_after` doubles each time the verdict
//   goes down within `flap_window` of its last going up (at most `max_up_after`), and is back to
//   its base once the verdict stayed up for `flap_window`. A link that keeps flapping must prove
//   itself for longer each time: the idea of BGP route flap damping (RFC 2439), with the
//   penalty counted in successes rather than seconds.
//
// Pure; `now` is a monotonic time (a wall-clock step must not shorten a window).

#include <algorithm>
#include <optional>

#include "absl/time/time.h"

namespace dcdir::core {

class UpDownVerdict {
 public:
  struct Options {
    int down_after = 2;    // >= 1
    int up_after = 2;      // >= 1: the base
    int max_up_after = 32; // >= up_after: the cap of the doubling
    absl::Duration flap_window = absl::Seconds(30);
  };

  UpDownVerdict(Options options, bool up) : options_(options), up_(up) {
    needed_ = options_.up_after;
  }

  bool up() const { return up_; }
  // Consecutive successes needed, now, to go up.
  int successes_needed() const { return needed_; }
  int failures() const { return failures_; }
  int successes() const { return successes_; }

  // One failed round trip; true when the verdict just went down.
  bool RecordFailure(absl::Time now) {
    successes_ = 0;
    ++failures_;
    return up_ && failures_ >= options_.down_after && GoDown(now);
  }
  // Down at once, whatever the count (a node that says it cannot serve); true when it went down.
  bool ForceDown(absl::Time now) {
    successes_ = 0;
    failures_ = std::max(failures_, options_.down_after);
    return up_ && GoDown(now);
  }
  // One good round trip; true when the verdict just went up.
  bool RecordSuccess(absl::Time now) {
    failures_ = 0;
    if (up_) {
      if (went_up_at_ && now - *went_up_at_ >= options_.flap_window) needed_ = options_.up_after;
      return false;
    }
    if (++successes_ < needed_) return false;
    up_ = true;
    went_up_at_ = now;
    return true;
  }

 private:
  bool GoDown(absl::Time now) {
    up_ = false;
    successes_ = 0;
    if (went_up_at_ && now - *went_up_at_ < options_.flap_window) {
      needed_ = std::min(needed_ * 2, options_.max_up_after);
    } else {
      needed_ = options_.up_after;
    }
    return true;
  }

  Options options_;
  bool up_;
  int failures_ = 0;
  int successes_ = 0;
  int needed_ = 0;
  std::optional<absl::Time> went_up_at_;  // when it last went up (not at construction)
};

}  // namespace dcdir::core

#endif  // DCDIR_SERVICE_CORE_UP_DOWN_VERDICT_H_

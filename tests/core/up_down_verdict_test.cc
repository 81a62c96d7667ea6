#include "service/core/up_down_verdict.h"

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace dcdir::core {
namespace {

const absl::Time kStart = absl::UnixEpoch() + absl::Hours(1);

UpDownVerdict::Options Defaults() {
  return {.down_after = 2, .up_after = 2, .max_up_after = 8, .flap_window = absl::Seconds(30)};
}

TEST(UpDownVerdictTest, DownAfterConsecutiveFailuresOnly) {
  UpDownVerdict v(Defaults(), /*up=*/true);
  EXPECT_FALSE(v.RecordFailure(kStart));
  EXPECT_FALSE(v.RecordSuccess(kStart));  // breaks the run
  EXPECT_FALSE(v.RecordFailure(kStart));
  EXPECT_TRUE(v.up());
  EXPECT_TRUE(v.RecordFailure(kStart));   // the second in a row
  EXPECT_FALSE(v.up());
  EXPECT_FALSE(v.RecordFailure(kStart));  // already down: no change
}

TEST(UpDownVerdictTest, UpAfterConsecutiveSuccessesAndForceDownIsImmediate) {
  UpDownVerdict v(Defaults(), /*up=*/false);
  EXPECT_FALSE(v.RecordSuccess(kStart));
  EXPECT_FALSE(v.RecordFailure(kStart));  // breaks the run
  EXPECT_FALSE(v.RecordSuccess(kStart));
  EXPECT_TRUE(v.RecordSuccess(kStart));
  EXPECT_TRUE(v.up());
  EXPECT_TRUE(v.ForceDown(kStart + absl::Minutes(1)));
  EXPECT_FALSE(v.up());
  EXPECT_EQ(v.successes_needed(), 2) << "it had stayed up longer than the flap window";
}

// Each return within the flap window doubles the good round trips needed (2, 4, 8, then capped
// at 8); a verdict that stayed up for the window is back to the base.
TEST(UpDownVerdictTest, FlappingDoublesTheProofNeededUpToTheCapAndAStableRunResetsIt) {
  UpDownVerdict v(Defaults(), /*up=*/false);
  absl::Time now = kStart;
  auto come_up = [&](int successes) {
    for (int i = 0; i < successes - 1; ++i) EXPECT_FALSE(v.RecordSuccess(now)) << i;
    EXPECT_TRUE(v.RecordSuccess(now));
  };
  come_up(2);
  for (int expected : {4, 8, 8}) {
    now += absl::Seconds(1);
    EXPECT_TRUE(v.ForceDown(now));
    EXPECT_EQ(v.successes_needed(), expected);
    come_up(expected);
  }
  now += absl::Seconds(31);
  EXPECT_FALSE(v.RecordSuccess(now));  // still up, past the window
  EXPECT_EQ(v.successes_needed(), 2);
  EXPECT_TRUE(v.RecordFailure(now) || v.RecordFailure(now));
  EXPECT_EQ(v.successes_needed(), 2);
}

// 30% of round trips lost at random, for 60 s of 4 probes a second. The plain 2/2 hysteresis
// flips all along; with damping the proof needed doubles (2, 4, 8, 16, ...) until the link
// cannot give it, and the verdict settles (down: the link is too lossy to trust) before the
// last quarter.
TEST(UpDownVerdictTest, ALossyLinkSettlesInsteadOfFlapping) {
  struct Flips {
    int total = 0, last_quarter = 0;
  };
  auto run = [](UpDownVerdict::Options options) {
    UpDownVerdict v(options, /*up=*/true);
    uint64_t state = 12345;  // a fixed LCG: the same sequence every run
    Flips f;
    for (int i = 0; i < 240; ++i) {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      const bool lost = (state >> 33) % 100 < 30;
      const absl::Time now = kStart + i * absl::Milliseconds(250);
      const bool changed = lost ? v.RecordFailure(now) : v.RecordSuccess(now);
      f.total += changed;
      f.last_quarter += changed && i >= 180;
    }
    return f;
  };
  UpDownVerdict::Options plain = Defaults();
  plain.max_up_after = plain.up_after;  // no damping
  UpDownVerdict::Options damped = Defaults();
  damped.max_up_after = 32;
  const Flips p = run(plain), d = run(damped);
  EXPECT_GE(p.last_quarter, 3) << "without damping it flaps all along (" << p.total << " flips)";
  EXPECT_EQ(d.last_quarter, 0) << "with damping it settles (" << d.total << " flips in all)";
  EXPECT_LE(d.total, 8);
}

}  // namespace
}  // namespace dcdir::core

#include "service/core/health.h"

#include <optional>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "service/core/model.h"
#include "tests/core/core_test_util.h"
#include "tests/testing/fake_clock.h"

namespace dcdir::core {
namespace {

const Thresholds kT;  // enter 0.85, exit 0.70, default TTL 30 s, max 1 h

TEST(HysteresisTest, EntersAtEnterThreshold) {
  EXPECT_FALSE(NextCongested(false, 0.0, kT));
  EXPECT_FALSE(NextCongested(false, 0.849, kT));
  EXPECT_TRUE(NextCongested(false, 0.85, kT));
  EXPECT_TRUE(NextCongested(false, 1.0, kT));
}

TEST(HysteresisTest, LeavesBelowExitThreshold) {
  EXPECT_TRUE(NextCongested(true, 0.70, kT));
  EXPECT_FALSE(NextCongested(true, 0.699, kT));
  EXPECT_FALSE(NextCongested(true, 0.0, kT));
}

TEST(HysteresisTest, InBetweenKeepsThePreviousState) {
  EXPECT_TRUE(NextCongested(true, 0.75, kT));
  EXPECT_FALSE(NextCongested(false, 0.75, kT));
  EXPECT_TRUE(NextCongested(true, 0.84, kT));
  EXPECT_FALSE(NextCongested(false, 0.84, kT));
}

TEST(HysteresisTest, UsesConfiguredThresholds) {
  Thresholds t;
  t.congestion_enter = 0.5;
  t.congestion_exit = 0.2;
  EXPECT_TRUE(NextCongested(false, 0.5, t));
  EXPECT_TRUE(NextCongested(true, 0.2, t));
  EXPECT_FALSE(NextCongested(true, 0.19, t));
}

TEST(AcceptReportTest, ZeroTtlMeansDefault) {
  HealthRecord r = AcceptReport(std::nullopt, HealthStatus::kHealthy, 0.3, absl::ZeroDuration(),
                                kT0, kT);
  EXPECT_EQ(r.status, HealthStatus::kHealthy);
  EXPECT_EQ(r.congestion, 0.3);
  EXPECT_FALSE(r.congested);
  EXPECT_EQ(r.reported_at, kT0);
  EXPECT_EQ(r.expires_at, kT0 + absl::Seconds(30));
}

TEST(AcceptReportTest, GivenTtlIsUsedAndCappedAtMax) {
  EXPECT_EQ(AcceptReport(std::nullopt, HealthStatus::kDown, 0, absl::Seconds(7), kT0, kT)
                .expires_at,
            kT0 + absl::Seconds(7));
  EXPECT_EQ(AcceptReport(std::nullopt, HealthStatus::kDown, 0, absl::Hours(5), kT0, kT)
                .expires_at,
            kT0 + absl::Hours(1));
}

TEST(AcceptReportTest, HysteresisFromUnexpiredPreviousRecord) {
  const HealthRecord congested = AcceptReport(std::nullopt, HealthStatus::kHealthy, 0.9,
                                              absl::Seconds(30), kT0, kT);
  ASSERT_TRUE(congested.congested);
  // 0.75 is between exit and enter: stays congested while the previous record is alive.
  EXPECT_TRUE(AcceptReport(congested, HealthStatus::kHealthy, 0.75, absl::Seconds(30),
                           kT0 + absl::Seconds(29), kT)
                  .congested);
  // At or after the previous record's expiry, the state starts from "not congested".
  EXPECT_FALSE(AcceptReport(congested, HealthStatus::kHealthy, 0.75, absl::Seconds(30),
                            kT0 + absl::Seconds(30), kT)
                   .congested);
  // Leaving below exit.
  EXPECT_FALSE(AcceptReport(congested, HealthStatus::kHealthy, 0.69, absl::Seconds(30),
                            kT0 + absl::Seconds(1), kT)
                   .congested);
  // A non-congested previous record does not make 0.75 congested.
  const HealthRecord calm = AcceptReport(std::nullopt, HealthStatus::kHealthy, 0.5,
                                         absl::Seconds(30), kT0, kT);
  EXPECT_FALSE(AcceptReport(calm, HealthStatus::kHealthy, 0.75, absl::Seconds(30),
                            kT0 + absl::Seconds(1), kT)
                   .congested);
}

TEST(HealthTtlTest, UsableBeforeExpiryUnknownAfter) {
  testing::FakeClock clock(kT0);
  const HealthRecord r = AcceptReport(std::nullopt, HealthStatus::kHealthy, 0.1,
                                      absl::Seconds(10), clock.Now(), kT);
  EXPECT_EQ(EffectiveStatus(r, clock.Now()), HealthStatus::kHealthy);
  EXPECT_TRUE(IsUsable(r, clock.Now()));
  clock.Advance(absl::Seconds(10) - absl::Nanoseconds(1));
  EXPECT_TRUE(IsUsable(r, clock.Now()));
  clock.Advance(absl::Nanoseconds(1));
  EXPECT_EQ(EffectiveStatus(r, clock.Now()), HealthStatus::kUnknown);
  EXPECT_FALSE(IsUsable(r, clock.Now()));
}

TEST(HealthTtlTest, OnlyHealthyIsUsable) {
  EXPECT_FALSE(IsUsable(Record(HealthStatus::kDraining), kT0));
  EXPECT_EQ(EffectiveStatus(Record(HealthStatus::kDraining), kT0), HealthStatus::kDraining);
  EXPECT_FALSE(IsUsable(Record(HealthStatus::kDown), kT0));
  EXPECT_EQ(EffectiveStatus(Record(HealthStatus::kDown), kT0), HealthStatus::kDown);
  EXPECT_TRUE(IsUsable(Record(HealthStatus::kHealthy), kT0));
  // A default record (never reported) is unknown.
  EXPECT_EQ(EffectiveStatus(HealthRecord{}, kT0), HealthStatus::kUnknown);
  EXPECT_FALSE(IsUsable(HealthRecord{}, kT0));
}

}  // namespace
}  // namespace dcdir::core

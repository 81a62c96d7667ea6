#include "service/core/ranking.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace dcdir::core {
namespace {

// Pinned values: a change of the hash changes every client's order on upgrade, which must be
// a deliberate decision (these were computed by an independent Python implementation of
// FNV-1a 64 + the splitmix64 finaliser).
TEST(StableHashTest, FixedValues) {
  EXPECT_EQ(StableHash64(""), 0xf52a15e9a9b5e89bULL);
  EXPECT_EQ(StableHash64("a"), 0x02c0bdbf481420f8ULL);
  EXPECT_EQ(StableHash64("us-sjc"), 0x98ac811cd7580dfdULL);
  EXPECT_EQ(StableHash64("client-42"), 0x08fa643e5dba671dULL);
}

TEST(HeadroomWeightTest, CapacityTimesHeadroomWithFloor) {
  EXPECT_DOUBLE_EQ(HeadroomWeight(1000, 0.0), 1000.0);
  EXPECT_DOUBLE_EQ(HeadroomWeight(1000, 0.25), 750.0);
  EXPECT_DOUBLE_EQ(HeadroomWeight(1000, 0.99), 50.0);  // floor 0.05
  EXPECT_DOUBLE_EQ(HeadroomWeight(1000, 1.0), 50.0);
  EXPECT_DOUBLE_EQ(HeadroomWeight(1000, std::numeric_limits<double>::quiet_NaN()), 50.0);
  EXPECT_DOUBLE_EQ(HeadroomWeight(0, 0.0), 1.0);  // always > 0
}

// The inverse of the splitmix64 finaliser, to build hashes that hit the extremes of u.
uint64_t UnxorShift(uint64_t z, int s) {
  uint64_t x = z;
  for (int k = s; k < 64; k += s) x = z ^ (x >> s);
  return x;
}
uint64_t InverseOdd(uint64_t c) {
  uint64_t inv = c;
  for (int k = 0; k < 6; ++k) inv *= 2 - c * inv;
  return inv;
}
uint64_t Unmix64(uint64_t z) {
  z = UnxorShift(z, 31);
  z *= InverseOdd(0x94d049bb133111ebULL);
  z = UnxorShift(z, 27);
  z *= InverseOdd(0xbf58476d1ce4e5b9ULL);
  z = UnxorShift(z, 30);
  return z;
}

TEST(RendezvousScoreTest, ExtremesOfUStayFiniteAndPositive) {
  // dc_hash 0: the mixed hash is Mix64(client_hash). Mix64(0) == 0 -> smallest u = 2^-53.
  const double lowest = RendezvousScore(0, 0, 1.0);
  EXPECT_DOUBLE_EQ(lowest, 1.0 / (53 * std::log(2.0)));
  // Mixed hash all ones -> largest u = 1 - 2^-53 (never 1: the score stays finite).
  const double highest = RendezvousScore(Unmix64(~uint64_t{0}), 0, 1.0);
  EXPECT_TRUE(std::isfinite(highest));
  EXPECT_GT(highest, 1e15);
}

TEST(RendezvousScoreTest, DeterministicAndLinearInWeight) {
  const uint64_t c = StableHash64("client-1");
  const uint64_t d = StableHash64("us-den");
  EXPECT_EQ(RendezvousScore(c, d, 3.0), RendezvousScore(c, d, 3.0));
  EXPECT_DOUBLE_EQ(RendezvousScore(c, d, 6.0), 2 * RendezvousScore(c, d, 3.0));
  EXPECT_GT(RendezvousScore(c, d, 1.0), 0.0);
  EXPECT_NE(RendezvousScore(c, d, 1.0), RendezvousScore(c, StableHash64("us-sjc"), 1.0));
}

// Over 20,000 client ids, the share of first places of each DC is within 2 points of its
// weight share (binomial standard deviation here is < 0.35 points).
TEST(RendezvousScoreTest, FirstPlacesFollowWeights) {
  const std::vector<std::string> ids = {"dc-a", "dc-b", "dc-c", "dc-d"};
  const std::vector<double> weights = {100, 200, 300, 400};
  std::vector<uint64_t> hashes;
  for (const auto& id : ids) hashes.push_back(StableHash64(id));
  std::vector<int> first(ids.size(), 0);
  const int kClients = 20000;
  for (int k = 0; k < kClients; ++k) {
    const uint64_t c = StableHash64(absl::StrCat("client-", k));
    size_t best = 0;
    double best_score = -1;
    for (size_t i = 0; i < ids.size(); ++i) {
      const double s = RendezvousScore(c, hashes[i], weights[i]);
      if (s > best_score) best_score = s, best = i;
    }
    ++first[best];
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_NEAR(static_cast<double>(first[i]) / kClients, weights[i] / 1000.0, 0.02) << ids[i];
  }
}

TEST(DistanceTest, KnownDistances) {
  EXPECT_NEAR(DistanceKm({37.34, -121.89}, {40.71, -74.01}), 4101.8, 1.0);  // SJC - NYC
  EXPECT_DOUBLE_EQ(DistanceKm({10, 20}, {10, 20}), 0.0);
  EXPECT_NEAR(DistanceKm({0, 0}, {0, 180}), 3.14159265358979 * 6371.0088, 1.0);
  EXPECT_DOUBLE_EQ(DistanceKm({1, 2}, {3, 4}), DistanceKm({3, 4}, {1, 2}));
}

}  // namespace
}  // namespace dcdir::core

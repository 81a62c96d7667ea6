// Golden answers of the example world for requests without a location, subdivision or observed
// RTTs: recorded from the ranking before issue 13 (rendezvous hashing on headroom only) and
// pinned here, so that such requests keep getting exactly the answers they got before.
//
// The digest covers every mapped country plus two unmapped ones, 3 tenants, 40 client ids and
// four health states (all healthy; US down; a congested DC in every region; eu-ams draining):
// the DC ids of primaries and secondaries in order, with their congested/cross-border flags,
// fallback_active and the error.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "service/core/answer.h"
#include "service/core/ranking.h"
#include "tests/core/core_test_util.h"
#include "tests/core/legacy_answer.h"
#include "tests/testing/example_world.h"

namespace dcdir::core {
namespace {

std::string Describe(const Topology& t, const Answer& a) {
  std::string s = absl::StrCat(static_cast<int>(a.error), "|");
  for (const Pick& p : a.primaries) absl::StrAppend(&s, t.dc(p.dc).id, p.congested, p.cross_border, ",");
  absl::StrAppend(&s, "|");
  for (const Pick& p : a.secondaries) absl::StrAppend(&s, t.dc(p.dc).id, p.congested, p.cross_border, ",");
  absl::StrAppend(&s, "|", a.fallback_active, a.secondary_attempts, "\n");
  return s;
}

// Returns (digest, number of answers, text of the first few answers).
std::string Digest(uint64_t* count, std::string* sample, bool legacy) {
  const World world = testing::ExampleWorld();
  auto topo = MustCompile(world);
  std::vector<std::string> countries;
  for (const auto& [c, r] : world.countries) countries.push_back(c);
  countries.push_back("RU");
  countries.push_back("ZA");
  const std::vector<std::string> tenants = {"", "acme", "globex"};
  std::string all;
  for (int state = 0; state < 4; ++state) {
    HealthMap health;
    for (const DataCenter& dc : world.datacenters) health[dc.id] = Record(HealthStatus::kHealthy);
    if (state == 1) {
      for (const char* id : {"us-sjc", "us-den", "us-nyc", "us-iad"}) health[id].status = HealthStatus::kDown;
    }
    if (state == 2) {
      for (const char* id : {"us-nyc", "ca-yyz", "br-gru", "eu-fra", "in-bom", "jp-tyo", "au-syd", "cn-sha"}) {
        health[id].congestion = 0.9;
        health[id].congested = true;
      }
      health["us-den"].congestion = 0.8;  // high, not congested
    }
    if (state == 3) health["eu-ams"].status = HealthStatus::kDraining;
    auto snap = BuildSnapshot(topo, health, CompileTenants(*topo, testing::ExampleTenants()), 1,
                              kT0 + absl::Seconds(1), false);
    for (const std::string& c : countries) {
      for (const std::string& t : tenants) {
        for (int k = 0; k < 40; ++k) {
          const std::string client = k == 0 ? "" : absl::StrCat("client-", k * 7919);
          const AnswerRequest req{c, t, client, static_cast<uint32_t>(k % 4)};
          const Answer a = legacy ? legacy::LegacyComputeAnswer(*snap, req) : ComputeAnswer(*snap, req);
          all += absl::StrCat(c, "/", t, "/", client, "/", k % 4, ": ", Describe(*topo, a));
          ++*count;
        }
      }
    }
  }
  *sample = all.substr(0, 2000);
  return absl::StrCat(absl::Hex(StableHash64(all), absl::kZeroPad16));
}

TEST(GoldenAnswerTest, ExampleWorldWithoutLocationIsUnchanged) {
  uint64_t count = 0;
  std::string sample;
  const std::string digest = Digest(&count, &sample, /*legacy=*/false);
  EXPECT_EQ(count, 4u * 61 * 3 * 40);
  // Recorded from the ranking before issue 13 (commit aa76bf1).
  EXPECT_EQ(digest, "80d2d66d6fcef672") << sample;
}

TEST(GoldenAnswerTest, FrozenLegacyCopyGivesTheSameDigest) {
  uint64_t count = 0;
  std::string sample;
  EXPECT_EQ(Digest(&count, &sample, /*legacy=*/true), Digest(&count, &sample, false));
}

}  // namespace
}  // namespace dcdir::core

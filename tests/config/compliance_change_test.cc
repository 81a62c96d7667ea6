// The compliance ratchet as the reload and --check_config see it
// (service/config/compliance_change.h): acknowledgement and the log summary.

#include "service/config/compliance_change.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/example_world.h"

namespace dcdir::core {
namespace {

using ::testing::HasSubstr;

std::shared_ptr<const Topology> Compile(World w, const std::string& version) {
  w.version = version;
  auto t = Topology::Compile(std::move(w));
  EXPECT_TRUE(t.ok()) << t.status();
  return *t;
}

TEST(ComplianceChangeTest, AcknowledgementMustNameTheServedVersion) {
  World w = testing::ExampleWorld();
  w.deny_rules.erase(w.deny_rules.begin());
  const auto served = Compile(testing::ExampleWorld(), "00000000000000aa");
  w.allow_loosening_from = "00000000000000bb";
  const auto stale_ack = Compile(w, "0000000000000002");
  const config::ComplianceChange refused = config::CompareCompliance(*served, *stale_ack);
  EXPECT_FALSE(refused.acknowledged);
  EXPECT_TRUE(refused.refused());
  // 33 client keys outside cn (27 of countries, plus the world's 6 subdivisions) x the 2 cn
  // DCs that cn-sovereign denied them.
  EXPECT_THAT(config::LooseningSummary(*served, *stale_ack, refused, 2),
              HasSubstr("allows 66 (client, DC) pairs that the served config (version "
                        "00000000000000aa) denies: PR -> cn-pek (rule cn-sovereign removed), PR "
                        "-> cn-sha (rule cn-sovereign removed), and 64 more; its "
                        "allow_loosening_from names 00000000000000bb, not the served version; "
                        "to apply it on purpose, add \"allow_loosening_from: 00000000000000aa\""));
  w.allow_loosening_from = "00000000000000aa";
  const auto acked = Compile(w, "0000000000000003");
  const config::ComplianceChange applied = config::CompareCompliance(*served, *acked);
  EXPECT_TRUE(applied.acknowledged);
  EXPECT_FALSE(applied.refused());
}

}  // namespace
}  // namespace dcdir::core

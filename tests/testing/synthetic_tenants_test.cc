// The benchmarks' synthetic tenant shape, pinned: their figures are comparable across runs and
// across benchmarks only while tenant i stays the same tenant.

#include "tests/testing/synthetic_tenants.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace dcdir::testing {
namespace {

const std::vector<std::string> kRegions = {"eu", "jp", "us"};

void ExpectShape(const TenantShape& t, const std::string& id, const std::string& home,
                 const std::vector<std::string>& allowed) {
  EXPECT_EQ(t.id, id);
  EXPECT_EQ(t.home_region, home);
  EXPECT_EQ(t.allowed_regions, allowed);
}

TEST(SyntheticTenantTest, HomeRoundRobinEveryThirdAllowsTheNextRegion) {
  ExpectShape(SyntheticTenant(0, kRegions), "tenant-000000", "eu", {"jp"});
  ExpectShape(SyntheticTenant(1, kRegions), "tenant-000001", "jp", {});
  ExpectShape(SyntheticTenant(2, kRegions), "tenant-000002", "us", {});
  ExpectShape(SyntheticTenant(3, kRegions), "tenant-000003", "eu", {"jp"});
  ExpectShape(SyntheticTenant(5, {"a", "b"}), "tenant-000005", "b", {});
  ExpectShape(SyntheticTenant(99999, {"a", "b"}), "tenant-099999", "b", {"a"});  // wraps
  ExpectShape(SyntheticTenant(4, {"only"}), "tenant-000004", "only", {});
  ExpectShape(SyntheticTenant(6, {"only"}), "tenant-000006", "only", {"only"});
}

TEST(SyntheticTenantTest, FlippedAllowsTheNextRegionWhateverI) {
  ExpectShape(SyntheticTenant(1, kRegions, true), "tenant-000001", "jp", {"us"});
  ExpectShape(SyntheticTenant(2, kRegions, true), "tenant-000002", "us", {"eu"});
  ExpectShape(SyntheticTenant(3, kRegions, true), "tenant-000003", "eu", {"jp"});  // unchanged
}

TEST(SyntheticTenantTest, IdsHaveAtLeastSixDigits) {
  EXPECT_EQ(SyntheticTenantId(0), "tenant-000000");
  EXPECT_EQ(SyntheticTenantId(42), "tenant-000042");
  EXPECT_EQ(SyntheticTenantId(123456), "tenant-123456");
  EXPECT_EQ(SyntheticTenantId(1000000), "tenant-1000000");
}

}  // namespace
}  // namespace dcdir::testing

// core::TenantsAfter: pages of the stored tenant policies in id order, positioned by id.

#include "service/core/tenant_page.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/core/core_test_util.h"
#include "tests/testing/example_world.h"

namespace dcdir::core {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::string> Ids(const TenantPage& page) {
  std::vector<std::string> out;
  for (const CompiledTenant* t : page.tenants) out.push_back(t->policy.tenant_id);
  return out;
}

class TenantPageTest : public ::testing::Test {
 protected:
  std::shared_ptr<const Topology> topo_ = MustCompile(testing::ExampleWorld());
  std::shared_ptr<const TenantTable> Tenants(const std::vector<std::string>& ids) {
    std::vector<TenantPolicy> policies;
    for (const std::string& id : ids) policies.push_back({id, "us", {}, absl::InfinitePast()});
    return CompileTenants(*topo_, policies);
  }
};

TEST_F(TenantPageTest, PagesInByteOrderUntilTheLast) {
  // Byte order: upper case before lower case, '-' and '.' before digits.
  auto tenants = Tenants({"zeta", "acme", "Beta", "acme-eu", "a.b", "9", "m"});
  TenantPage first = TenantsAfter(*tenants, "", 3);
  EXPECT_THAT(Ids(first), ElementsAre("9", "Beta", "a.b"));
  EXPECT_TRUE(first.more);
  TenantPage second = TenantsAfter(*tenants, "a.b", 3);
  EXPECT_THAT(Ids(second), ElementsAre("acme", "acme-eu", "m"));
  EXPECT_TRUE(second.more);
  TenantPage third = TenantsAfter(*tenants, "m", 3);
  EXPECT_THAT(Ids(third), ElementsAre("zeta"));
  EXPECT_FALSE(third.more);
}

TEST_F(TenantPageTest, AnExactlyFullLastPageSaysNoMore) {
  auto tenants = Tenants({"a", "b", "c", "d"});
  TenantPage page = TenantsAfter(*tenants, "b", 2);
  EXPECT_THAT(Ids(page), ElementsAre("c", "d"));
  EXPECT_FALSE(page.more);
}

// The position is a tenant id, not an offset: deleting or adding tenants before it between two
// calls neither repeats nor skips the ones after it.
TEST_F(TenantPageTest, ChangesBeforeThePositionDoNotShiftTheNextPage) {
  auto before = Tenants({"a", "b", "c", "d", "e"});  // the page points into it: keep it alive
  TenantPage first = TenantsAfter(*before, "", 2);
  ASSERT_THAT(Ids(first), ElementsAre("a", "b"));
  const std::string position = first.tenants.back()->policy.tenant_id;
  auto changed = Tenants({"aa", "c", "d", "e", "f"});  // a and b deleted, aa and f added
  TenantPage next = TenantsAfter(*changed, position, 2);
  EXPECT_THAT(Ids(next), ElementsAre("c", "d"));
  EXPECT_TRUE(next.more);
}

TEST_F(TenantPageTest, NoTenantsOrNothingAfterThePosition) {
  TenantPage none = TenantsAfter(*Tenants({}), "", 100);
  EXPECT_THAT(Ids(none), IsEmpty());
  EXPECT_FALSE(none.more);
  TenantPage past = TenantsAfter(*Tenants({"a", "b"}), "b", 100);
  EXPECT_THAT(Ids(past), IsEmpty());
  EXPECT_FALSE(past.more);
  TenantPage zero = TenantsAfter(*Tenants({"a"}), "", 0);
  EXPECT_THAT(Ids(zero), IsEmpty());
  EXPECT_TRUE(zero.more);
}

}  // namespace
}  // namespace dcdir::core

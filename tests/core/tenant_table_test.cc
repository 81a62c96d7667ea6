// TenantTable (service/core/tenant_table.h): lookups, copy-on-write edits that leave the base
// table untouched and share what they did not touch, and the orphan count kept by every edit.

#include "service/core/tenant_table.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/core/core_test_util.h"
#include "tests/testing/example_world.h"

namespace dcdir::core {
namespace {

using ::testing::ElementsAre;

class TenantTableTest : public ::testing::Test {
 protected:
  CompiledTenant Compile(const std::string& id, const std::string& home,
                         std::vector<std::string> allowed = {}) const {
    return CompileTenant(*topo_, {id, home, std::move(allowed), absl::InfinitePast()});
  }
  std::vector<std::string> AllowedDcs(const CompiledTenant& t) const {
    std::vector<std::string> out;
    for (uint32_t i = 0; i < topo_->dc_count(); ++i) {
      if (t.allowed.Contains(i)) out.push_back(topo_->dc(i).id);
    }
    return out;
  }

  std::shared_ptr<const Topology> topo_ = MustCompile(testing::ExampleWorld());
};

TEST_F(TenantTableTest, EmptyTable) {
  TenantTable empty;
  EXPECT_EQ(empty.size(), 0u);
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.Find("acme"), nullptr);
  EXPECT_EQ(empty.orphaned(), 0u);
  int visited = 0;
  empty.ForEach([&](const CompiledTenant&) { ++visited; });
  EXPECT_EQ(visited, 0);
}

TEST_F(TenantTableTest, CompileTenantKnownUnknownAndHomeOnly) {
  const CompiledTenant acme = Compile("acme", "us", {"ca"});
  EXPECT_THAT(AllowedDcs(acme),
              ElementsAre("us-sjc", "us-den", "us-nyc", "us-iad", "ca-yyz", "ca-yvr"));
  EXPECT_TRUE(acme.unknown_regions.empty());
  const CompiledTenant lost = Compile("lost", "atlantis", {"us", "mars"});
  EXPECT_TRUE(AllowedDcs(lost).empty());  // unknown home: fail closed
  EXPECT_THAT(lost.unknown_regions, ElementsAre("atlantis", "mars"));
  EXPECT_TRUE(lost.home_unknown());
  const CompiledTenant partial = Compile("partial", "ca", {"mars"});
  EXPECT_THAT(AllowedDcs(partial), ElementsAre("ca-yyz", "ca-yvr"));
  EXPECT_THAT(partial.unknown_regions, ElementsAre("mars"));
  EXPECT_FALSE(partial.home_unknown());
}

TEST_F(TenantTableTest, EditsMakeANewTableAndLeaveTheBaseUnchanged) {
  TenantTable::Editor first(nullptr);
  first.Put(Compile("acme", "us", {"ca"}));
  first.Put(Compile("globex", "jp"));
  const std::shared_ptr<const TenantTable> base = first.Finish();
  ASSERT_EQ(base->size(), 2u);

  TenantTable::Editor edit(base);
  edit.Put(Compile("acme", "eu"));  // replaced
  edit.Put(Compile("umbrella", "au"));  // added
  EXPECT_TRUE(edit.Erase("globex"));
  EXPECT_FALSE(edit.Erase("nobody"));
  ASSERT_NE(edit.Find("umbrella"), nullptr);
  const std::shared_ptr<const TenantTable> next = edit.Finish();

  EXPECT_EQ(base->size(), 2u);
  EXPECT_EQ(base->Find("acme")->policy.home_region, "us");
  EXPECT_NE(base->Find("globex"), nullptr);
  EXPECT_EQ(base->Find("umbrella"), nullptr);

  EXPECT_EQ(next->size(), 2u);
  EXPECT_EQ(next->Find("acme")->policy.home_region, "eu");
  EXPECT_EQ(next->Find("globex"), nullptr);
  EXPECT_EQ(next->Find("umbrella")->policy.home_region, "au");
  std::vector<std::string> ids;
  next->ForEach([&](const CompiledTenant& t) { ids.push_back(t.policy.tenant_id); });
  std::sort(ids.begin(), ids.end());
  EXPECT_THAT(ids, ElementsAre("acme", "umbrella"));
}

// The answer's hot path reads the allowed set from the map slot (FindAllowed, one step or
// started early by StartLookup); it must be the tenant's own set, follow every edit, and be
// absent for an id not stored.
TEST_F(TenantTableTest, FindAllowedIsTheTenantsSetThroughEveryEdit) {
  std::vector<std::string> regions;
  for (const auto& r : topo_->world().regions) regions.push_back(r.id);
  TenantTable::Editor first(nullptr);
  first.Put(Compile("acme", "us", {"ca"}));
  first.Put(Compile("globex", "jp"));
  for (int i = 0; i < 2000; ++i) first.Put(Compile(absl::StrCat("t", i), regions[i % regions.size()]));
  const std::shared_ptr<const TenantTable> base = first.Finish();
  auto dcs = [&](std::optional<DcSetView> set) {
    std::vector<std::string> out;
    if (!set.has_value()) return out;
    EXPECT_EQ(set->word_count(), (topo_->dc_count() + 63) / 64);
    for (uint32_t i = 0; i < topo_->dc_count(); ++i) {
      if (set->Contains(i)) out.push_back(topo_->dc(i).id);
    }
    return out;
  };
  EXPECT_EQ(dcs(base->FindAllowed("acme")), AllowedDcs(*base->Find("acme")));
  EXPECT_THAT(dcs(base->FindAllowed("globex")), ElementsAre("jp-tyo", "jp-osa"));
  EXPECT_EQ(dcs(base->FindAllowed(base->StartLookup("acme"))), AllowedDcs(*base->Find("acme")));
  EXPECT_FALSE(base->FindAllowed("nobody").has_value());
  EXPECT_FALSE(base->FindAllowed(base->StartLookup("nobody")).has_value());
  EXPECT_FALSE(TenantTable().FindAllowed(TenantTable().StartLookup("acme")).has_value());
  for (int i = 0; i < 2000; i += 97) {
    const std::string id = absl::StrCat("t", i);
    EXPECT_EQ(dcs(base->FindAllowed(base->StartLookup(id))), AllowedDcs(*base->Find(id))) << id;
  }

  TenantTable::Editor edit(base);
  edit.Put(Compile("acme", "jp"));
  EXPECT_TRUE(edit.Erase("globex"));
  const std::shared_ptr<const TenantTable> next = edit.Finish();
  EXPECT_THAT(dcs(next->FindAllowed("acme")), ElementsAre("jp-tyo", "jp-osa"));
  EXPECT_FALSE(next->FindAllowed(next->StartLookup("globex")).has_value());
  EXPECT_EQ(dcs(base->FindAllowed("acme")), AllowedDcs(*base->Find("acme")));  // base unchanged
}

TEST_F(TenantTableTest, AnEditSharesEveryUntouchedTenant) {
  std::vector<TenantPolicy> policies;
  for (int i = 0; i < 5000; ++i) {
    policies.push_back({absl::StrCat("t", i), "us", {"ca"}, absl::InfinitePast()});
  }
  const std::shared_ptr<const TenantTable> base = CompileTenants(*topo_, policies);
  ASSERT_EQ(base->size(), 5000u);
  TenantTable::Editor edit(base);
  edit.Put(Compile("t17", "jp"));
  const std::shared_ptr<const TenantTable> next = edit.Finish();
  int shared = 0, different = 0;
  for (int i = 0; i < 5000; ++i) {
    const std::string id = absl::StrCat("t", i);
    (base->Find(id) == next->Find(id) ? shared : different) += 1;
  }
  EXPECT_EQ(shared, 4999);  // the very same compiled object, not a copy
  EXPECT_EQ(different, 1);
  EXPECT_EQ(next->Find("t17")->policy.home_region, "jp");
  EXPECT_EQ(base->Find("t17")->policy.home_region, "us");
}

TEST_F(TenantTableTest, FinishWithoutEditsReturnsTheBase) {
  const std::shared_ptr<const TenantTable> base = CompileTenants(*topo_, testing::ExampleTenants());
  TenantTable::Editor edit(base);
  EXPECT_FALSE(edit.Erase("nobody"));
  EXPECT_EQ(edit.Finish(), base);
  TenantTable::Editor none(nullptr);
  const std::shared_ptr<const TenantTable> empty = none.Finish();
  ASSERT_NE(empty, nullptr);
  EXPECT_TRUE(empty->empty());
}

TEST_F(TenantTableTest, OrphanCountFollowsEveryEdit) {
  TenantTable::Editor edit(nullptr);
  edit.Put(Compile("a", "us"));
  edit.Put(Compile("b", "atlantis"));     // orphan (home)
  edit.Put(Compile("c", "us", {"mars"}));  // orphan (allowed)
  std::shared_ptr<const TenantTable> t = edit.Finish();
  EXPECT_EQ(t->orphaned(), 2u);

  TenantTable::Editor e2(t);
  e2.Put(Compile("b", "us"));            // orphan -> fine
  e2.Put(Compile("a", "us", {"pluto"}));  // fine -> orphan
  e2.Put(Compile("c", "us", {"venus"}));  // orphan -> orphan
  t = e2.Finish();
  EXPECT_EQ(t->orphaned(), 2u);  // a, c

  TenantTable::Editor e3(t);
  EXPECT_TRUE(e3.Erase("c"));
  EXPECT_TRUE(e3.Erase("b"));
  t = e3.Finish();
  EXPECT_EQ(t->orphaned(), 1u);  // a
  EXPECT_EQ(t->size(), 1u);
}

TEST_F(TenantTableTest, LaterDuplicateWins) {
  const auto t = CompileTenants(*topo_, {{"x", "us", {}, absl::InfinitePast()},
                                         {"x", "jp", {}, absl::InfinitePast()}});
  EXPECT_EQ(t->size(), 1u);
  EXPECT_EQ(t->Find("x")->policy.home_region, "jp");
}

}  // namespace
}  // namespace dcdir::core

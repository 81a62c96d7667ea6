// The store contract: one typed suite run against every Store implementation
// (InMemoryStore, and RedisStore on a real throwaway redis-server).

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "service/core/tenant_id.h"
#include "service/store/in_memory_store.h"
#include "service/store/redis_store.h"
#include "service/store/store.h"
#include "tests/store/change_recorder.h"
#include "tests/testing/redis_fixture.h"

namespace dcdir::store {
namespace {

using ::dcdir::testing::PollUntil;

class InMemoryEnv {
 public:
  absl::Status SetUp() { return absl::OkStatus(); }
  absl::StatusOr<std::unique_ptr<Store>> Make() { return std::make_unique<InMemoryStore>(); }
  // The in-memory store calls the listener synchronously: nothing to wait for.
  bool WaitUntilListening(Store&) { return true; }
};

class RedisEnv {
 public:
  absl::Status SetUp() {
    absl::StatusOr<std::unique_ptr<testing::RedisServer>> server = testing::RedisServer::Start();
    if (!server.ok()) return server.status();
    server_ = *std::move(server);
    return absl::OkStatus();
  }
  absl::StatusOr<std::unique_ptr<Store>> Make() {
    absl::StatusOr<std::unique_ptr<RedisStore>> store =
        RedisStore::Create({.url = server_->url()});
    if (!store.ok()) return store.status();
    return std::unique_ptr<Store>(*std::move(store));
  }
  // Changes travel through pub/sub: writes made before SUBSCRIBE took effect are not told.
  bool WaitUntilListening(Store& store) {
    auto& redis = static_cast<RedisStore&>(store);
    return PollUntil([&] { return redis.Subscribed(); }, absl::Seconds(5)).has_value();
  }

 private:
  std::unique_ptr<testing::RedisServer> server_;
};

template <typename Env>
class StoreContractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status up = env_.SetUp();
    ASSERT_TRUE(up.ok()) << up;
    absl::StatusOr<std::unique_ptr<Store>> store = env_.Make();
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  static core::HealthRecord Record(core::HealthStatus status, double congestion,
                                   int64_t reported_s = 1'800'000'000) {
    core::HealthRecord r;
    r.status = status;
    r.congestion = congestion;
    r.congested = congestion >= 0.85;
    r.reported_at = absl::FromUnixSeconds(reported_s) + absl::Microseconds(123);
    r.expires_at = r.reported_at + absl::Seconds(30);
    return r;
  }
  static core::TenantPolicy Tenant(std::string id, std::string home,
                                   std::vector<std::string> allowed) {
    core::TenantPolicy p;
    p.tenant_id = std::move(id);
    p.home_region = std::move(home);
    p.allowed_regions = std::move(allowed);
    p.updated_at = absl::FromUnixSeconds(1'800'000'100);
    return p;
  }

  // Destroyed in reverse order: the store (and its threads) before the recorder and the server.
  Env env_;
  ChangeRecorder changes_;
  std::unique_ptr<Store> store_;
};

using StoreTypes = ::testing::Types<InMemoryEnv, RedisEnv>;
class StoreTypeNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, InMemoryEnv> ? "InMemory" : "Redis";
  }
};
TYPED_TEST_SUITE(StoreContractTest, StoreTypes, StoreTypeNames);

TYPED_TEST(StoreContractTest, IsAvailable) { EXPECT_TRUE(this->store_->Available()); }

TYPED_TEST(StoreContractTest, GetHealthOfAnUnknownDcIsNullopt) {
  absl::StatusOr<std::optional<core::HealthRecord>> got = this->store_->GetHealth("nowhere");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, std::nullopt);
}

TYPED_TEST(StoreContractTest, PutThenGetHealthReturnsTheSameRecord) {
  core::HealthRecord r = this->Record(core::HealthStatus::kHealthy, 0.42);
  ASSERT_TRUE(this->store_->PutHealth("us-sjc", r).ok());
  absl::StatusOr<std::optional<core::HealthRecord>> got = this->store_->GetHealth("us-sjc");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, r);
  absl::StatusOr<std::optional<core::HealthRecord>> other = this->store_->GetHealth("us-iad");
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(*other, std::nullopt);
}

TYPED_TEST(StoreContractTest, PutHealthOverwrites) {
  ASSERT_TRUE(this->store_->PutHealth("eu-fra", this->Record(core::HealthStatus::kHealthy, 0.1)).ok());
  core::HealthRecord second = this->Record(core::HealthStatus::kDown, 0.9, 1'800'000'010);
  ASSERT_TRUE(this->store_->PutHealth("eu-fra", second).ok());
  absl::StatusOr<std::optional<core::HealthRecord>> got = this->store_->GetHealth("eu-fra");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, second);
}

TYPED_TEST(StoreContractTest, TenantPutGetOverwriteDelete) {
  Store& s = *this->store_;
  absl::StatusOr<std::optional<core::TenantPolicy>> missing = s.GetTenant("acme");
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_EQ(*missing, std::nullopt);

  core::TenantPolicy p = this->Tenant("acme", "eu", {"eu", "uk"});
  ASSERT_TRUE(s.PutTenant(p).ok());
  absl::StatusOr<std::optional<core::TenantPolicy>> got = s.GetTenant("acme");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, p);

  core::TenantPolicy p2 = this->Tenant("acme", "us", {});
  ASSERT_TRUE(s.PutTenant(p2).ok());
  got = s.GetTenant("acme");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, p2);

  absl::StatusOr<bool> deleted = s.DeleteTenant("acme");
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_TRUE(*deleted);
  got = s.GetTenant("acme");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, std::nullopt);
  deleted = s.DeleteTenant("acme");
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_FALSE(*deleted);
}

// The tenant-id contract (store.h, "Tenant ids"): a store holds only tenants whose id passes
// core::IsValidTenantId. PutTenant refuses any other id (separators, a space, a control
// character, empty, over 64 bytes) with INVALID_ARGUMENT and writes nothing, not even a log
// entry. The value's escaping still carries separators in the other fields, and DC ids, which
// the store does not judge, round-trip with every separator.
TYPED_TEST(StoreContractTest, TenantIdsOutsideTheRuleAreRefusedOtherSeparatorsRoundTrip) {
  Store& s = *this->store_;
  absl::StatusOr<StoreState> before = s.LoadAll();
  ASSERT_TRUE(before.ok()) << before.status();
  const std::vector<std::string> refused = {
      "a|b,c%d:e", "a|b", "a,b", "a%b", "a:b", "bad id!", std::string("a\x01" "b"), "",
      std::string(core::kMaxTenantIdBytes + 1, 'x')};
  for (const std::string& id : refused) {
    const absl::Status put = s.PutTenant(this->Tenant(id, "eu", {"eu"}));
    EXPECT_EQ(put.code(), absl::StatusCode::kInvalidArgument) << absl::CEscape(id) << ": " << put;
    absl::StatusOr<std::optional<core::TenantPolicy>> got = s.GetTenant(id);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, std::nullopt) << absl::CEscape(id);
  }
  absl::StatusOr<StoreState> after = s.LoadAll();
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_TRUE(after->tenants.empty());
  EXPECT_EQ(after->tenant_position, before->tenant_position);  // nothing logged
  EXPECT_EQ(s.BadRecords(), 0u);  // refused, so never stored, so never read as bad

  // The longest valid id, with separators in every other string field.
  core::TenantPolicy p = this->Tenant(std::string(core::kMaxTenantIdBytes, 'x'), "e|u%",
                                      {"x,y", "z|w", "p%q:r", std::string("c\x01")});
  ASSERT_TRUE(s.PutTenant(p).ok());
  absl::StatusOr<std::optional<core::TenantPolicy>> got = s.GetTenant(p.tenant_id);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, p);

  const core::HealthRecord record = this->Record(core::HealthStatus::kHealthy, 0.5);
  ASSERT_TRUE(s.PutHealth("a|b,c%d:e", record).ok());
  absl::StatusOr<std::optional<core::HealthRecord>> health = s.GetHealth("a|b,c%d:e");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, record);
  after = s.LoadAll();
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->health, (core::HealthMap{{"a|b,c%d:e", record}}));
  EXPECT_EQ(after->tenants, (std::vector<core::TenantPolicy>{p}));
  EXPECT_EQ(s.BadRecords(), 0u);
}

TYPED_TEST(StoreContractTest, LoadAllReturnsEverything) {
  Store& s = *this->store_;
  absl::StatusOr<StoreState> empty = s.LoadAll();
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->health.empty());
  EXPECT_TRUE(empty->tenants.empty());

  core::HealthRecord a = this->Record(core::HealthStatus::kHealthy, 0.2);
  core::HealthRecord b = this->Record(core::HealthStatus::kDraining, 0.95);
  core::TenantPolicy t1 = this->Tenant("acme", "eu", {"eu"});
  core::TenantPolicy t2 = this->Tenant("globex", "us", {"us", "ca"});
  ASSERT_TRUE(s.PutHealth("us-sjc", a).ok());
  ASSERT_TRUE(s.PutHealth("eu-fra", b).ok());
  ASSERT_TRUE(s.PutTenant(t1).ok());
  ASSERT_TRUE(s.PutTenant(t2).ok());
  ASSERT_TRUE(s.PutTenant(this->Tenant("gone", "us", {})).ok());
  ASSERT_TRUE(s.DeleteTenant("gone").ok());

  absl::StatusOr<StoreState> all = s.LoadAll();
  ASSERT_TRUE(all.ok()) << all.status();
  core::HealthMap expected_health = {{"us-sjc", a}, {"eu-fra", b}};
  EXPECT_EQ(all->health, expected_health);
  std::vector<core::TenantPolicy> tenants = all->tenants;
  std::sort(tenants.begin(), tenants.end(),
            [](const auto& x, const auto& y) { return x.tenant_id < y.tenant_id; });
  EXPECT_EQ(tenants, (std::vector<core::TenantPolicy>{t1, t2}));
  EXPECT_EQ(s.BadRecords(), 0u);
}

TYPED_TEST(StoreContractTest, ChangeListenerHearsOwnWrites) {
  ChangeRecorder& changes = this->changes_;
  this->store_->SetChangeListener(changes.Listener());
  ASSERT_TRUE(this->env_.WaitUntilListening(*this->store_));

  ASSERT_TRUE(this->store_->PutHealth("us-sjc", this->Record(core::HealthStatus::kHealthy, 0.3)).ok());
  ASSERT_TRUE(this->store_->PutTenant(this->Tenant("acme", "eu", {})).ok());
  absl::StatusOr<bool> deleted = this->store_->DeleteTenant("acme");
  ASSERT_TRUE(deleted.ok() && *deleted);
  absl::StatusOr<bool> not_deleted = this->store_->DeleteTenant("never-existed");
  ASSERT_TRUE(not_deleted.ok() && !*not_deleted);
  ASSERT_TRUE(this->store_->PutHealth("marker", this->Record(core::HealthStatus::kDown, 0)).ok());

  // Changes arrive in write order: once "marker" is seen, everything before it was too.
  ASSERT_TRUE(changes.WaitFor(Change::Kind::kHealth, "marker"));
  EXPECT_EQ(changes.Count(Change::Kind::kHealth, "us-sjc"), 1u);
  EXPECT_EQ(changes.Count(Change::Kind::kTenant, "acme"), 2u);  // put + delete
  EXPECT_EQ(changes.Count(Change::Kind::kTenant, "never-existed"), 0u);  // deleted nothing
}

TYPED_TEST(StoreContractTest, LoadHealthReturnsEveryRecord) {
  Store& s = *this->store_;
  core::HealthRecord a = this->Record(core::HealthStatus::kHealthy, 0.2);
  ASSERT_TRUE(s.PutHealth("us-sjc", a).ok());
  ASSERT_TRUE(s.PutTenant(this->Tenant("acme", "eu", {})).ok());
  absl::StatusOr<core::HealthMap> health = s.LoadHealth();
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, (core::HealthMap{{"us-sjc", a}}));
}

TYPED_TEST(StoreContractTest, GetTenantsReadsEachIdInOrder) {
  Store& s = *this->store_;
  core::TenantPolicy t1 = this->Tenant("acme", "eu", {"eu"});
  core::TenantPolicy t2 = this->Tenant("globex", "us", {});
  ASSERT_TRUE(s.PutTenant(t1).ok());
  ASSERT_TRUE(s.PutTenant(t2).ok());
  absl::StatusOr<std::vector<TenantRead>> read = s.GetTenants({"globex", "nobody", "acme"});
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), 3u);
  EXPECT_EQ((*read)[0].tenant_id, "globex");
  EXPECT_EQ((*read)[0].policy, t2);
  EXPECT_EQ((*read)[1].tenant_id, "nobody");
  EXPECT_EQ((*read)[1].policy, std::nullopt);
  EXPECT_EQ((*read)[2].tenant_id, "acme");
  EXPECT_EQ((*read)[2].policy, t1);
  absl::StatusOr<std::vector<TenantRead>> none = s.GetTenants({});
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->empty());
}

// The tenant log lists each tenant written or deleted after a position once, from the position
// LoadAll read; a position of another history, or from the future, cannot be answered.
TYPED_TEST(StoreContractTest, TenantLogListsWhatChangedSinceAPosition) {
  Store& s = *this->store_;
  absl::StatusOr<StoreState> start = s.LoadAll();
  ASSERT_TRUE(start.ok()) << start.status();
  EXPECT_EQ(start->tenant_position, TenantLogPosition{});  // nothing logged yet

  ASSERT_TRUE(s.PutTenant(this->Tenant("acme", "eu", {})).ok());
  ASSERT_TRUE(s.PutTenant(this->Tenant("globex", "us", {})).ok());
  ASSERT_TRUE(s.PutTenant(this->Tenant("acme", "us", {})).ok());  // twice: listed once
  absl::StatusOr<std::optional<TenantChanges>> changes =
      s.TenantChangesSince(start->tenant_position);
  ASSERT_TRUE(changes.ok()) << changes.status();
  ASSERT_TRUE(changes->has_value());
  std::vector<std::string> ids = (*changes)->ids;
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"acme", "globex"}));
  const TenantLogPosition after_puts = (*changes)->position;
  EXPECT_EQ(after_puts.version, 3u);
  EXPECT_FALSE(after_puts.epoch.empty());

  // LoadAll now starts from there.
  absl::StatusOr<StoreState> all = s.LoadAll();
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->tenant_position, after_puts);

  absl::StatusOr<bool> deleted = s.DeleteTenant("globex");
  ASSERT_TRUE(deleted.ok() && *deleted);
  absl::StatusOr<bool> not_deleted = s.DeleteTenant("never-existed");  // not logged
  ASSERT_TRUE(not_deleted.ok() && !*not_deleted);
  changes = s.TenantChangesSince(after_puts);
  ASSERT_TRUE(changes.ok() && changes->has_value());
  EXPECT_EQ((*changes)->ids, std::vector<std::string>{"globex"});
  EXPECT_EQ((*changes)->position.version, 4u);
  EXPECT_EQ((*changes)->position.epoch, after_puts.epoch);

  changes = s.TenantChangesSince((*changes)->position);
  ASSERT_TRUE(changes.ok() && changes->has_value());
  EXPECT_TRUE((*changes)->ids.empty());

  // Another history, or a position the log never reached: "read everything".
  changes = s.TenantChangesSince({"another-epoch", 2});
  ASSERT_TRUE(changes.ok()) << changes.status();
  EXPECT_FALSE(changes->has_value());
  changes = s.TenantChangesSince({after_puts.epoch, 99});
  ASSERT_TRUE(changes.ok()) << changes.status();
  EXPECT_FALSE(changes->has_value());
}

}  // namespace
}  // namespace dcdir::store

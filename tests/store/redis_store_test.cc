// RedisStore behaviour beyond the shared contract: key layout, expiry, bad data, faults,
// reconnection, Sentinel failover. Real redis-server / redis-sentinel processes.

#include "service/store/redis_store.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "service/store/record_codec.h"
#include "tests/store/change_recorder.h"
#include "tests/testing/redis_fixture.h"

namespace dcdir::store {
namespace {

using ::dcdir::testing::PollUntil;

using testing::RedisServer;
using testing::SentinelCluster;

core::HealthRecord Record(core::HealthStatus status, absl::Time reported_at) {
  core::HealthRecord r;
  r.status = status;
  r.congestion = 0.25;
  r.reported_at = reported_at;
  r.expires_at = reported_at + absl::Seconds(30);
  return r;
}

core::HealthRecord FutureRecord() {
  return Record(core::HealthStatus::kHealthy, absl::FromUnixSeconds(1'900'000'000));
}

int64_t ToInt(const absl::StatusOr<std::string>& text) {
  int64_t v = INT64_MIN;
  if (text.ok()) (void)absl::SimpleAtoi(*text, &v);
  return v;
}

class RedisStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<RedisServer>> server = RedisServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  std::unique_ptr<RedisStore> MakeStore(RedisStore::Options options = {}) {
    if (options.url.empty()) options.url = server_->url();
    absl::StatusOr<std::unique_ptr<RedisStore>> store = RedisStore::Create(std::move(options));
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  std::string Redis(const std::vector<std::string>& args) {
    absl::StatusOr<std::string> r = server_->Command(args);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : "";
  }

  // Members are destroyed in reverse: stores first, then recorders, then the server.
  std::unique_ptr<RedisServer> server_;
  ChangeRecorder changes_;
};

TEST_F(RedisStoreTest, CreateRejectsBadUrlsAndOptions) {
  absl::StatusOr<std::unique_ptr<RedisStore>> store = RedisStore::Create({.url = "redis://nohost"});
  EXPECT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument);
  store = RedisStore::Create({.url = server_->url(), .op_timeout = absl::ZeroDuration()});
  EXPECT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument);
  store = RedisStore::Create({.url = server_->url(),
                              .backoff_initial = absl::Seconds(2),
                              .backoff_max = absl::Seconds(1)});
  EXPECT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(RedisStoreTest, KeyLayoutAndEncodingAreTheDocumentedOnes) {
  auto store = MakeStore();
  ASSERT_NE(store, nullptr);
  core::HealthRecord r = FutureRecord();
  ASSERT_TRUE(store->PutHealth("us-sjc", r).ok());
  EXPECT_EQ(store->HealthKey("us-sjc"), "dcdir:health:us-sjc");
  EXPECT_EQ(Redis({"GET", "dcdir:health:us-sjc"}), EncodeHealthRecord(r));

  core::TenantPolicy p;
  p.tenant_id = "acme";
  p.home_region = "eu";
  p.allowed_regions = {"eu"};
  ASSERT_TRUE(store->PutTenant(p).ok());
  EXPECT_EQ(Redis({"GET", "dcdir:tenant:acme"}), EncodeTenantPolicy(p));
  EXPECT_EQ(Redis({"PTTL", "dcdir:tenant:acme"}), "-1");  // tenants never expire
  EXPECT_EQ(store->ChangesChannel(), "dcdir:changes");
}

TEST_F(RedisStoreTest, HealthKeyExpiresAGraceAfterTheRecord) {
  auto store = MakeStore({.expiry_grace = absl::Minutes(10)});
  ASSERT_NE(store, nullptr);
  core::HealthRecord r = FutureRecord();
  ASSERT_TRUE(store->PutHealth("us-sjc", r).ok());
  EXPECT_GT(ToInt(server_->Command({"PTTL", "dcdir:health:us-sjc"})), 0);
  // PEXPIREAT (absolute), not a relative TTL: the same for every writer.
  EXPECT_EQ(ToInt(server_->Command({"PEXPIRETIME", "dcdir:health:us-sjc"})),
            absl::ToUnixMillis(r.expires_at + absl::Minutes(10)) + 1);
}

TEST_F(RedisStoreTest, AnAlreadyExpiredRecordStaysReadableAsExpired) {
  auto store = MakeStore();
  ASSERT_NE(store, nullptr);
  // Stored times have microsecond precision.
  absl::Time an_hour_ago = absl::FromUnixMicros(absl::ToUnixMicros(absl::Now() - absl::Hours(1)));
  core::HealthRecord r = Record(core::HealthStatus::kHealthy, an_hour_ago);
  ASSERT_TRUE(store->PutHealth("eu-fra", r).ok());
  absl::StatusOr<std::optional<core::HealthRecord>> got = store->GetHealth("eu-fra");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, r);
  // Kept for the grace counted from now (Redis' clock): more than 9 minutes left.
  EXPECT_GT(ToInt(server_->Command({"PTTL", "dcdir:health:eu-fra"})), 9 * 60 * 1000);
}

TEST_F(RedisStoreTest, ARecordThatNeverExpiresHasNoTtl) {
  auto store = MakeStore();
  ASSERT_NE(store, nullptr);
  core::HealthRecord r = FutureRecord();
  r.expires_at = absl::InfiniteFuture();
  ASSERT_TRUE(store->PutHealth("forever", r).ok());
  EXPECT_EQ(Redis({"PTTL", "dcdir:health:forever"}), "-1");
  absl::StatusOr<std::optional<core::HealthRecord>> got = store->GetHealth("forever");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, r);
}

TEST_F(RedisStoreTest, KeyPrefixesIsolateStores) {
  auto a = MakeStore({.key_prefix = "a:"});
  auto b = MakeStore({.key_prefix = "b:"});
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(a->PutHealth("us-sjc", FutureRecord()).ok());
  EXPECT_EQ(Redis({"EXISTS", "a:health:us-sjc"}), "1");
  absl::StatusOr<std::optional<core::HealthRecord>> from_b = b->GetHealth("us-sjc");
  ASSERT_TRUE(from_b.ok()) << from_b.status();
  EXPECT_EQ(*from_b, std::nullopt);
  absl::StatusOr<StoreState> all_b = b->LoadAll();
  ASSERT_TRUE(all_b.ok()) << all_b.status();
  EXPECT_TRUE(all_b->health.empty());
  absl::StatusOr<StoreState> all_a = a->LoadAll();
  ASSERT_TRUE(all_a.ok()) << all_a.status();
  EXPECT_EQ(all_a->health.size(), 1u);
}

TEST_F(RedisStoreTest, GlobCharactersInThePrefixAreLiteral) {
  auto star = MakeStore({.key_prefix = "x*"});
  auto plain = MakeStore({.key_prefix = "xy"});
  ASSERT_NE(star, nullptr);
  ASSERT_NE(plain, nullptr);
  ASSERT_TRUE(plain->PutHealth("dc", FutureRecord()).ok());
  absl::StatusOr<StoreState> all = star->LoadAll();
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_TRUE(all->health.empty());
}

TEST_F(RedisStoreTest, DatabaseNumberIsSelected) {
  auto store = MakeStore({.url = server_->url() + "/3"});
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->PutHealth("us-sjc", FutureRecord()).ok());
  EXPECT_EQ(Redis({"EXISTS", "dcdir:health:us-sjc"}), "0");  // not in db 0
  EXPECT_NE(Redis({"INFO", "keyspace"}).find("db3:keys=1"), std::string::npos);
}

TEST_F(RedisStoreTest, BadValuesAreSkippedAndCounted) {
  auto store = MakeStore();
  ASSERT_NE(store, nullptr);
  core::HealthRecord good = FutureRecord();
  ASSERT_TRUE(store->PutHealth("good", good).ok());
  core::TenantPolicy tenant;
  tenant.tenant_id = "acme";
  tenant.home_region = "eu";
  ASSERT_TRUE(store->PutTenant(tenant).ok());

  Redis({"SET", "dcdir:health:garbage", "\xff\x00 not a record"});
  Redis({"SET", "dcdir:health:badstatus", "h1|9|0.5|0|1|2"});
  Redis({"SET", "dcdir:health:future", "h2|1|0.5|0|1|2|new-field"});
  Redis({"LPUSH", "dcdir:health:listy", "x"});
  std::string huge = EncodeHealthRecord(good);
  huge.append(200 * 1024, ' ');
  Redis({"SET", "dcdir:health:huge", huge});
  Redis({"SET", "dcdir:tenant:wrongid", EncodeTenantPolicy(tenant)});  // says "acme"
  Redis({"HSET", "dcdir:tenant:hashy", "f", "v"});
  Redis({"SET", "dcdir:unrelated", "ignored: not a health or tenant key"});

  absl::StatusOr<StoreState> all = store->LoadAll();
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->health, (core::HealthMap{{"good", good}}));
  EXPECT_EQ(all->tenants, (std::vector<core::TenantPolicy>{tenant}));
  EXPECT_EQ(store->BadRecords(), 7u);

  // Point reads skip (and count) them too.
  absl::StatusOr<std::optional<core::HealthRecord>> listy = store->GetHealth("listy");
  ASSERT_TRUE(listy.ok()) << listy.status();
  EXPECT_EQ(*listy, std::nullopt);
  absl::StatusOr<std::optional<core::TenantPolicy>> wrong = store->GetTenant("wrongid");
  ASSERT_TRUE(wrong.ok()) << wrong.status();
  EXPECT_EQ(*wrong, std::nullopt);
  EXPECT_EQ(store->BadRecords(), 9u);
}

// A tenant record whose id the API refuses (core::IsValidTenantId: 1-64 bytes of
// [A-Za-z0-9._-]), written by someone else under its own matching key with the store's own
// encoder, is bad data: every read path (LoadAll, the resync's GetTenants, GetTenant) skips it
// and counts it, so a replica never lists a tenant that the API could not read or delete.
TEST_F(RedisStoreTest, TenantIdsTheApiRefusesAreSkippedAndCounted) {
  auto store = MakeStore();
  ASSERT_NE(store, nullptr);
  auto policy = [](std::string id) {
    core::TenantPolicy p;
    p.tenant_id = std::move(id);
    p.home_region = "eu";
    p.allowed_regions = {"eu", "us"};
    p.updated_at = absl::FromUnixSeconds(1'800'000'000);
    return p;
  };
  // At the edges of the rule: still tenants.
  const std::vector<core::TenantPolicy> good = {
      policy("acme"), policy("A.b_c-9"), policy(std::string(64, 'x'))};
  for (const core::TenantPolicy& p : good) ASSERT_TRUE(store->PutTenant(p).ok()) << p.tenant_id;

  const std::vector<std::string> bad_ids = {
      "",                       // key "dcdir:tenant:" (the codec also refuses the empty id)
      std::string(65, 'y'),     // one byte past the limit
      "bad id!",                // a space and a '!'
      "a|b", "a,b", "a%b",      // the value codec's separators (escaped in the value)
      "a:b",                    // the key layout's separator
      std::string("a\x01" "b"), // a control character
      "caf\xc3\xa9",            // not ASCII
  };
  for (const std::string& id : bad_ids) {
    Redis({"SET", store->TenantKey(id), EncodeTenantPolicy(policy(id))});
  }
  const uint64_t kBad = bad_ids.size();

  absl::StatusOr<StoreState> all = store->LoadAll();
  ASSERT_TRUE(all.ok()) << all.status();
  std::vector<std::string> loaded;
  for (const core::TenantPolicy& p : all->tenants) loaded.push_back(p.tenant_id);
  EXPECT_EQ(loaded, (std::vector<std::string>{"A.b_c-9", "acme", std::string(64, 'x')}));
  EXPECT_EQ(all->tenants.size(), good.size());
  for (const core::TenantPolicy& p : good) {
    EXPECT_EQ(std::count(all->tenants.begin(), all->tenants.end(), p), 1) << p.tenant_id;
  }
  EXPECT_EQ(store->BadRecords(), kBad);

  // The incremental resync reads the ids the tenant log names with GetTenants.
  std::vector<std::string> resync = bad_ids;
  resync.push_back("acme");
  absl::StatusOr<std::vector<TenantRead>> reads = store->GetTenants(resync);
  ASSERT_TRUE(reads.ok()) << reads.status();
  ASSERT_EQ(reads->size(), resync.size());
  for (size_t i = 0; i < bad_ids.size(); ++i) {
    EXPECT_EQ((*reads)[i].tenant_id, bad_ids[i]);
    EXPECT_EQ((*reads)[i].policy, std::nullopt) << absl::CEscape(bad_ids[i]);
  }
  EXPECT_EQ(reads->back().policy, good[0]);
  EXPECT_EQ(store->BadRecords(), 2 * kBad);

  // And a point read.
  for (const std::string& id : bad_ids) {
    absl::StatusOr<std::optional<core::TenantPolicy>> one = store->GetTenant(id);
    ASSERT_TRUE(one.ok()) << one.status();
    EXPECT_EQ(*one, std::nullopt) << absl::CEscape(id);
  }
  EXPECT_EQ(store->BadRecords(), 3 * kBad);
  absl::StatusOr<std::optional<core::TenantPolicy>> at_limit =
      store->GetTenant(std::string(64, 'x'));
  ASSERT_TRUE(at_limit.ok()) << at_limit.status();
  EXPECT_EQ(*at_limit, good[2]);
  EXPECT_EQ(store->BadRecords(), 3 * kBad);
}

TEST_F(RedisStoreTest, LoadAllPagesThroughManyKeys) {
  auto store = MakeStore({.scan_count = 7});
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(store->PutHealth(absl::StrCat("dc-", i), FutureRecord()).ok());
  }
  absl::StatusOr<StoreState> all = store->LoadAll();
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->health.size(), 100u);
  EXPECT_EQ(all->health.count("dc-57"), 1u);
}

TEST_F(RedisStoreTest, PasswordIsSentWithAuth) {
  absl::StatusOr<std::unique_ptr<RedisServer>> secured =
      RedisServer::Start({"--requirepass", "s3cret"});
  ASSERT_TRUE(secured.ok()) << secured.status();
  auto with = MakeStore({.url = (*secured)->url(), .password = "s3cret"});
  ASSERT_NE(with, nullptr);
  EXPECT_TRUE(with->Available());
  EXPECT_TRUE(with->PutHealth("us-sjc", FutureRecord()).ok());

  auto without = MakeStore({.url = (*secured)->url()});
  ASSERT_NE(without, nullptr);
  EXPECT_FALSE(without->Available());
  EXPECT_EQ(without->PutHealth("us-sjc", FutureRecord()).code(), absl::StatusCode::kUnavailable);
}

TEST_F(RedisStoreTest, AnotherStoreSeesChangesThroughPubSub) {
  auto writer = MakeStore();
  auto reader = MakeStore();
  ASSERT_NE(writer, nullptr);
  ASSERT_NE(reader, nullptr);
  reader->SetChangeListener(changes_.Listener());
  ASSERT_TRUE(PollUntil([&] { return reader->Subscribed(); }, absl::Seconds(5)));
  EXPECT_EQ(changes_.Count(Change::Kind::kResync), 1u);  // on subscribing

  ASSERT_TRUE(writer->PutHealth("us-sjc", FutureRecord()).ok());
  core::TenantPolicy p;
  p.tenant_id = "acme";
  ASSERT_TRUE(writer->PutTenant(p).ok());
  EXPECT_TRUE(changes_.WaitFor(Change::Kind::kHealth, "us-sjc"));
  EXPECT_TRUE(changes_.WaitFor(Change::Kind::kTenant, "acme"));
}

TEST_F(RedisStoreTest, SubscriberReconnectDeliversResync) {
  auto store = MakeStore();
  ASSERT_NE(store, nullptr);
  store->SetChangeListener(changes_.Listener());
  ASSERT_TRUE(changes_.WaitFor(Change::Kind::kResync, "", 1));

  Redis({"CLIENT", "KILL", "TYPE", "pubsub"});
  ASSERT_TRUE(changes_.WaitFor(Change::Kind::kResync, "", 2));
  // And it listens again.
  ASSERT_TRUE(PollUntil([&] { return store->Subscribed(); }, absl::Seconds(5)));
  ASSERT_TRUE(store->PutHealth("us-sjc", FutureRecord()).ok());
  EXPECT_TRUE(changes_.WaitFor(Change::Kind::kHealth, "us-sjc"));
}

TEST_F(RedisStoreTest, KilledRedisMakesTheStoreUnavailableEvenWhenIdle) {
  auto store = MakeStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Available());
  ASSERT_TRUE(server_->Kill().ok());
  // No call is made: the background probe notices. (Product contract: within 1 s.)
  EXPECT_TRUE(PollUntil([&] { return !store->Available(); }, absl::Milliseconds(1500)));
  EXPECT_EQ(store->PutHealth("us-sjc", FutureRecord()).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store->GetHealth("us-sjc").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store->LoadAll().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store->GetTenant("acme").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store->DeleteTenant("acme").status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(RedisStoreTest, RecoversAfterRestartAndResyncs) {
  auto store = MakeStore();
  ASSERT_NE(store, nullptr);
  store->SetChangeListener(changes_.Listener());
  ASSERT_TRUE(changes_.WaitFor(Change::Kind::kResync, "", 1));
  ASSERT_TRUE(server_->Kill().ok());
  ASSERT_TRUE(PollUntil([&] { return !store->Available(); }, absl::Seconds(5)));

  ASSERT_TRUE(server_->Restart().ok());
  ASSERT_TRUE(PollUntil([&] { return store->Available(); }, absl::Seconds(5)));
  core::HealthRecord r = FutureRecord();
  ASSERT_TRUE(store->PutHealth("us-sjc", r).ok());
  absl::StatusOr<std::optional<core::HealthRecord>> got = store->GetHealth("us-sjc");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, r);
  // Messages may have been missed while away: the listener is told to reload.
  EXPECT_TRUE(changes_.WaitFor(Change::Kind::kResync, "", 2));
}

TEST_F(RedisStoreTest, StartsUnavailableWhenRedisIsDownAndConnectsLater) {
  ASSERT_TRUE(server_->Kill().ok());
  auto store = MakeStore();
  ASSERT_NE(store, nullptr);
  EXPECT_FALSE(store->Available());
  EXPECT_EQ(store->PutHealth("us-sjc", FutureRecord()).code(), absl::StatusCode::kUnavailable);
  ASSERT_TRUE(server_->Restart().ok());
  ASSERT_TRUE(PollUntil([&] { return store->Available(); }, absl::Seconds(5)));
  EXPECT_TRUE(store->PutHealth("us-sjc", FutureRecord()).ok());
}

TEST_F(RedisStoreTest, AHungServerTimesOutAsUnavailable) {
  auto store = MakeStore({.op_timeout = absl::Milliseconds(100)});
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(server_->Pause().ok());
  absl::Status put = store->PutHealth("us-sjc", FutureRecord());
  EXPECT_EQ(put.code(), absl::StatusCode::kUnavailable) << put;
  // The failed put and the failed reconnect make two failures (down_after).
  EXPECT_TRUE(PollUntil([&] { return !store->Available(); }, absl::Seconds(5)));
  ASSERT_TRUE(server_->Resume().ok());
  ASSERT_TRUE(PollUntil([&] { return store->Available(); }, absl::Seconds(5)));
  EXPECT_TRUE(store->PutHealth("us-sjc", FutureRecord()).ok());
}

// Bytes Redis has sent to its clients so far (INFO stats total_net_output_bytes).
int64_t NetOutputBytes(const RedisServer& server) {
  absl::StatusOr<std::string> info = server.Command({"INFO", "stats"});
  if (!info.ok()) return -1;
  const std::string field = "total_net_output_bytes:";
  const size_t at = info->find(field);
  if (at == std::string::npos) return -1;
  int64_t v = -1;
  const size_t end = info->find_first_of("\r\n", at);
  (void)absl::SimpleAtoi(info->substr(at + field.size(), end - at - field.size()), &v);
  return v;
}

// EVAL calls Redis has served so far (INFO commandstats).
int64_t EvalCalls(const RedisServer& server) {
  absl::StatusOr<std::string> info = server.Command({"INFO", "commandstats"});
  if (!info.ok()) return -1;
  const std::string field = "cmdstat_eval:calls=";
  const size_t at = info->find(field);
  if (at == std::string::npos) return 0;
  int64_t v = -1;
  const size_t end = info->find(',', at);
  (void)absl::SimpleAtoi(info->substr(at + field.size(), end - at - field.size()), &v);
  return v;
}

// One huge value (issue: a 400 MiB value made every resync time out, for good) is never sent
// by Redis: the reads check its size first, skip and count it, and read everything else.
TEST_F(RedisStoreTest, AHugeValueIsNeverReadAndTheRestIsLoaded) {
  auto store = MakeStore();
  ASSERT_NE(store, nullptr);
  core::HealthRecord good = FutureRecord();
  ASSERT_TRUE(store->PutHealth("good", good).ok());
  core::TenantPolicy tenant;
  tenant.tenant_id = "acme";
  tenant.home_region = "eu";
  ASSERT_TRUE(store->PutTenant(tenant).ok());
  // 100 MiB, made inside Redis (SETRANGE), under a health key and under a tenant key.
  Redis({"SETRANGE", "dcdir:health:huge", absl::StrCat(100 * 1024 * 1024 - 1), "x"});
  Redis({"SETRANGE", "dcdir:tenant:huge", absl::StrCat(100 * 1024 * 1024 - 1), "x"});

  const int64_t sent_before = NetOutputBytes(*server_);
  ASSERT_GE(sent_before, 0);
  absl::StatusOr<StoreState> all = store->LoadAll();
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->health, (core::HealthMap{{"good", good}}));
  EXPECT_EQ(all->tenants, (std::vector<core::TenantPolicy>{tenant}));
  EXPECT_EQ(store->BadRecords(), 2u);
  absl::StatusOr<std::optional<core::HealthRecord>> point = store->GetHealth("huge");
  ASSERT_TRUE(point.ok()) << point.status();
  EXPECT_EQ(*point, std::nullopt);
  absl::StatusOr<std::optional<core::TenantPolicy>> tenant_point = store->GetTenant("huge");
  ASSERT_TRUE(tenant_point.ok()) << tenant_point.status();
  EXPECT_EQ(*tenant_point, std::nullopt);
  EXPECT_EQ(store->BadRecords(), 4u);  // counted on every read
  // Everything Redis sent for those reads (and the INFO replies) is small: the value was not.
  const int64_t sent = NetOutputBytes(*server_) - sent_before;
  EXPECT_LT(sent, 64 * 1024) << sent << " bytes sent";
  EXPECT_TRUE(store->Available());
}

// A key name of any length is never sent whole by a resync: counted as bad and skipped.
TEST_F(RedisStoreTest, AHugeKeyNameIsSkippedAndCounted) {
  auto store = MakeStore({.max_key_bytes = 256});
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->PutHealth("good", FutureRecord()).ok());
  Redis({"SET", "dcdir:health:" + std::string(100 * 1024, 'k'), EncodeHealthRecord(FutureRecord())});
  const int64_t sent_before = NetOutputBytes(*server_);
  absl::StatusOr<StoreState> all = store->LoadAll();
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->health.size(), 1u);
  EXPECT_EQ(all->health.count("good"), 1u);
  EXPECT_EQ(store->BadRecords(), 1u);
  EXPECT_LT(NetOutputBytes(*server_) - sent_before, 16 * 1024);
}

// Replies are bounded by max_reply_bytes: a read that would pass it goes on in further round
// trips, and nothing is lost.
TEST_F(RedisStoreTest, ReadsGoOnInSmallRepliesWhenValuesPassTheReplyBudget) {
  auto store = MakeStore({.max_reply_bytes = 1});  // one value per round trip
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(store->PutHealth(absl::StrCat("dc-", i), FutureRecord()).ok());
  }
  const int64_t evals_before = EvalCalls(*server_);
  absl::StatusOr<StoreState> all = store->LoadAll();
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->health.size(), 30u);
  EXPECT_EQ(store->BadRecords(), 0u);
  // At least one round trip per value (plus the scans and the log position).
  EXPECT_GE(EvalCalls(*server_) - evals_before, 30);
}

// The tenant log after the store lost its data (flushed): another epoch, so a replica reads
// everything instead of trusting a log that no longer covers what it holds.
TEST_F(RedisStoreTest, AFlushedStoreStartsANewTenantLogEpoch) {
  auto store = MakeStore();
  ASSERT_NE(store, nullptr);
  core::TenantPolicy p;
  p.tenant_id = "acme";
  p.home_region = "eu";
  ASSERT_TRUE(store->PutTenant(p).ok());
  absl::StatusOr<StoreState> all = store->LoadAll();
  ASSERT_TRUE(all.ok()) << all.status();
  const TenantLogPosition before = all->tenant_position;
  EXPECT_EQ(before.version, 1u);
  EXPECT_EQ(Redis({"GET", "dcdir:tenants:epoch"}), before.epoch);
  EXPECT_EQ(Redis({"ZSCORE", "dcdir:tenants:log", "acme"}), "1");

  Redis({"FLUSHALL"});
  absl::StatusOr<std::optional<TenantChanges>> changes = store->TenantChangesSince(before);
  ASSERT_TRUE(changes.ok()) << changes.status();
  EXPECT_FALSE(changes->has_value());  // no epoch any more
  p.tenant_id = "globex";
  ASSERT_TRUE(store->PutTenant(p).ok());  // a new epoch, version 1 again
  changes = store->TenantChangesSince(before);
  ASSERT_TRUE(changes.ok()) << changes.status();
  EXPECT_FALSE(changes->has_value());
  EXPECT_NE(Redis({"GET", "dcdir:tenants:epoch"}), before.epoch);
}

// A log longer than one reply is read in batches, each id once.
TEST_F(RedisStoreTest, ALongTenantLogIsReadInBatches) {
  auto store = MakeStore();
  ASSERT_NE(store, nullptr);
  constexpr int kIds = 25'001;
  std::vector<std::string> zadd = {"ZADD", "dcdir:tenants:log"};
  for (int i = 1; i <= kIds; ++i) {
    zadd.push_back(absl::StrCat(i));
    zadd.push_back(absl::StrCat("t", i));
  }
  Redis(zadd);
  Redis({"SET", "dcdir:tenants:version", absl::StrCat(kIds)});
  Redis({"SET", "dcdir:tenants:epoch", "e1"});
  absl::StatusOr<std::optional<TenantChanges>> changes = store->TenantChangesSince({"e1", 7});
  ASSERT_TRUE(changes.ok()) << changes.status();
  ASSERT_TRUE(changes->has_value());
  EXPECT_EQ((*changes)->ids.size(), static_cast<size_t>(kIds - 7));
  EXPECT_EQ((*changes)->position, (TenantLogPosition{"e1", kIds}));
  EXPECT_EQ(std::count((*changes)->ids.begin(), (*changes)->ids.end(), "t8"), 1);
  EXPECT_EQ(std::count((*changes)->ids.begin(), (*changes)->ids.end(), "t7"), 0);
}

TEST(RedisSentinelTest, FollowsAFailoverToThePromotedReplica) {
  absl::StatusOr<std::unique_ptr<SentinelCluster>> cluster = SentinelCluster::Start(1, "dcdir");
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  SentinelCluster& c = **cluster;

  absl::StatusOr<std::unique_ptr<RedisStore>> unknown =
      RedisStore::Create({.url = absl::StrCat(c.url().substr(0, c.url().rfind('/')), "/nosuch")});
  ASSERT_TRUE(unknown.ok()) << unknown.status();
  EXPECT_FALSE((*unknown)->Available());
  unknown->reset();

  // A dead sentinel listed first is skipped.
  absl::StatusOr<int> dead_port = testing::PickFreePort();
  ASSERT_TRUE(dead_port.ok()) << dead_port.status();
  std::string with_dead = c.url();
  with_dead.insert(std::string("redis+sentinel://").size(), absl::StrCat("127.0.0.1:", *dead_port, ","));
  absl::StatusOr<std::unique_ptr<RedisStore>> second = RedisStore::Create({.url = with_dead});
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE((*second)->Available());
  second->reset();

  absl::StatusOr<std::unique_ptr<RedisStore>> store = RedisStore::Create({.url = c.url()});
  ASSERT_TRUE(store.ok()) << store.status();
  RedisStore& s = **store;
  ASSERT_TRUE(s.Available());
  ASSERT_TRUE(s.PutHealth("before", FutureRecord()).ok());
  EXPECT_EQ(c.master().Command({"EXISTS", "dcdir:health:before"}).value_or(""), "1");

  const int replica_port = c.replica().port();
  ASSERT_TRUE(c.master().Kill().ok());
  // Sentinel promotes the replica (~3 s); the store must follow and writes succeed again.
  const bool written =
      PollUntil([&] { return s.PutHealth("after", FutureRecord()).ok(); }, absl::Seconds(15))
          .has_value();
  ASSERT_TRUE(written);
  EXPECT_EQ(c.SentinelMasterPort().value_or(-1), replica_port);
  EXPECT_EQ(c.replica().Command({"EXISTS", "dcdir:health:after"}).value_or(""), "1");
  absl::StatusOr<std::optional<core::HealthRecord>> got = s.GetHealth("after");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, FutureRecord());
}

}  // namespace
}  // namespace dcdir::store

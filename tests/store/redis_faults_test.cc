// RedisStore under faults, beyond today's kill/restart tests: the hysteresis of Available()
// (a single failed round trip does not flip it; coming back needs up_after good ones), tenant
// writes that wait for a replica's acknowledgement (WAIT) and say whether they may have been
// applied, and a Sentinel majority that must confirm the master. Real redis-server /
// redis-sentinel processes.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "service/store/redis_store.h"
#include "tests/testing/poll.h"
#include "tests/testing/redis_fixture.h"

namespace dcdir::store {
namespace {

using testing::PollUntil;
using testing::RedisServer;
using testing::SentinelCluster;

core::HealthRecord FutureRecord() {
  core::HealthRecord r;
  r.status = core::HealthStatus::kHealthy;
  r.congestion = 0.25;
  r.reported_at = absl::FromUnixSeconds(1'900'000'000);
  r.expires_at = r.reported_at + absl::Seconds(30);
  return r;
}

std::optional<std::string> Reason(const absl::Status& status) {
  auto payload = status.GetPayload(kReasonPayloadUrl);  // absl::optional in Debian's Abseil
  if (!payload.has_value()) return std::nullopt;
  return std::string(*payload);
}

bool Contains(absl::string_view text, absl::string_view part) {
  return text.find(part) != absl::string_view::npos;
}

std::unique_ptr<RedisStore> Make(RedisStore::Options options) {
  absl::StatusOr<std::unique_ptr<RedisStore>> store = RedisStore::Create(std::move(options));
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

TEST(RedisHysteresisTest, CreateRejectsBadHysteresisAndWaitOptions) {
  for (RedisStore::Options bad : {RedisStore::Options{.url = "redis://127.0.0.1:1", .down_after = 0},
                                  RedisStore::Options{.url = "redis://127.0.0.1:1", .up_after = 0},
                                  RedisStore::Options{.url = "redis://127.0.0.1:1", .wait_replicas = -1},
                                  RedisStore::Options{.url = "redis://127.0.0.1:1",
                                                      .wait_timeout = absl::ZeroDuration()}}) {
    EXPECT_EQ(RedisStore::Create(bad).status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(RedisHysteresisTest, OneFailedCommandDoesNotFlipTheVerdictTwoDo) {
  absl::StatusOr<std::unique_ptr<RedisServer>> server = RedisServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  // No idle probes: only the failed command and the reconnect attempts count.
  auto store = Make({.url = (*server)->url(),
                     .op_timeout = absl::Milliseconds(100),
                     .probe_interval = absl::Hours(1),
                     .down_after = 2,
                     .up_after = 1});
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Available());
  ASSERT_TRUE((*server)->Pause().ok());
  absl::Status put = store->PutHealth("us-sjc", FutureRecord());
  EXPECT_EQ(put.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(Contains(put.message(), "timed out after 100ms")) << put;
  // One failure of the two: still available, but the connection is gone, so calls fail at
  // once until a reconnect (which the paused server cannot complete) succeeds.
  EXPECT_TRUE(store->Available());
  absl::Status again = store->PutHealth("us-sjc", FutureRecord());
  EXPECT_EQ(again.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(Contains(again.message(), "reconnecting")) << again;
  // The reconnect attempt is the second failure.
  EXPECT_TRUE(PollUntil([&] { return !store->Available(); }, absl::Seconds(5)).has_value());
  ASSERT_TRUE((*server)->Resume().ok());
  EXPECT_TRUE(PollUntil([&] { return store->Available(); }, absl::Seconds(5)).has_value());
  EXPECT_TRUE(store->PutHealth("us-sjc", FutureRecord()).ok());
}

TEST(RedisHysteresisTest, ComesBackOnlyAfterUpAfterGoodRoundTrips) {
  absl::StatusOr<std::unique_ptr<RedisServer>> server = RedisServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  // A long probe interval makes the two good round trips (the reconnect, then one probe)
  // seconds apart, so the state in between can be looked at.
  auto store = Make({.url = (*server)->url(),
                     .probe_interval = absl::Seconds(3),
                     .backoff_max = absl::Milliseconds(200),
                     .up_after = 2});
  ASSERT_NE(store, nullptr);
  store->SetChangeListener([](const Change&) {});
  ASSERT_TRUE(PollUntil([&] { return store->Subscribed(); }, absl::Seconds(5)).has_value());
  ASSERT_TRUE((*server)->Kill().ok());
  ASSERT_TRUE(PollUntil([&] { return !store->Available(); }, absl::Seconds(10)).has_value());
  ASSERT_TRUE(PollUntil([&] { return !store->Subscribed(); }, absl::Seconds(10)).has_value());
  ASSERT_TRUE((*server)->Restart().ok());
  // Reconnected (the subscriber follows the new connection at once) but one good round trip
  // is not enough: calls are refused until the next probe succeeds.
  ASSERT_TRUE(PollUntil([&] { return store->Subscribed(); }, absl::Seconds(10)).has_value());
  EXPECT_FALSE(store->Available());
  absl::Status put = store->PutHealth("us-sjc", FutureRecord());
  EXPECT_EQ(put.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(Contains(put.message(), "waiting for good probes")) << put;
  EXPECT_TRUE(PollUntil([&] { return store->Available(); }, absl::Seconds(10)).has_value());
  EXPECT_TRUE(store->PutHealth("us-sjc", FutureRecord()).ok());
}

TEST(RedisWaitTest, AnUnreplicatedTenantWriteIsReportedAsUnconfirmed) {
  // No 5 s pause before a replica's first sync.
  absl::StatusOr<std::unique_ptr<RedisServer>> master =
      RedisServer::Start({"--repl-diskless-sync-delay", "0"});
  ASSERT_TRUE(master.ok()) << master.status();
  auto store = Make({.url = (*master)->url(),
                     .wait_replicas = 1,
                     .wait_timeout = absl::Milliseconds(100)});
  ASSERT_NE(store, nullptr);
  const core::TenantPolicy acme{"acme", "eu", {"eu"}, absl::FromUnixSeconds(1'800'000'000)};

  // No replica: written on the master, not acknowledged: may be lost on a failover.
  absl::Status put = store->PutTenant(acme);
  EXPECT_EQ(put.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Reason(put), std::string(kWriteUnconfirmedReason));
  EXPECT_TRUE(Contains(put.message(), "only 0 of 1 replica(s) acknowledged it within 100ms"))
      << put;
  EXPECT_EQ((*master)->Command({"EXISTS", "dcdir:tenant:acme"}).value_or(""), "1");
  EXPECT_TRUE(store->Available());  // a missing acknowledgement is not a store failure
  // Deleting nothing changes nothing: nothing to confirm.
  absl::StatusOr<bool> none = store->DeleteTenant("nosuch");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(*none);

  // With a replica attached, the same write is acknowledged.
  absl::StatusOr<std::unique_ptr<RedisServer>> replica =
      RedisServer::Start({"--replicaof", "127.0.0.1", absl::StrCat((*master)->port())});
  ASSERT_TRUE(replica.ok()) << replica.status();
  ASSERT_TRUE(PollUntil(
                  [&] {
                    auto role = (*master)->Command({"INFO", "replication"});
                    return role.ok() && Contains(*role, "state=online");  // synced
                  },
                  absl::Seconds(10))
                  .has_value());
  // (A wait long enough for a loaded machine: the test is about the outcome, not the time.)
  auto patient = Make({.url = (*master)->url(),
                       .wait_replicas = 1,
                       .wait_timeout = absl::Seconds(5)});
  ASSERT_NE(patient, nullptr);
  absl::Status acknowledged = patient->PutTenant(acme);
  EXPECT_TRUE(acknowledged.ok()) << acknowledged;
  EXPECT_EQ((*replica)->Command({"EXISTS", "dcdir:tenant:acme"}).value_or(""), "1");
  absl::StatusOr<bool> deleted = patient->DeleteTenant("acme");
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_TRUE(*deleted);
}

TEST(RedisWaitTest, AWriteTheMasterRefusesIsNotApplied) {
  absl::StatusOr<std::unique_ptr<RedisServer>> master =
      RedisServer::Start({"--min-replicas-to-write", "1", "--min-replicas-max-lag", "5"});
  ASSERT_TRUE(master.ok()) << master.status();
  auto store = Make({.url = (*master)->url(), .wait_replicas = 1});
  ASSERT_NE(store, nullptr);
  absl::Status put = store->PutTenant({"acme", "eu", {"eu"}, absl::FromUnixSeconds(1'800'000'000)});
  EXPECT_EQ(put.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Reason(put), std::nullopt);  // definite: STORE_UNAVAILABLE at the API
  EXPECT_TRUE(Contains(put.message(), "NOREPLICAS")) << put;
  EXPECT_TRUE(Contains(put.message(), "the write was not applied")) << put;
  EXPECT_EQ((*master)->Command({"EXISTS", "dcdir:tenant:acme"}).value_or(""), "0");
}

TEST(RedisSentinelMajorityTest, AMasterTheSentinelMajorityDoesNotConfirmIsNotUsed) {
  absl::StatusOr<std::unique_ptr<SentinelCluster>> cluster = SentinelCluster::Start(3, "dcdir");
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  SentinelCluster& c = **cluster;
  auto store = Make({.url = c.url()});
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Available());
  ASSERT_TRUE(store->PutHealth("us-sjc", FutureRecord()).ok());

  // Two of three sentinels gone: the master itself is fine, but nobody with a majority
  // vouches for it (this replica may be on the minority side of a partition).
  ASSERT_TRUE(c.sentinel(1).Kill().ok());
  ASSERT_TRUE(c.sentinel(2).Kill().ok());
  EXPECT_TRUE(PollUntil([&] { return !store->Available(); }, absl::Seconds(5)).has_value());
  EXPECT_EQ(c.master().Command({"PING"}).value_or(""), "PONG");
  EXPECT_EQ(store->PutHealth("us-sjc", FutureRecord()).code(), absl::StatusCode::kUnavailable);

  // One comes back: two of three confirm the master again.
  ASSERT_TRUE(c.sentinel(1).Restart().ok());
  EXPECT_TRUE(PollUntil([&] { return store->Available(); }, absl::Seconds(10)).has_value());
  EXPECT_TRUE(store->PutHealth("us-sjc", FutureRecord()).ok());
}

}  // namespace
}  // namespace dcdir::store

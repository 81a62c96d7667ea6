// The client library against a real in-process dcdir server (and, for the retry rules, a fake
// stub): attempt order, retries over addresses, fallback reporting, the disk cache and its
// expiry, pinning, and the watch helper.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/time/clock.h"
#include "clients/cpp/convert.h"
#include "clients/cpp/directory_cache.h"
#include "clients/cpp/rtt_store.h"
#include "clients/cpp/directory_stub.h"
#include "dcdir/client/directory_client.h"
#include "dcdir/client/directory_watcher.h"
#include "dcdir/client/errors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/metrics_reader.h"
#include "tests/testing/server_fixture.h"
#include "tests/testing/redis_fixture.h"
#include "tests/testing/temp_dir.h"

namespace dcdir::client {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::UnorderedElementsAre;

const std::vector<std::string> kUsDcs = {"us-sjc", "us-den", "us-nyc", "us-iad"};
const std::vector<std::string> kUsSecondaries = {"ca-yyz", "ca-yvr", "mx-qro", "eu-ams"};

// A client clock that only moves when told to (sleeping advances it).
class FakeClientClock final : public Clock {
 public:
  absl::Time Now() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return now_;
  }
  void SleepFor(absl::Duration d) const override { Advance(d); }
  void Advance(absl::Duration d) const {
    std::lock_guard<std::mutex> lock(mu_);
    now_ += d;
  }

 private:
  mutable std::mutex mu_;
  mutable absl::Time now_ ABSL_GUARDED_BY(mu_) = absl::FromUnixSeconds(1'900'000'000);
};

std::string TempDir() {
  std::string dir = dcdir::testing::MakeTempDir("dcdir-client");
  EXPECT_FALSE(dir.empty());
  return dir;
}

// A loopback port nothing listens on.
int ClosedPort() {
  absl::StatusOr<int> port = dcdir::testing::PickFreePort();
  EXPECT_TRUE(port.ok()) << port.status();
  return port.value_or(1);
}

DirectoryRequest UsRequest() {
  DirectoryRequest request;
  request.client_country = "US";
  request.client_id = "client-1";
  return request;
}

// The same request as the library sends it (the disk cache is keyed by it).
v1::GetDirectoryRequest UsProtoRequest() { return ToProto(UsRequest()); }

std::vector<std::string> Ids(const AttemptPlan& plan) {
  std::vector<std::string> ids;
  for (const PlannedAttempt& a : plan.attempts) ids.push_back(a.datacenter.id);
  return ids;
}

std::vector<std::string> Ids(const std::vector<DataCenter>& dcs) {
  std::vector<std::string> ids;
  for (const DataCenter& dc : dcs) ids.push_back(dc.id);
  return ids;
}

class ClientLibraryTest : public ::testing::Test {
 protected:
  std::unique_ptr<DirectoryClient> MakeClient(ClientOptions options) {
    if (options.addresses.empty()) options.addresses = {server_.address()};
    options.seed = 42;
    auto client = DirectoryClient::Create(std::move(options));
    EXPECT_TRUE(client.ok()) << client.status();
    return *std::move(client);
  }

  // The example world on the real clock (the client compares answer times with its own), no
  // token (the client reports fallbacks anonymously).
  static testing::TestServerOptions ServerOptions() {
    testing::TestServerOptions options;
    options.auth_token = "";
    options.real_clock = true;
    return options;
  }
  testing::TestServer server_{ServerOptions()};
};

TEST_F(ClientLibraryTest, PlanIsPrimariesInOrderThenTheFirstSecondaryAttempts) {
  server_.Report(v1::HEALTH_STATUS_HEALTHY, kUsDcs);
  server_.Report(v1::HEALTH_STATUS_HEALTHY, kUsSecondaries);
  auto client = MakeClient({});

  auto resolution = client->Resolve(UsRequest());

  ASSERT_TRUE(resolution.ok()) << resolution.status();
  EXPECT_EQ(resolution->source, Source::kServer);
  EXPECT_EQ(resolution->address, server_.address());
  EXPECT_EQ(resolution->rpc_attempts, 1);
  const Directory& d = resolution->directory;
  ASSERT_THAT(Ids(d.primaries), UnorderedElementsAre("us-sjc", "us-den", "us-nyc", "us-iad"));
  ASSERT_THAT(Ids(d.secondaries), ElementsAre("ca-yyz", "ca-yvr", "mx-qro", "eu-ams"));
  ASSERT_EQ(d.secondary_attempts, 2u);
  std::vector<std::string> expected = Ids(d.primaries);
  expected.push_back("ca-yyz");
  expected.push_back("ca-yvr");
  EXPECT_THAT(Ids(resolution->plan), ElementsAreArray(expected));
  for (int i = 0; i < 6; ++i) EXPECT_EQ(resolution->plan.attempts[i].secondary, i >= 4);
  EXPECT_TRUE(resolution->plan.refused.empty());
}

TEST_F(ClientLibraryTest, RetriesTheNextAddressWhenOneIsDown) {
  server_.Report(v1::HEALTH_STATUS_HEALTHY, kUsDcs);
  ClientOptions options;
  const std::string dead = absl::StrCat("127.0.0.1:", ClosedPort());
  options.addresses = {dead, server_.address()};
  auto client = MakeClient(options);

  auto resolution = client->Resolve(UsRequest());

  ASSERT_TRUE(resolution.ok()) << resolution.status();
  EXPECT_EQ(resolution->address, server_.address());
  EXPECT_EQ(resolution->rpc_attempts, 2);
}

TEST_F(ClientLibraryTest, ServerErrorIsReturnedWithItsReason) {
  auto client = MakeClient({});
  DirectoryRequest request;
  request.client_country = "USA";

  auto resolution = client->Resolve(request);

  EXPECT_EQ(resolution.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorReason(resolution.status()), "INVALID_COUNTRY");
}

TEST_F(ClientLibraryTest, ConnectReportsACrossBorderFallback) {
  server_.Report(v1::HEALTH_STATUS_DOWN, kUsDcs);
  server_.Report(v1::HEALTH_STATUS_HEALTHY, {"ca-yyz", "ca-yvr"});
  auto client = MakeClient({});
  auto resolution = client->Resolve(UsRequest());
  ASSERT_TRUE(resolution.ok()) << resolution.status();
  ASSERT_THAT(Ids(resolution->plan), ElementsAre("ca-yyz", "ca-yvr"));
  std::vector<std::string> tried;

  auto connection = client->Connect(UsRequest(), *resolution, [&](const DataCenter& dc) {
    tried.push_back(dc.id);
    return dc.id == "ca-yvr" ? absl::OkStatus() : absl::UnavailableError("refused");
  });

  ASSERT_TRUE(connection.ok()) << connection.status();
  EXPECT_THAT(tried, ElementsAre("ca-yyz", "ca-yvr"));
  EXPECT_EQ(connection->datacenter.id, "ca-yvr");
  EXPECT_EQ(connection->attempts, 2);
  EXPECT_TRUE(connection->fallback);
  ASSERT_TRUE(connection->report.ok()) << connection->report.status();
  EXPECT_TRUE(connection->report->cross_border);
  EXPECT_EQ(testing::MetricValue(server_.registry(), "dcdir_client_fallbacks_total",
                                 {{"client_region", "us"}, {"dc_region", "ca"},
                                  {"cross_border", "true"}}),
            1);
}

TEST_F(ClientLibraryTest, ConnectRttIsKeptWithTheCacheAndSentInTheNextResolve) {
  server_.Report(v1::HEALTH_STATUS_HEALTHY, kUsDcs);
  const std::string dir = TempDir();
  auto clock = std::make_shared<FakeClientClock>();
  ClientOptions options;
  options.cache_dir = dir;
  options.clock = clock;
  auto client = MakeClient(options);
  // A client id whose first primary (hash only: no location, no RTT yet) is not us-den.
  DirectoryRequest request = UsRequest();
  absl::StatusOr<Resolution> first;
  for (int k = 0;; ++k) {
    request.client_id = absl::StrCat("client-", k);
    first = client->Resolve(request);
    ASSERT_TRUE(first.ok()) << first.status();
    if (first->plan.attempts[0].datacenter.id != "us-den") break;
  }
  EXPECT_TRUE(client->ObservedRtts().empty());
  // Only us-den accepts the connection: its connect time is recorded, the failures' are not.
  auto connection = client->Connect(request, *first, [](const DataCenter& dc) {
    return dc.id == "us-den" ? absl::OkStatus() : absl::UnavailableError("refused");
  });
  ASSERT_TRUE(connection.ok()) << connection.status();
  const std::vector<MeasuredRtt> rtts = client->ObservedRtts();
  ASSERT_EQ(rtts.size(), 1u);
  EXPECT_EQ(rtts[0].datacenter_id, "us-den");
  EXPECT_GT(rtts[0].rtt, absl::ZeroDuration());
  // The next Resolve sends it: us-den (measured, the only estimate) is now first.
  auto second = client->Resolve(request);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->plan.attempts[0].datacenter.id, "us-den");
  // Kept with the cache: a new client on the same directory knows it.
  auto restarted = MakeClient(options);
  ASSERT_EQ(restarted->ObservedRtts().size(), 1u);
  // Bounded by age: after rtt.max_age (10 min) it is neither kept nor sent.
  clock->Advance(absl::Minutes(10) + absl::Seconds(1));
  EXPECT_TRUE(client->ObservedRtts().empty());
  auto third = client->Resolve(request);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->plan.attempts[0].datacenter.id, first->plan.attempts[0].datacenter.id);
}

TEST(RttStoreTest, BoundedByCountAndAgeAndSentWithTheirAge) {
  RttOptions options;
  options.max_entries = 2;
  options.max_age = absl::Minutes(5);
  RttStore store("", options);
  const absl::Time t0 = absl::FromUnixSeconds(1'900'000'000);
  ASSERT_TRUE(store.Record("a", absl::Milliseconds(10), t0).ok());
  ASSERT_TRUE(store.Record("b", absl::Milliseconds(20), t0 + absl::Seconds(1)).ok());
  ASSERT_TRUE(store.Record("c", absl::Milliseconds(30), t0 + absl::Seconds(2)).ok());
  std::vector<std::string> ids;
  for (const MeasuredRtt& m : store.Fresh(t0 + absl::Seconds(3))) ids.push_back(m.datacenter_id);
  EXPECT_THAT(ids, ElementsAre("c", "b"));  // most recent first, at most 2
  DirectoryRequest request;
  store.AddTo(&request, t0 + absl::Seconds(62));
  ASSERT_EQ(request.observed_rtts.size(), 2u);
  EXPECT_EQ(request.observed_rtts[0].datacenter_id, "c");
  EXPECT_EQ(request.observed_rtts[0].rtt, absl::Milliseconds(30));
  EXPECT_EQ(request.observed_rtts[0].age, absl::Seconds(60));
  // A request that carries its own RTTs is left alone.
  store.AddTo(&request, t0);
  EXPECT_EQ(request.observed_rtts.size(), 2u);
  EXPECT_TRUE(store.Fresh(t0 + absl::Minutes(6)).empty());
}

TEST_F(ClientLibraryTest, ConnectOnAPrimaryIsNotAFallback) {
  server_.Report(v1::HEALTH_STATUS_HEALTHY, kUsDcs);
  auto client = MakeClient({});
  auto resolution = client->Resolve(UsRequest());
  ASSERT_TRUE(resolution.ok()) << resolution.status();

  auto connection = client->Connect(UsRequest(), *resolution,
                                    [](const DataCenter&) { return absl::OkStatus(); });

  ASSERT_TRUE(connection.ok()) << connection.status();
  EXPECT_EQ(connection->datacenter.id, resolution->plan.attempts[0].datacenter.id);
  EXPECT_FALSE(connection->fallback);
  ASSERT_TRUE(connection->report.ok());
  EXPECT_FALSE(connection->report->cross_border);
  EXPECT_EQ(testing::MetricValue(server_.registry(), "dcdir_client_fallbacks_total",
                                 {{"client_region", "us"}, {"dc_region", "us"},
                                  {"cross_border", "false"}}),
            0);
}

TEST_F(ClientLibraryTest, UsesTheDiskCacheWhenNoServerAnswers) {
  server_.Report(v1::HEALTH_STATUS_HEALTHY, kUsDcs);
  auto clock = std::make_shared<FakeClientClock>();
  ClientOptions options;
  options.cache_dir = TempDir();
  options.clock = clock;
  options.max_attempts = 2;
  auto client = MakeClient(options);
  auto fresh = client->Resolve(UsRequest());
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  const absl::Time fetched_at = clock->Now();
  server_.Shutdown();
  clock->Advance(absl::Seconds(30));

  auto cached = client->Resolve(UsRequest());

  ASSERT_TRUE(cached.ok()) << cached.status();
  EXPECT_EQ(cached->source, Source::kCache);
  EXPECT_EQ(cached->fetched_at, fetched_at);
  EXPECT_EQ(Ids(cached->plan), Ids(fresh->plan));
  EXPECT_EQ(cached->directory.snapshot_version, fresh->directory.snapshot_version);
}

TEST_F(ClientLibraryTest, CachedAnswerExpiresAfterTtlPlusMaxStale) {
  server_.Report(v1::HEALTH_STATUS_HEALTHY, kUsDcs);
  auto clock = std::make_shared<FakeClientClock>();
  ClientOptions options;
  options.cache_dir = TempDir();
  options.clock = clock;
  options.max_attempts = 1;
  options.max_stale = absl::Seconds(30);
  auto client = MakeClient(options);
  auto fresh = client->Resolve(UsRequest());
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  ASSERT_EQ(fresh->directory.ttl, absl::Seconds(60));  // answer_ttl of the example world
  server_.Shutdown();

  clock->Advance(absl::Seconds(89));  // 60 s ttl + 30 s max_stale not yet over
  auto still_good = client->Resolve(UsRequest());
  clock->Advance(absl::Seconds(2));  // now 91 s after the fetch
  auto expired = client->Resolve(UsRequest());

  ASSERT_TRUE(still_good.ok()) << still_good.status();
  EXPECT_EQ(still_good->source, Source::kCache);
  EXPECT_EQ(expired.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ErrorReason(expired.status()), "CACHE_EXPIRED");
}

TEST_F(ClientLibraryTest, NoCacheAndNoServerIsUnavailable) {
  ClientOptions options;
  options.addresses = {absl::StrCat("127.0.0.1:", ClosedPort())};
  options.clock = std::make_shared<FakeClientClock>();
  options.max_attempts = 2;
  auto client = MakeClient(options);

  auto resolution = client->Resolve(UsRequest());

  EXPECT_EQ(resolution.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(IsTransportFailure(resolution.status()));
  EXPECT_THAT(std::string(resolution.status().message()),
              ::testing::HasSubstr("no disk cache is configured"));
}

TEST_F(ClientLibraryTest, PinnedToUsNeverGetsACanadianDcDuringAUsOutage) {
  server_.Report(v1::HEALTH_STATUS_DOWN, kUsDcs);
  server_.Report(v1::HEALTH_STATUS_HEALTHY, kUsSecondaries);
  std::vector<std::string> refused;
  ClientOptions options;
  options.pinning.countries = {"US"};
  options.on_refused = [&](const RefusedDatacenter& r) { refused.push_back(r.datacenter.id); };
  auto client = MakeClient(options);

  auto resolution = client->Resolve(UsRequest());

  EXPECT_EQ(resolution.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorReason(resolution.status()), "PINNING_REFUSED_ALL");
  EXPECT_THAT(refused, ElementsAre("ca-yyz", "ca-yvr", "mx-qro", "eu-ams"));
}

TEST_F(ClientLibraryTest, PinningDropsRefusedDcsFromThePlanAndTheAnswer) {
  server_.Report(v1::HEALTH_STATUS_DOWN, kUsDcs);
  server_.Report(v1::HEALTH_STATUS_HEALTHY, kUsSecondaries);
  ClientOptions options;
  options.pinning.countries = {"US", "MX"};
  auto client = MakeClient(options);

  auto resolution = client->Resolve(UsRequest());

  ASSERT_TRUE(resolution.ok()) << resolution.status();
  EXPECT_THAT(Ids(resolution->plan), ElementsAre("mx-qro"));
  EXPECT_THAT(Ids(resolution->directory.secondaries), ElementsAre("mx-qro"));
  std::vector<std::string> refused;
  for (const RefusedDatacenter& r : resolution->plan.refused) refused.push_back(r.datacenter.id);
  EXPECT_THAT(refused, ElementsAre("ca-yyz", "ca-yvr", "eu-ams"));
  // A refused DC can never be reported as used.
  auto report = client->ReportFallback(UsRequest(), *resolution, "ca-yyz", 1);
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ClientLibraryTest, WatcherSeesTheAnswerChangeAfterAHealthReport) {
  server_.Report(v1::HEALTH_STATUS_HEALTHY, kUsDcs);
  auto client = MakeClient({});
  auto watcher = client->Watch(UsRequest(), nullptr);
  // Bounded polling: the first answer arrives as soon as the stream opens.
  for (int i = 0; i < 500 && watcher->updates() < 1; ++i) absl::SleepFor(absl::Milliseconds(10));
  ASSERT_GE(watcher->updates(), 1);
  ASSERT_THAT(Ids(watcher->Latest()->directory.primaries),
              UnorderedElementsAre("us-sjc", "us-den", "us-nyc", "us-iad"));

  server_.Report(v1::HEALTH_STATUS_DOWN, {"us-sjc"});
  auto has_sjc = [&] {
    auto ids = Ids(watcher->Latest()->plan);
    return std::find(ids.begin(), ids.end(), "us-sjc") != ids.end();
  };
  for (int i = 0; i < 500 && has_sjc(); ++i) absl::SleepFor(absl::Milliseconds(10));

  EXPECT_THAT(Ids(watcher->Latest()->directory.primaries),
              UnorderedElementsAre("us-den", "us-nyc", "us-iad"));
  EXPECT_GE(watcher->updates(), 2);
  watcher->Stop();
}

// ---- Retry rules, with a fake stub ----

class FakeStub final : public DirectoryStub {
 public:
  FakeStub(std::string address, std::vector<std::string>* calls, absl::Status result)
      : address_(std::move(address)), calls_(calls), result_(std::move(result)) {}
  absl::StatusOr<v1::Directory> GetDirectory(grpc::ClientContext&,
                                             const v1::GetDirectoryRequest&) override {
    calls_->push_back(address_);
    if (!result_.ok()) return result_;
    v1::Directory d;
    d.set_client_region("us");
    d.set_secondary_attempts(2);
    d.mutable_ttl()->set_seconds(60);
    d.add_primaries()->set_id("us-sjc");
    return d;
  }
  std::unique_ptr<DirectoryStream> WatchDirectory(grpc::ClientContext&,
                                                  const v1::GetDirectoryRequest&) override {
    return nullptr;
  }
  absl::StatusOr<v1::ReportFallbackResponse> ReportFallback(grpc::ClientContext&,
                                                            const v1::FallbackReport&) override {
    return v1::ReportFallbackResponse();
  }

 private:
  std::string address_;
  std::vector<std::string>* calls_;
  absl::Status result_;
};

class RetryTest : public ::testing::Test {
 protected:
  std::unique_ptr<DirectoryClient> MakeClient(std::map<std::string, absl::Status> results,
                                              int max_attempts = 6) {
    ClientOptions options;
    for (const auto& [address, status] : results) options.addresses.push_back(address);
    options.clock = clock_;
    options.max_attempts = max_attempts;
    options.cache_dir = cache_dir_;
    options.seed = 7;
    options.stub_factory = [this, results](const std::string& address) {
      return std::make_shared<FakeStub>(address, &calls_, results.at(address));
    };
    return *DirectoryClient::Create(options);
  }
  // Puts a good answer in the cache for UsRequest().
  void FillCache() {
    v1::Directory d;
    d.mutable_ttl()->set_seconds(60);
    d.add_primaries()->set_id("us-den");
    ASSERT_TRUE(DirectoryCache(cache_dir_).Store(UsProtoRequest(), d, clock_->Now()).ok());
  }

  std::shared_ptr<FakeClientClock> clock_ = std::make_shared<FakeClientClock>();
  std::string cache_dir_ = TempDir();
  std::vector<std::string> calls_;
};

TEST_F(RetryTest, TriesAddressesInTurnUntilOneAnswers) {
  auto client = MakeClient({{"a:1", absl::UnavailableError("connection refused")},
                            {"b:1", absl::DeadlineExceededError("timeout")},
                            {"c:1", absl::OkStatus()}});
  auto resolution = client->Resolve(UsRequest());
  ASSERT_TRUE(resolution.ok()) << resolution.status();
  EXPECT_THAT(calls_, ElementsAre("a:1", "b:1", "c:1"));
  EXPECT_EQ(resolution->address, "c:1");
}

TEST_F(RetryTest, BacksOffBetweenPassesAndStopsAtMaxAttempts) {
  auto client = MakeClient({{"a:1", absl::UnavailableError("down")},
                            {"b:1", absl::UnavailableError("down")}},
                           /*max_attempts=*/5);
  const absl::Time start = clock_->Now();
  auto resolution = client->Resolve(UsRequest());
  EXPECT_EQ(resolution.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(calls_, ElementsAre("a:1", "b:1", "a:1", "b:1", "a:1"));
  // Two backoffs (after each full pass): in [50, 100] ms and [100, 200] ms with 50% jitter.
  const absl::Duration slept = clock_->Now() - start;
  EXPECT_GE(slept, absl::Milliseconds(150));
  EXPECT_LE(slept, absl::Milliseconds(300));
}

TEST_F(RetryTest, ServerRejectionIsNotRetriedAndNeverServedFromCache) {
  FillCache();
  auto client = MakeClient({{"a:1", WithReason(absl::InvalidArgumentError("bad country"),
                                               "INVALID_COUNTRY")},
                            {"b:1", absl::OkStatus()}});
  auto resolution = client->Resolve(UsRequest());
  EXPECT_EQ(resolution.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorReason(resolution.status()), "INVALID_COUNTRY");
  EXPECT_THAT(calls_, ElementsAre("a:1"));
}

TEST_F(RetryTest, ServerSayingNoHealthyDcIsRetriedButFailsClosed) {
  FillCache();
  auto client = MakeClient({{"a:1", WithReason(absl::UnavailableError("none healthy"),
                                               "NO_HEALTHY_COMPLIANT_DATACENTER")}},
                           /*max_attempts=*/3);
  auto resolution = client->Resolve(UsRequest());
  EXPECT_EQ(resolution.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ErrorReason(resolution.status()), "NO_HEALTHY_COMPLIANT_DATACENTER");
  EXPECT_THAT(calls_, ElementsAre("a:1", "a:1", "a:1"));
}

TEST_F(RetryTest, TransportFailuresFallBackToTheCache) {
  FillCache();
  auto client = MakeClient({{"a:1", absl::UnavailableError("down")}}, /*max_attempts=*/2);
  auto resolution = client->Resolve(UsRequest());
  ASSERT_TRUE(resolution.ok()) << resolution.status();
  EXPECT_EQ(resolution->source, Source::kCache);
  EXPECT_THAT(Ids(resolution->plan), ElementsAre("us-den"));
}

TEST_F(RetryTest, ResolveRespectsItsDeadline) {
  ClientOptions options;
  options.addresses = {"a:1"};
  options.clock = clock_;
  options.deadline = absl::Milliseconds(250);
  options.max_attempts = 100;
  options.stub_factory = [this](const std::string& address) {
    return std::make_shared<FakeStub>(address, &calls_, absl::UnavailableError("down"));
  };
  const absl::Time start = clock_->Now();
  auto resolution = (*DirectoryClient::Create(options))->Resolve(UsRequest());
  EXPECT_EQ(resolution.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_LE(clock_->Now() - start, absl::Milliseconds(250));
  EXPECT_LT(calls_.size(), 10u);
}

// ---- The disk cache ----

TEST(DirectoryCacheTest, RoundTripsAndLeavesNoTemporaryFiles) {
  const std::string dir = TempDir();
  DirectoryCache cache(dir);
  v1::Directory d;
  d.set_client_region("us");
  d.add_primaries()->set_id("us-sjc");
  const absl::Time fetched_at = absl::FromUnixMillis(1'900'000'000'123);
  ASSERT_TRUE(cache.Store(UsProtoRequest(), d, fetched_at).ok());
  ASSERT_TRUE(cache.Store(UsProtoRequest(), d, fetched_at).ok());  // replaces

  auto loaded = cache.Load(UsProtoRequest());

  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->fetched_at, fetched_at);
  EXPECT_EQ(loaded->directory.primaries(0).id(), "us-sjc");
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    ++files;
    EXPECT_EQ(entry.path().extension(), ".cache") << entry.path();
  }
  EXPECT_EQ(files, 1);
  v1::GetDirectoryRequest other = UsProtoRequest();
  other.set_tenant_id("acme");
  EXPECT_EQ(cache.Load(other).status().code(), absl::StatusCode::kNotFound);
}

TEST(DirectoryCacheTest, ACorruptFileIsTreatedAsAbsent) {
  DirectoryCache cache(TempDir());
  std::ofstream(cache.PathFor(UsProtoRequest())) << "dcdir-directory-cache v1\ngarbage";
  EXPECT_EQ(cache.Load(UsProtoRequest()).status().code(), absl::StatusCode::kNotFound);
}

TEST(AttemptPlanTest, PinningByRegionAndCountryMustMatchBoth) {
  Pinning pinning;
  pinning.regions = {"us"};
  pinning.countries = {"us"};
  DataCenter us, ca;
  us.region = "us";
  us.country = "US";
  ca.region = "us";  // misconfigured: a CA DC in region us
  ca.country = "CA";
  EXPECT_TRUE(pinning.Allows(us));
  EXPECT_FALSE(pinning.Allows(ca));
}

// ---- The public value types and their conversion from dcdir.v1 ----

TEST(ConvertTest, DirectoryFieldByField) {
  v1::Directory d;
  d.set_client_region("us");
  v1::DataCenter* dc = d.add_primaries();
  dc->set_id("us-den");
  dc->set_region("us");
  dc->set_country("US");
  dc->set_city("Denver");
  dc->add_endpoints("gw1.example:443");
  dc->add_endpoints("gw2.example:443");
  dc->set_status(v1::HEALTH_STATUS_HEALTHY);
  dc->set_congestion(0.875);
  dc->set_congested(true);
  v1::DataCenter* secondary = d.add_secondaries();
  secondary->set_id("ca-yyz");
  secondary->set_cross_border(true);
  secondary->set_status(static_cast<v1::HealthStatus>(9));  // a status this library predates
  d.set_fallback_active(true);
  d.set_secondary_attempts(2);
  d.set_snapshot_version(77);
  d.set_stale(true);
  d.mutable_ttl()->set_seconds(60);
  d.mutable_ttl()->set_nanos(500'000'000);
  d.mutable_generated_at()->set_seconds(1'900'000'000);
  d.mutable_generated_at()->set_nanos(123'000'000);
  d.set_config_version("abc123");

  const Directory out = FromProto(d);

  EXPECT_EQ(out.client_region, "us");
  ASSERT_EQ(out.primaries.size(), 1u);
  const DataCenter& p = out.primaries[0];
  EXPECT_EQ(p.id, "us-den");
  EXPECT_EQ(p.region, "us");
  EXPECT_EQ(p.country, "US");
  EXPECT_EQ(p.city, "Denver");
  EXPECT_THAT(p.endpoints, ElementsAre("gw1.example:443", "gw2.example:443"));
  EXPECT_EQ(p.status, HealthStatus::kHealthy);
  EXPECT_EQ(p.congestion, 0.875);
  EXPECT_TRUE(p.congested);
  EXPECT_FALSE(p.cross_border);
  ASSERT_EQ(out.secondaries.size(), 1u);
  EXPECT_EQ(out.secondaries[0].id, "ca-yyz");
  EXPECT_TRUE(out.secondaries[0].cross_border);
  EXPECT_EQ(out.secondaries[0].status, HealthStatus::kUnknown);
  EXPECT_TRUE(out.fallback_active);
  EXPECT_EQ(out.secondary_attempts, 2u);
  EXPECT_EQ(out.snapshot_version, 77u);
  EXPECT_TRUE(out.stale);
  EXPECT_EQ(out.ttl, absl::Milliseconds(60'500));
  EXPECT_EQ(out.generated_at, absl::FromUnixMillis(1'900'000'000'123));
  EXPECT_EQ(out.config_version, "abc123");
}

TEST(ConvertTest, RequestFieldByField) {
  DirectoryRequest request;
  request.client_country = "DE";
  request.tenant_id = "acme";
  request.client_id = "k1";
  request.max_secondaries = 3;

  const v1::GetDirectoryRequest out = ToProto(request);

  EXPECT_EQ(out.client_country(), "DE");
  EXPECT_EQ(out.tenant_id(), "acme");
  EXPECT_EQ(out.client_id(), "k1");
  EXPECT_EQ(out.max_secondaries(), 3u);
}

TEST(ConvertTest, HealthStatusNames) {
  EXPECT_STREQ(HealthStatusName(HealthStatus::kHealthy), "HEALTHY");
  EXPECT_STREQ(HealthStatusName(HealthStatus::kDraining), "DRAINING");
  EXPECT_STREQ(HealthStatusName(HealthStatus::kDown), "DOWN");
  EXPECT_STREQ(HealthStatusName(HealthStatus::kUnknown), "UNKNOWN");
  EXPECT_STREQ(HealthStatusName(HealthStatus::kUnspecified), "UNSPECIFIED");
}

// ClientOptions::tls: the credentials are made (and their files read) by Create.
TEST(ClientTlsTest, CreateReportsAnUnreadableCaFile) {
  ClientOptions options;
  options.addresses = {"127.0.0.1:1"};
  options.tls.enabled = true;
  options.tls.ca_file = "/nonexistent/dcdir-ca.pem";

  auto client = DirectoryClient::Create(options);

  EXPECT_EQ(client.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(client.status().message()),
              ::testing::HasSubstr("/nonexistent/dcdir-ca.pem"));
}

TEST(ClientTlsTest, CreateRefusesACertificateWithoutItsKey) {
  ClientOptions options;
  options.addresses = {"127.0.0.1:1"};
  options.tls.enabled = true;
  options.tls.cert_file = "client.pem";

  auto client = DirectoryClient::Create(options);

  EXPECT_EQ(client.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace dcdir::client

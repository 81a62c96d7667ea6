// Overload: more WatchDirectory streams than --max_watch_streams and more ReportHealth calls
// than the per-DC rate get RESOURCE_EXHAUSTED; the server stays healthy (GetDirectory still
// answers) and bounded (the number of open streams never passes the limit); a watch's deadline
// ends it and frees its slot.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "dcdir/v1/directory.grpc.pb.h"
#include "dcdir/v1/reporting.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/api/server.h"
#include "tests/testing/health_report.h"
#include "tests/testing/metrics_reader.h"
#include "tests/testing/server_fixture.h"
#include "tests/testing/status_matchers.h"

namespace dcdir {
namespace {

using testing::ReasonOf;
using testing::RpcOutcome;
using testing::StatusIs;

constexpr size_t kMaxWatches = 3;

class LimitsTest : public ::testing::Test {
 protected:
  grpc::Status Report(const std::string& dc, std::string* reason = nullptr) {
    const v1::HealthReport report = testing::HealthReportOf(dc, v1::HEALTH_STATUS_HEALTHY);
    v1::ReportHealthResponse response;
    auto context = server_.AuthContext();
    grpc::Status s = server_.reporting().ReportHealth(context.get(), report, &response);
    if (reason != nullptr) *reason = ReasonOf(*context);
    return s;
  }

  grpc::StatusCode Get() {
    v1::Directory response;
    return server_.Get("US", &response).error_code();
  }

  testing::TestServer server_{{
      .auth_token = "limits-token",
      .configure =
          [](api::ServerOptions& options, const core::Clock&) {
            options.max_watch_streams = kMaxWatches;
            options.health_reports_per_second_per_dc = 2;
            options.health_report_burst_per_dc = 4;
          },
  }};
};

struct OpenWatch {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<v1::Directory>> reader;
  v1::Directory first;
};

TEST_F(LimitsTest, WatchesBeyondTheLimitAreRefusedAndTheServerStaysHealthy) {
  for (const char* dc : {"us-sjc", "us-den", "us-nyc", "us-iad"}) ASSERT_TRUE(Report(dc).ok());
  ASSERT_EQ(Get(), grpc::StatusCode::OK);
  v1::GetDirectoryRequest request;
  request.set_client_country("US");
  request.set_client_id("k");

  std::vector<std::unique_ptr<OpenWatch>> open;
  for (size_t i = 0; i < kMaxWatches; ++i) {
    auto w = std::make_unique<OpenWatch>();
    w->reader = server_.directory().WatchDirectory(&w->context, request);
    ASSERT_TRUE(w->reader->Read(&w->first)) << "watch " << i;  // the stream is open
    open.push_back(std::move(w));
  }
  EXPECT_EQ(server_.server().open_watches(), kMaxWatches);

  // Drive it well past the limit: every extra watch is refused, none is kept.
  for (int i = 0; i < 20; ++i) {
    grpc::ClientContext context;
    auto reader = server_.directory().WatchDirectory(&context, request);
    v1::Directory ignored;
    EXPECT_FALSE(reader->Read(&ignored));
    grpc::Status s = reader->Finish();
    EXPECT_THAT((RpcOutcome{s, ReasonOf(context)}),
                StatusIs(grpc::StatusCode::RESOURCE_EXHAUSTED, "TOO_MANY_WATCHES"));
    EXPECT_EQ(server_.server().open_watches(), kMaxWatches);
  }
  EXPECT_EQ(Get(), grpc::StatusCode::OK);  // unary calls are unaffected

  // Closing one frees its slot.
  open.back()->context.TryCancel();
  EXPECT_EQ(open.back()->reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  open.pop_back();
  auto again = std::make_unique<OpenWatch>();
  for (int attempt = 0; attempt < 100; ++attempt) {  // the server sees the cancel asynchronously
    again = std::make_unique<OpenWatch>();
    again->reader = server_.directory().WatchDirectory(&again->context, request);
    if (again->reader->Read(&again->first)) break;
    EXPECT_EQ(again->reader->Finish().error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(again->first.client_region(), "us");
  for (auto& w : open) w->context.TryCancel();
  again->context.TryCancel();
}

TEST_F(LimitsTest, WatchDeadlineIsHonouredAndFreesItsSlot) {
  for (const char* dc : {"us-sjc", "us-den", "us-nyc", "us-iad"}) ASSERT_TRUE(Report(dc).ok());
  v1::GetDirectoryRequest request;
  request.set_client_country("US");
  request.set_client_id("k");
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(300));
  auto reader = server_.directory().WatchDirectory(&context, request);
  v1::Directory first;
  ASSERT_TRUE(reader->Read(&first));
  EXPECT_EQ(first.client_region(), "us");
  EXPECT_EQ(server_.server().open_watches(), 1u);
  v1::Directory next;
  EXPECT_FALSE(reader->Read(&next));  // nothing changes: the stream ends at the deadline
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  // The server notices asynchronously and frees the slot.
  for (int i = 0; i < 500 && server_.server().open_watches() != 0; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(server_.server().open_watches(), 0u);
  EXPECT_EQ(Get(), grpc::StatusCode::OK);
}

TEST_F(LimitsTest, HealthReportsAreRateLimitedPerDatacenter) {
  std::string reason;
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(Report("us-sjc").ok()) << i;  // the burst
  for (int i = 0; i < 50; ++i) {
    EXPECT_THAT((RpcOutcome{Report("us-sjc", &reason), reason}),
                StatusIs(grpc::StatusCode::RESOURCE_EXHAUSTED, "RATE_LIMITED"));
  }
  EXPECT_EQ(testing::MetricValue(server_.registry(), "dcdir_health_reports_total",
                                 {{"result", "rate_limited"}}),
            50.0);
  EXPECT_EQ(testing::MetricValue(server_.registry(), "dcdir_health_reports_total",
                                 {{"result", "accepted"}}),
            4.0);
  // Another DC has its own bucket.
  for (const char* dc : {"us-den", "us-nyc", "us-iad"}) EXPECT_TRUE(Report(dc).ok()) << dc;
  EXPECT_EQ(Get(), grpc::StatusCode::OK);  // the accepted reports are served
  // Half a second later one more token (2/s) is there, and only one.
  server_.clock().Advance(absl::Milliseconds(500));
  EXPECT_TRUE(Report("us-sjc").ok());
  EXPECT_EQ(Report("us-sjc", &reason).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
}

TEST_F(LimitsTest, OversizedRequestIsRejected) {
  v1::GetDirectoryRequest request;
  request.set_client_country("US");
  request.set_client_id(std::string(128 * 1024, 'x'));  // above the 64 KiB default
  v1::Directory response;
  grpc::ClientContext context;
  EXPECT_EQ(server_.directory().GetDirectory(&context, request, &response).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(Get(), grpc::StatusCode::UNAVAILABLE);  // still answering (no reports yet)
}

}  // namespace
}  // namespace dcdir

namespace dcdir {
namespace {

struct DeadListener {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> calls;
};

// A server whose watchdog checks every 100 ms and reports to `dead` after two failures.
testing::TestServerOptions WithWatchdog(DeadListener* dead) {
  auto configure = [dead](api::ServerOptions& options, const core::Clock&) {
    options.watchdog_period = absl::Milliseconds(100);
    options.watchdog_failures = 2;
    options.on_listener_dead = [dead](const std::string& why) {
      std::lock_guard<std::mutex> lock(dead->mu);
      dead->calls.push_back(why);
      dead->cv.notify_all();
    };
  };
  return {.auth_token = "", .configure = configure};
}

// The watchdog's health Check goes through the gRPC server over a private socketpair and the
// accept loop's heartbeat is fresh: a live server is never declared dead.
TEST(ListenerWatchdogTest, ALiveListenerIsNeverDeclaredDead) {
  DeadListener dead;
  testing::TestServer server(WithWatchdog(&dead));
  absl::SleepFor(absl::Seconds(1));  // ~10 watchdog rounds
  server.Shutdown();
  std::lock_guard<std::mutex> lock(dead.mu);
  EXPECT_TRUE(dead.calls.empty()) << dead.calls.front();
}

// An accept loop that stopped running is found and reported (the binary exits 1 so that the
// orchestrator restarts it); the health service says NOT_SERVING from then on.
TEST(ListenerWatchdogTest, AStoppedAcceptLoopIsReported) {
  DeadListener dead;
  testing::TestServer server(WithWatchdog(&dead));
  server.server().listener().Stop();
  std::unique_lock<std::mutex> lock(dead.mu);
  ASSERT_TRUE(dead.cv.wait_for(lock, std::chrono::seconds(10), [&] { return !dead.calls.empty(); }));
  EXPECT_THAT(dead.calls.front(),
              ::testing::StartsWith("the gRPC port stopped serving: the accept loop has not run "
                                    "for "));
  EXPECT_EQ(dead.calls.size(), 1u);
  lock.unlock();
  server.Shutdown();
}

}  // namespace
}  // namespace dcdir

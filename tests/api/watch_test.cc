// WatchDirectory fan-out (service/api/directory_service.h, WatchHub): a client that stops
// reading is bounded (its messages coalesce, at most one in flight) and never delays the
// others; the fan-out runs on the hub's thread; the per-address cap's key.

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/support/channel_arguments.h"
#include "gtest/gtest.h"
#include "service/api/directory_service.h"
#include "tests/testing/metrics_reader.h"
#include "tests/testing/server_fixture.h"

namespace dcdir::testing {
namespace {

TEST(WatchHubTest, PeerAddressDropsThePort) {
  EXPECT_EQ(api::WatchHub::PeerAddress("ipv4:10.0.0.7:51234"), "ipv4:10.0.0.7");
  EXPECT_EQ(api::WatchHub::PeerAddress("ipv6:[::1]:5"), "ipv6:[::1]");
  EXPECT_EQ(api::WatchHub::PeerAddress("ipv6:[2001:db8::2]:443"), "ipv6:[2001:db8::2]");
  EXPECT_EQ(api::WatchHub::PeerAddress("unix:/run/dcdir.sock"), "unix:/run/dcdir.sock");
  EXPECT_EQ(api::WatchHub::PeerAddress(""), "");
}

bool OffersUsNyc(const v1::Directory& d) {
  for (const auto& dc : d.primaries()) {
    if (dc.id() == "us-nyc") return true;
  }
  return false;
}

bool OffersJpTyo(const v1::Directory& d) {
  for (const auto& dc : d.primaries()) {
    if (dc.id() == "jp-tyo") return true;
  }
  return false;
}

// A client that stops reading gets at most what its flow-control window holds plus one message
// in flight; the server keeps one "send again" flag for it, whatever the number of changes; a
// reading client on the same server keeps getting every change meanwhile; and when the stuck
// client reads again it gets the newest answer, not a backlog.
TEST(WatchDirectoryTest, AStuckWatcherIsBoundedCoalescedAndDelaysNobody) {
  TestServer t;
  t.Report(v1::HEALTH_STATUS_HEALTHY);

  // The stuck client: a window of ~1 KiB (no BDP probing), so its stream fills after a few
  // messages.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 1024);
  args.SetInt("dcdir.test.stuck", 1);  // its own connection
  auto stuck_channel = grpc::CreateCustomChannel(
      absl::StrCat("127.0.0.1:", t.server().port()), grpc::InsecureChannelCredentials(), args);
  auto stuck_stub = v1::DirectoryService::NewStub(stuck_channel);
  v1::GetDirectoryRequest jp;
  jp.set_client_country("JP");
  jp.set_client_id("stuck");
  grpc::ClientContext stuck_context;
  auto stuck = stuck_stub->WatchDirectory(&stuck_context, jp);
  v1::Directory d;
  ASSERT_TRUE(stuck->Read(&d));
  ASSERT_TRUE(OffersJpTyo(d));

  // The reading client, on the fixture's channel.
  v1::GetDirectoryRequest us;
  us.set_client_country("US");
  us.set_client_id("reader");
  grpc::ClientContext reader_context;
  auto reader = t.directory().WatchDirectory(&reader_context, us);
  ASSERT_TRUE(reader->Read(&d));
  ASSERT_TRUE(OffersUsNyc(d));

  // 400 changes, each visible to both: us-nyc and jp-tyo flip together. Then one last change
  // no earlier message showed (congestion 0.42), so the reader can tell it got the newest.
  constexpr int kFlips = 400;
  auto newest = [](const v1::Directory& m) {
    for (const auto& dc : m.primaries()) {
      if (dc.congestion() > 0.41 && dc.congestion() < 0.43) return true;
    }
    return false;
  };
  std::atomic<int> reader_messages{0};
  absl::Notification reader_saw_newest;
  std::thread read_loop([&] {
    v1::Directory m;
    while (reader->Read(&m)) {
      ++reader_messages;
      if (newest(m) && !reader_saw_newest.HasBeenNotified()) reader_saw_newest.Notify();
    }
  });
  for (int i = 0; i < kFlips; ++i) {
    t.Report(i % 2 == 0 ? v1::HEALTH_STATUS_DOWN : v1::HEALTH_STATUS_HEALTHY,
             {"us-nyc", "jp-tyo"});
  }
  for (const char* dc : {"us-nyc", "jp-tyo"}) {
    v1::HealthReport last;
    last.set_datacenter_id(dc);
    last.set_status(v1::HEALTH_STATUS_HEALTHY);
    last.set_congestion(0.42);
    v1::ReportHealthResponse response;
    ASSERT_TRUE(t.reporting().ReportHealth(t.AuthContext().get(), last, &response).ok());
  }
  const bool final_up = true;
  EXPECT_TRUE(reader_saw_newest.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_GT(reader_messages.load(), 1);

  // What the server sent the stuck client: its first message, what its small window took and
  // one in flight, not one message per change.
  const double jp_sent = MetricValue(t.registry(), "dcdir_directory_requests_total",
                                     {{"client_region", "jp"}, {"code", "OK"}})
                             .value_or(-1);
  EXPECT_GE(jp_sent, 1);
  EXPECT_LT(jp_sent, 60) << "messages sent to a client that stopped reading";

  // Reading again, it catches up with a few messages and ends on the newest answer.
  int caught_up = 0;
  while (caught_up < kFlips && stuck->Read(&d)) {
    ++caught_up;
    if (newest(d)) break;
  }
  EXPECT_TRUE(newest(d));
  EXPECT_EQ(OffersJpTyo(d), final_up);
  EXPECT_LT(caught_up, 60) << "messages read to catch up";

  stuck_context.TryCancel();
  reader_context.TryCancel();
  read_loop.join();
  EXPECT_GE(t.server().watch_passes(), 1u);
}

}  // namespace
}  // namespace dcdir::testing

// One client must not take every WatchDirectory slot (issue "hold up against a hostile or
// careless client", Medium item 3), on the real binary: --max_watch_streams_per_peer caps the
// streams one client address holds (RESOURCE_EXHAUSTED TOO_MANY_WATCHES_FROM_PEER), other
// addresses keep getting watches, the server-wide cap still holds (TOO_MANY_WATCHES), and a
// closed stream gives its slot back. Clients come from distinct loopback addresses
// (127.0.0.2-4, clients/cpp/source_address.h); the "normal" client from 127.0.0.1.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "clients/cpp/source_address.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/spawned_server.h"
#include "tests/testing/status_matchers.h"

namespace dcdir::testing {
namespace {

const std::string kWorld = DCDIR_SOURCE_DIR "/deploy/config/world.yaml";

std::string ReasonOf(const grpc::ClientContext& context) {
  const auto& trailers = context.GetServerTrailingMetadata();
  auto it = trailers.find("dcdir-error-reason");
  return it == trailers.end() ? "" : std::string(it->second.data(), it->second.size());
}

struct Watch {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<v1::Directory>> reader;
  v1::Directory first;
  bool open = false;
};

// One client address: a connection from it and its watches.
class Client {
 public:
  Client(const SpawnedServer& server, const std::string& from) {
    auto channel = client::ChannelFromAddress(absl::StrCat("127.0.0.1:", server.port()), from,
                                              absl::Seconds(5));
    EXPECT_TRUE(channel.ok()) << channel.status();
    if (channel.ok()) stub_ = v1::DirectoryService::NewStub(*channel);
  }

  // Opens a watch; the Watch says whether the first message came (open) and, if not, the
  // stream's status and reason.
  std::unique_ptr<Watch> Open(grpc::Status* refused = nullptr, std::string* reason = nullptr) {
    auto w = std::make_unique<Watch>();
    w->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::GetDirectoryRequest request;
    request.set_client_country("US");
    request.set_client_id("k");
    w->reader = stub_->WatchDirectory(&w->context, request);
    w->open = w->reader->Read(&w->first);
    if (!w->open) {
      grpc::Status s = w->reader->Finish();
      if (refused != nullptr) *refused = s;
      if (reason != nullptr) *reason = ReasonOf(w->context);
    }
    return w;
  }

 private:
  std::unique_ptr<v1::DirectoryService::Stub> stub_;
};

TEST(WatchCapTest, OneAddressCannotTakeEveryWatchSlot) {
  auto started = SpawnedServer::Start(
      {.config_path = kWorld,
       .flags = {"--max_watch_streams=6", "--max_watch_streams_per_peer=3"}});
  ASSERT_TRUE(started.ok()) << started.status();
  SpawnedServer& server = **started;
  for (const char* dc : {"us-sjc", "us-den", "us-nyc", "us-iad"}) {
    ASSERT_TRUE(server.Report(dc, v1::HEALTH_STATUS_HEALTHY).ok()) << dc;
  }

  // 127.0.0.2 gets its 3 streams, and every further one is refused with its own reason.
  Client attacker(server, "127.0.0.2");
  std::vector<std::unique_ptr<Watch>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(attacker.Open());
    ASSERT_TRUE(held.back()->open) << "watch " << i;
    EXPECT_EQ(held.back()->first.client_region(), "us");
  }
  for (int i = 0; i < 10; ++i) {
    grpc::Status refused;
    std::string reason;
    auto extra = attacker.Open(&refused, &reason);
    EXPECT_FALSE(extra->open);
    EXPECT_THAT((RpcOutcome{refused, reason}),
                StatusIs(grpc::StatusCode::RESOURCE_EXHAUSTED, "TOO_MANY_WATCHES_FROM_PEER"));
    EXPECT_THAT(refused.error_message(), ::testing::HasSubstr("this client address"));
  }

  // Another address is still served.
  Client normal(server, "127.0.0.1");
  auto mine = normal.Open();
  ASSERT_TRUE(mine->open);
  EXPECT_EQ(mine->first.client_region(), "us");

  // The server-wide cap still holds: 3 + 1 + 2 = 6 open, the next address gets TOO_MANY_WATCHES.
  Client third(server, "127.0.0.3");
  auto a = third.Open();
  auto b = third.Open();
  ASSERT_TRUE(a->open && b->open);
  Client fourth(server, "127.0.0.4");
  grpc::Status refused;
  std::string reason;
  auto over = fourth.Open(&refused, &reason);
  EXPECT_FALSE(over->open);
  EXPECT_THAT((RpcOutcome{refused, reason}),
              StatusIs(grpc::StatusCode::RESOURCE_EXHAUSTED, "TOO_MANY_WATCHES"));

  // A stream 127.0.0.2 closes gives its slot back to it (the server sees the cancel
  // asynchronously: poll).
  held.back()->context.TryCancel();
  EXPECT_EQ(held.back()->reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  held.pop_back();
  std::unique_ptr<Watch> again;
  ASSERT_TRUE(PollUntil(
      [&] {
        again = attacker.Open();
        return again->open;
      },
      absl::Seconds(10), absl::Milliseconds(20)))
      << server.log();
  EXPECT_EQ(again->first.client_region(), "us");
  for (auto& w : held) w->context.TryCancel();
}

}  // namespace
}  // namespace dcdir::testing

// A hostile or careless client against the real binary's ports (issue "hold up against a
// hostile or careless client", High item and the /metrics item):
//   - a connection flood that runs the process out of descriptors does not stop the gRPC port
//     for good: once the flood ends, a normal client gets answers without a restart;
//   - the per-client connection cap refuses one address's excess while others are served, and
//     idle connections are closed by the server;
//   - idle connections on the metrics port cannot stall a scrape, and only /metrics is served.
// The attacker's sockets come from 127.0.0.2, the normal client from 127.0.0.1.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/spawned_server.h"

namespace dcdir::testing {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

// A TCP connection from `source` to 127.0.0.1:`port`; -1 on failure.
int ConnectFrom(const char* source, int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in local{};
  local.sin_family = AF_INET;
  inet_pton(AF_INET, source, &local.sin_addr);
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof(remote)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// The HTTP/2 client preface and an empty SETTINGS frame: a connection that completed its
// handshake and then says nothing.
void SendPreface(int fd) {
  static const char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\4\0\0\0\0\0";
  (void)!::write(fd, kPreface, sizeof(kPreface) - 1);
}

// True when the server closed `fd` (EOF or reset) within `timeout`; frames it sent are read
// and dropped.
bool ClosedByServer(int fd, absl::Duration timeout) {
  const absl::Time until = absl::Now() + timeout;
  char buf[4096];
  while (absl::Now() < until) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) return true;
  }
  return false;
}

bool Answers(SpawnedServer& server) {
  v1::Directory d;
  return server.Get("US", &d).ok();
}

void ReportAll(SpawnedServer& server) {
  for (const char* dc : {"us-sjc", "us-den", "us-nyc", "us-iad"}) {
    ASSERT_TRUE(server.Report(dc, v1::HEALTH_STATUS_HEALTHY).ok()) << dc;
  }
}

const std::string kWorld = DCDIR_SOURCE_DIR "/deploy/config/world.yaml";

// The High item: with a small descriptor limit, a flood of held connections plus
// connect/close pairs drives the process out of descriptors. gRPC 1.51's own listener never
// accepted again after that; the port must serve a normal client again once the flood ends.
TEST(ConnectionFloodTest, RunningOutOfDescriptorsDoesNotStopThePortForGood) {
  auto started = SpawnedServer::Start(
      {.config_path = kWorld,
       .flags = {"--max_connections=0", "--max_connections_per_peer=0",
                 "--handshake_timeout=60s", "--max_connection_idle=0"},
       .wrapper = {"/usr/bin/prlimit", "--nofile=64:256", "--"}});
  ASSERT_TRUE(started.ok()) << started.status();
  SpawnedServer& server = **started;
  // The soft limit (64) was raised to the hard one (256) at start.
  EXPECT_THAT(LogMessages(server.log()), Contains("descriptor limit 256 (raised from 64)"));
  ReportAll(server);
  ASSERT_TRUE(Answers(server));

  std::vector<int> held;
  for (int i = 0; i < 400; ++i) {
    const int fd = ConnectFrom("127.0.0.2", server.port());
    if (fd >= 0) held.push_back(fd);
  }
  // Connect/close pairs from four threads on top.
  std::vector<std::thread> churn;
  for (int t = 0; t < 4; ++t) {
    churn.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        const int fd = ConnectFrom("127.0.0.2", server.port());
        if (fd >= 0) ::close(fd);
      }
    });
  }
  for (std::thread& t : churn) t.join();
  ASSERT_TRUE(PollUntil([&] { return server.log().find("out of file descriptors") !=
                                     std::string::npos; },
                        absl::Seconds(10)))
      << server.log();
  for (int fd : held) ::close(fd);
  // A normal client is served again, without a restart.
  const std::optional<absl::Duration> back =
      PollUntil([&] { return Answers(server); }, absl::Seconds(15), absl::Milliseconds(100));
  ASSERT_TRUE(back.has_value()) << server.log();
  EXPECT_GT(server.Metric("dcdir_grpc_connections_refused_total", {{"reason", "descriptors"}})
                .value_or(0),
            0.0);
  EXPECT_FALSE(server.process().Wait(absl::ZeroDuration()).has_value());  // still running
  EXPECT_THAT(server.log(),
              HasSubstr("gRPC listener: out of file descriptors (Too many open files); refusing "
                        "new connections until some close (still listening;"));
}

// One address holding many HTTP/2 connections: its excess is refused while another address is
// served, and the held connections are closed once idle.
TEST(ConnectionFloodTest, PerClientCapAndIdleTimeoutBoundHeldConnections) {
  auto started = SpawnedServer::Start(
      {.config_path = kWorld,
       .flags = {"--max_connections_per_peer=50", "--max_connection_idle=2s"}});
  ASSERT_TRUE(started.ok()) << started.status();
  SpawnedServer& server = **started;
  ReportAll(server);
  std::vector<int> held;
  for (int i = 0; i < 100; ++i) {
    const int fd = ConnectFrom("127.0.0.2", server.port());
    ASSERT_GE(fd, 0);
    SendPreface(fd);
    held.push_back(fd);
  }
  ASSERT_TRUE(PollUntil(
      [&] {
        return server.Metric("dcdir_grpc_connections_refused_total", {{"reason", "peer_limit"}}) ==
               50.0;
      },
      absl::Seconds(10)))
      << server.MetricsText();
  // Another address is served while the 50 are held.
  EXPECT_TRUE(Answers(server));
  // The server closes every held connection once idle (2 s), refused ones at once.
  int closed = 0;
  for (int fd : held) closed += ClosedByServer(fd, absl::Seconds(10)) ? 1 : 0;
  EXPECT_EQ(closed, 100);
  for (int fd : held) ::close(fd);
  EXPECT_TRUE(PollUntil([&] { return server.Metric("dcdir_grpc_connections").value_or(99) <= 1; },
                        absl::Seconds(5)))
      << server.MetricsText();
}

// Idle connections on the metrics port (each held a civetweb worker for 30 s before) cannot
// stall a scrape; only /metrics is served.
TEST(MetricsEndpointTest, IdleConnectionsCannotStallAScrapeAndOnlyMetricsIsServed) {
  auto started = SpawnedServer::Start({.config_path = kWorld});
  ASSERT_TRUE(started.ok()) << started.status();
  SpawnedServer& server = **started;
  std::vector<int> idle;
  for (int i = 0; i < 40; ++i) {
    const int fd = ConnectFrom("127.0.0.2", server.metrics_port());
    if (fd >= 0) idle.push_back(fd);
  }
  EXPECT_GE(idle.size(), 32u);
  const absl::Time start = absl::Now();
  const std::string body = server.MetricsText();
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  EXPECT_THAT(body, HasSubstr("# TYPE dcdir_directory_requests_total counter"));
  for (int fd : idle) ::close(fd);
  // Exactly /metrics: a raw request for other paths.
  auto status_of = [&](const std::string& request_line) {
    const int fd = ConnectFrom("127.0.0.1", server.metrics_port());
    const std::string request = request_line + "\r\nHost: x\r\nConnection: close\r\n\r\n";
    (void)!::write(fd, request.data(), request.size());
    std::string response;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof(buf))) > 0) response.append(buf, static_cast<size_t>(n));
    ::close(fd);
    return response.substr(0, response.find("\r\n"));
  };
  EXPECT_EQ(status_of("GET /metrics HTTP/1.1"), "HTTP/1.1 200 OK");
  EXPECT_EQ(status_of("GET /metricsX HTTP/1.1"), "HTTP/1.1 404 Not Found");
  EXPECT_EQ(status_of("GET /metrics/ HTTP/1.1"), "HTTP/1.1 404 Not Found");
  EXPECT_EQ(status_of("GET /METRICS HTTP/1.1"), "HTTP/1.1 404 Not Found");
  EXPECT_EQ(status_of("POST /metrics HTTP/1.1"), "HTTP/1.1 405 Method Not Allowed");
}

}  // namespace
}  // namespace dcdir::testing

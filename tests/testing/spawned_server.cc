#include "tests/testing/spawned_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "tests/testing/health_report.h"
#include "tests/testing/redis_fixture.h"
#include "tests/testing/temp_dir.h"

namespace dcdir::testing {
namespace {

constexpr char kFaketimeLibrary[] = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";

// One HTTP/1.0 GET on 127.0.0.1:`port` (2 s timeouts); the body, or "" on any failure.
std::string HttpGet(int port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const std::string request =
        absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    if (::write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buf[16384];
      ssize_t n;
      while ((n = ::read(fd, buf, sizeof(buf))) > 0) response.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  const size_t body = response.find("\r\n\r\n");
  if (response.rfind("HTTP/1.", 0) != 0 || body == std::string::npos) return "";
  if (response.find(" 200 ") > response.find("\r\n")) return "";
  return response.substr(body + 4);
}

}  // namespace

std::vector<std::string> FaketimeEnv(const std::string& timestamp_file) {
  if (::access(kFaketimeLibrary, R_OK) != 0) return {};
  return {absl::StrCat("LD_PRELOAD=", kFaketimeLibrary),
          absl::StrCat("FAKETIME_TIMESTAMP_FILE=", timestamp_file), "FAKETIME_NO_CACHE=1",
          "FAKETIME_DONT_FAKE_MONOTONIC=1"};
}

absl::StatusOr<std::unique_ptr<SpawnedServer>> SpawnedServer::Start(SpawnOptions options) {
  std::unique_ptr<SpawnedServer> s(new SpawnedServer());
  absl::StatusOr<int> metrics_port = PickFreePort();
  if (!metrics_port.ok()) return metrics_port.status();
  s->metrics_port_ = *metrics_port;
  s->token_ = options.token;
  std::vector<std::string> argv = {DCDIR_SERVER_BIN,
                                   absl::StrCat("--config=", options.config_path),
                                   "--grpc_host=127.0.0.1",
                                   "--grpc_port=0",
                                   "--metrics_host=127.0.0.1",
                                   absl::StrCat("--metrics_port=", s->metrics_port_)};
  if (!options.token.empty()) {
    const std::string dir = MakeTempDir("dcdir-spawn");
    const std::string token_file = dir + "/token";
    std::ofstream(token_file) << options.token << "\n";
    argv.push_back(absl::StrCat("--auth_token_file=", token_file));
  }
  argv.insert(argv.end(), options.flags.begin(), options.flags.end());
  argv.insert(argv.begin(), options.wrapper.begin(), options.wrapper.end());
  s->process_ = std::make_unique<Subprocess>(argv, options.env);
  // "listening on HOST:PORT" (HOST may be "::" when a test binds every address).
  const std::regex listening(R"(listening on \S*:(\d+))");
  for (int i = 0; i < 4000 && s->port_ == 0; ++i) {
    std::smatch m;
    const std::string err = s->process_->err();
    if (std::regex_search(err, m, listening)) {
      if (!absl::SimpleAtoi(m[1].str(), &s->port_)) break;
      continue;
    }
    if (s->process_->Wait(absl::Milliseconds(5)).has_value()) break;
  }
  if (s->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("dcdir-server did not start listening; its log:\n", s->process_->err()));
  }
  s->channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", s->port_),
                                    grpc::InsecureChannelCredentials());
  s->directory_ = v1::DirectoryService::NewStub(s->channel_);
  s->reporting_ = v1::ReportingService::NewStub(s->channel_);
  s->admin_ = v1::AdminService::NewStub(s->channel_);
  return s;
}

SpawnedServer::~SpawnedServer() = default;

std::unique_ptr<grpc::ClientContext> SpawnedServer::Context(bool auth) const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  if (auth && !token_.empty()) context->AddMetadata("authorization", "Bearer " + token_);
  return context;
}

grpc::Status SpawnedServer::Report(const std::string& dc, v1::HealthStatus status,
                                   double congestion, absl::Duration ttl,
                                   v1::ReportHealthResponse* response) {
  const v1::HealthReport report = HealthReportOf(dc, status, congestion, ttl);
  v1::ReportHealthResponse ignored;
  return reporting_->ReportHealth(Context(true).get(), report,
                                  response != nullptr ? response : &ignored);
}

grpc::Status SpawnedServer::Get(const std::string& country, v1::Directory* out,
                                const std::string& client_id, const std::string& tenant) {
  v1::GetDirectoryRequest request;
  request.set_client_country(country);
  request.set_client_id(client_id);
  request.set_tenant_id(tenant);
  return directory_->GetDirectory(Context().get(), request, out);
}

grpc::Status SpawnedServer::Explain(const std::string& country, v1::DirectoryExplanation* out,
                                    const std::string& tenant) {
  v1::GetDirectoryRequest request;
  request.set_client_country(country);
  request.set_client_id("k");
  request.set_tenant_id(tenant);
  return directory_->ExplainDirectory(Context(true).get(), request, out);
}

grpc::Status SpawnedServer::List(v1::ListDataCentersResponse* out) {
  return admin_->ListDataCenters(Context(true).get(), v1::ListDataCentersRequest(), out);
}

std::string SpawnedServer::MetricsText() const { return HttpGet(metrics_port_, "/metrics"); }

std::optional<double> SpawnedServer::Metric(const std::string& name,
                                            const std::map<std::string, std::string>& labels) const {
  for (absl::string_view line : absl::StrSplit(MetricsText(), '\n')) {
    if (line.empty() || line[0] == '#') continue;
    absl::string_view series = line.substr(0, line.rfind(' '));
    absl::string_view metric = series.substr(0, series.find('{'));
    if (metric != name) continue;
    bool all = true;
    for (const auto& [key, value] : labels) {
      all = all && series.find(absl::StrCat(key, "=\"", value, "\"")) != absl::string_view::npos;
    }
    double v = 0;
    if (all && absl::SimpleAtod(line.substr(line.rfind(' ') + 1), &v)) return v;
  }
  return std::nullopt;
}

std::vector<std::string> LogMessages(const std::string& log) {
  std::vector<std::string> out;
  for (absl::string_view line : absl::StrSplit(log, '\n', absl::SkipEmpty())) {
    // "2026-11-29T20:00:00.000000Z INFO  message"
    const size_t space = line.find(' ');
    if (space == absl::string_view::npos || line.size() < space + 7) continue;
    out.emplace_back(line.substr(space + 7));
  }
  return out;
}

}  // namespace dcdir::testing

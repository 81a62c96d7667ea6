// dcdirctl and dcdir-agent against a spawned dcdir-server (with a token): exact text and JSON of
// every command (golden files in testdata/, volatile values normalized), exit codes and error
// messages, and the agent's probes.
//
// Regenerate the golden files after an intended output change with
//   DCDIR_UPDATE_GOLDEN=1 ctest -R dcdir_cli_test
// and review the diff.

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "dcdir/v1/admin.grpc.pb.h"
#include "dcdir/v1/reporting.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "tests/testing/cert_factory.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/health_report.h"
#include "tests/testing/redis_fixture.h"

namespace dcdir::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kToken[] = "s3cret-token";
const std::string kWorld = DCDIR_SOURCE_DIR "/deploy/config/world.yaml";
const std::string kGoldenDir = DCDIR_SOURCE_DIR "/tests/clients/testdata";

// Replaces what changes from run to run: snapshot and config versions, timestamps.
std::string Normalize(std::string s) {
  s = std::regex_replace(s, std::regex(R"(snapshot \d+, config [0-9a-f]+)"),
                         "snapshot N, config C");
  s = std::regex_replace(s, std::regex(R"("snapshot_version":"\d+")"), R"("snapshot_version":"N")");
  s = std::regex_replace(s, std::regex(R"("config_version":"[0-9a-f]+")"), R"("config_version":"C")");
  s = std::regex_replace(s, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z)"), "TIME");
  return s;
}

void ExpectGolden(const std::string& name, const std::string& actual) {
  const std::string path = kGoldenDir + "/" + name;
  const std::string normalized = Normalize(actual);
  if (std::getenv("DCDIR_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path, std::ios::binary) << normalized;
    return;
  }
  EXPECT_EQ(normalized, ReadFile(path)) << "golden file " << path;
}

// A loopback port nothing listens on.
int ClosedPort() {
  absl::StatusOr<int> port = dcdir::testing::PickFreePort();
  EXPECT_TRUE(port.ok()) << port.status();
  return port.value_or(1);
}

// A loopback port with a listening socket (the kernel completes connects; no accept needed).
class Listener {
 public:
  Listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(fd_, 16), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~Listener() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    token_file_ = dir_ + "/token";
    std::ofstream(token_file_) << "  " << kToken << "\n";
    server_ = std::make_unique<Subprocess>(std::vector<std::string>{
        DCDIR_SERVER_BIN, "--config=" + kWorld, "--grpc_host=127.0.0.1", "--grpc_port=0",
        "--metrics_port=0", "--auth_token_file=" + token_file_, "--shutdown_grace=0s"});
    // Bounded wait for "listening on 127.0.0.1:PORT" on its stderr.
    const std::regex listening(R"(listening on 127\.0\.0\.1:(\d+))");
    for (int i = 0; i < 2000 && port_ == 0; ++i) {
      std::smatch m;
      const std::string err = server_->err();
      if (std::regex_search(err, m, listening)) {
        ASSERT_TRUE(absl::SimpleAtoi(m[1].str(), &port_));
      } else {
        ASSERT_FALSE(server_->Wait(absl::Milliseconds(5)).has_value()) << err;
      }
    }
    ASSERT_NE(port_, 0) << server_->err();
    address_ = absl::StrCat("127.0.0.1:", port_);
  }
  void TearDown() override {
    server_->Signal(SIGTERM);
    server_->Wait(absl::Seconds(10));
  }

  // dcdirctl with --server and the token.
  RunResult Ctl(std::vector<std::string> args, bool with_token = true) {
    std::vector<std::string> argv = {DCDIRCTL_BIN, "--server", address_};
    if (with_token) {
      argv.push_back("--token_file");
      argv.push_back(token_file_);
    }
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv);
  }

  // Reports health straight through the API (dcdirctl report-health has its own test).
  void Report(const std::string& dc, v1::HealthStatus status, double congestion) {
    auto stub = v1::ReportingService::NewStub(Channel());
    grpc::ClientContext context;
    context.AddMetadata("authorization", absl::StrCat("Bearer ", kToken));
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    const v1::HealthReport report =
        testing::HealthReportOf(dc, status, congestion, absl::Seconds(600));
    v1::ReportHealthResponse response;
    grpc::Status s = stub->ReportHealth(&context, report, &response);
    ASSERT_TRUE(s.ok()) << dc << ": " << s.error_message();
  }

  std::shared_ptr<grpc::Channel> Channel() {
    if (channel_ == nullptr) {
      channel_ = grpc::CreateChannel(address_, grpc::InsecureChannelCredentials());
    }
    return channel_;
  }

  // A deterministic world state: the US DCs and their backups reported, one US DC congested.
  void ReportUsWorld() {
    Report("us-sjc", v1::HEALTH_STATUS_HEALTHY, 0.1);
    Report("us-den", v1::HEALTH_STATUS_HEALTHY, 0.2);
    Report("us-nyc", v1::HEALTH_STATUS_HEALTHY, 0.3);
    Report("us-iad", v1::HEALTH_STATUS_HEALTHY, 0.9);
    Report("ca-yyz", v1::HEALTH_STATUS_HEALTHY, 0.25);
    Report("ca-yvr", v1::HEALTH_STATUS_HEALTHY, 0.5);
    Report("mx-qro", v1::HEALTH_STATUS_DOWN, 0);
    Report("eu-ams", v1::HEALTH_STATUS_HEALTHY, 0.4);
  }

  // The DC states, through the real admin API.
  std::map<std::string, v1::DataCenter> ListDataCenters() {
    auto stub = v1::AdminService::NewStub(Channel());
    grpc::ClientContext context;
    context.AddMetadata("authorization", absl::StrCat("Bearer ", kToken));
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    v1::ListDataCentersResponse response;
    grpc::Status s = stub->ListDataCenters(&context, v1::ListDataCentersRequest(), &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::map<std::string, v1::DataCenter> out;
    for (const auto& state : response.datacenters()) {
      out[state.datacenter().id()] = state.datacenter();
    }
    return out;
  }

  RunResult Agent(std::vector<std::string> args, bool with_token = true) {
    std::vector<std::string> argv = {DCDIR_AGENT_BIN, "--server", address_, "--config", kWorld};
    if (with_token) {
      argv.push_back("--token_file");
      argv.push_back(token_file_);
    }
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv);
  }

  std::string dir_;
  std::string token_file_;
  std::unique_ptr<Subprocess> server_;
  std::shared_ptr<grpc::Channel> channel_;
  int port_ = 0;
  std::string address_;
};

// ---- dcdirctl output, each command ----

TEST_F(CliTest, GetPrintsATable) {
  ReportUsWorld();
  RunResult r = Ctl({"get", "--country", "US", "--client_id", "client-1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ExpectGolden("get.txt", r.out);
}

TEST_F(CliTest, GetPrintsJson) {
  ReportUsWorld();
  RunResult r = Ctl({"--json", "get", "--country", "US", "--client_id", "client-1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ExpectGolden("get.json", r.out);
}

TEST_F(CliTest, ExplainPrintsEveryDcWithItsVerdict) {
  ReportUsWorld();
  RunResult r = Ctl({"explain", "--country", "US", "--client_id", "client-1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ExpectGolden("explain.txt", r.out);
}

TEST_F(CliTest, ExplainPrintsJson) {
  ReportUsWorld();
  RunResult r = Ctl({"explain", "--country", "CN", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ExpectGolden("explain_cn.json", r.out);
}

TEST_F(CliTest, ReportHealthPrintsTheAcceptedReport) {
  RunResult text = Ctl({"report-health", "--dc", "us-sjc", "--status", "draining",
                        "--congestion", "0.5", "--ttl", "45s"});
  RunResult json = Ctl({"--json", "report-health", "--dc", "us-den", "--status", "healthy",
                        "--congestion", "0.95"});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_EQ(Normalize(text.out),
            "reported us-sjc DRAINING, congestion 0.50, ttl 45s: congested no, expires TIME\n");
  EXPECT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(Normalize(json.out), "{\"congested\":true,\"expire_time\":\"TIME\"}\n");
  auto dcs = ListDataCenters();
  EXPECT_EQ(dcs["us-sjc"].status(), v1::HEALTH_STATUS_DRAINING);
  EXPECT_EQ(dcs["us-den"].congestion(), 0.95);
}

TEST_F(CliTest, TenantSetGetDelete) {
  RunResult set = Ctl({"tenant", "set", "--tenant", "acme", "--home_region", "eu",
                       "--allowed_regions", "us,ca"});
  RunResult get_text = Ctl({"tenant", "get", "--tenant", "acme"});
  RunResult get_json = Ctl({"--json", "tenant", "get", "--tenant", "acme"});
  RunResult del = Ctl({"tenant", "delete", "--tenant", "acme"});
  RunResult del_again = Ctl({"--json", "tenant", "delete", "--tenant", "acme"});
  RunResult set_json =
      Ctl({"--json", "tenant", "set", "--tenant", "beta", "--home_region", "us"});
  RunResult del_json = Ctl({"--json", "tenant", "delete", "--tenant", "beta"});

  EXPECT_EQ(set.exit_code, 0) << set.err;
  EXPECT_EQ(Normalize(set.out),
            "tenant acme: home region eu, allowed regions us,ca, updated TIME\n");
  EXPECT_EQ(get_text.exit_code, 0) << get_text.err;
  EXPECT_EQ(Normalize(get_text.out), Normalize(set.out));
  EXPECT_EQ(Normalize(get_json.out),
            "{\"tenant_id\":\"acme\",\"home_region\":\"eu\",\"allowed_regions\":[\"us\",\"ca\"],"
            "\"unknown_regions\":[],\"update_time\":\"TIME\"}\n");
  EXPECT_EQ(del.exit_code, 0) << del.err;
  EXPECT_EQ(del.out, "deleted the policy of tenant acme\n");
  EXPECT_EQ(del_again.exit_code, 2);
  EXPECT_EQ(del_again.err,
            "{\"error\":{\"code\":\"NOT_FOUND\",\"reason\":\"TENANT_NOT_FOUND\",\"message\":\"no "
            "policy is stored for tenant \\\"acme\\\"\",\"hint\":\"set one with `dcdirctl tenant "
            "set --tenant T --home_region R`\"}}\n");
  EXPECT_EQ(Normalize(set_json.out),
            "{\"tenant_id\":\"beta\",\"home_region\":\"us\",\"allowed_regions\":[],"
            "\"unknown_regions\":[],\"update_time\":\"TIME\"}\n");
  EXPECT_EQ(del_json.out, "{}\n");
}

TEST_F(CliTest, ListPrintsEveryDc) {
  ReportUsWorld();
  RunResult text = Ctl({"list"});
  RunResult json = Ctl({"list", "--json"});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  ExpectGolden("list.txt", text.out);
  EXPECT_EQ(json.exit_code, 0) << json.err;
  ExpectGolden("list.json", json.out);
}

TEST_F(CliTest, WatchPrintsTheAnswerThenEachChange) {
  ReportUsWorld();
  Subprocess watch({DCDIRCTL_BIN, "--server", address_, "--json", "watch", "--country", "US",
                    "--client_id", "client-1", "--count", "2"});
  // Bounded polling for the first answer.
  for (int i = 0; i < 2000 && watch.out().find('\n') == std::string::npos; ++i) {
    ASSERT_FALSE(watch.Wait(absl::Milliseconds(5)).has_value()) << watch.err();
  }
  Report("us-sjc", v1::HEALTH_STATUS_DOWN, 0);
  ASSERT_EQ(watch.Wait(), 0) << watch.err();
  const std::vector<std::string> lines = absl::StrSplit(watch.out(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[0], HasSubstr("\"id\":\"us-sjc\""));
  EXPECT_THAT(lines[1], ::testing::Not(HasSubstr("\"id\":\"us-sjc\"")));
  ExpectGolden("watch.json", watch.out());
}

TEST_F(CliTest, WatchTextMatchesGet) {
  ReportUsWorld();
  RunResult watch = Ctl({"watch", "--country", "US", "--client_id", "client-1", "--count", "1"});
  RunResult get = Ctl({"get", "--country", "US", "--client_id", "client-1"});
  EXPECT_EQ(watch.exit_code, 0) << watch.err;
  EXPECT_EQ(Normalize(watch.out), Normalize(get.out));
}

// ---- dcdirctl errors and exit codes ----

TEST_F(CliTest, BadCountryIsRejectedWithExitCode2) {
  RunResult r = Ctl({"get", "--country", "USA"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "dcdirctl: INVALID_ARGUMENT (INVALID_COUNTRY): client_country must be an ISO 3166-1 "
            "alpha-2 code of two letters such as \"US\"; got \"USA\"\n"
            "hint: pass --country with a two-letter ISO code, e.g. --country US\n");
}

TEST_F(CliTest, NoHealthyDcIsUnavailableWithExitCode3) {
  RunResult r = Ctl({"get", "--country", "US"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err,
            "dcdirctl: UNAVAILABLE (NO_HEALTHY_COMPLIANT_DATACENTER): no compliant data center "
            "is healthy for clients in US right now; retry later (forbidden data centers are "
            "never offered)\n"
            "hint: no allowed DC is healthy: check `dcdirctl list` and the DC agents, or report "
            "health with `dcdirctl report-health`\n");
}

TEST_F(CliTest, MissingTokenIsUnauthenticatedWithExitCode4) {
  RunResult r = Ctl({"list"}, /*with_token=*/false);
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_EQ(r.err,
            "dcdirctl: UNAUTHENTICATED (MISSING_CREDENTIALS): this RPC needs the metadata "
            "'authorization: Bearer <token>'\n"
            "hint: this server needs a token: pass --token_file FILE (the server's "
            "--auth_token_file)\n");
}

TEST_F(CliTest, WrongTokenIsUnauthenticatedWithExitCode4) {
  const std::string wrong = dir_ + "/wrong";
  std::ofstream(wrong) << "nope\n";
  RunResult r = RunCommand({DCDIRCTL_BIN, "--server", address_, "--token_file", wrong, "report-health",
                     "--dc", "us-sjc", "--status", "healthy"});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_THAT(r.err, HasSubstr("UNAUTHENTICATED (INVALID_CREDENTIALS)"));
}

TEST_F(CliTest, UnknownDcIsNotFoundWithExitCode2) {
  RunResult r = Ctl({"report-health", "--dc", "xx-nowhere", "--status", "down"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("NOT_FOUND (UNKNOWN_DATACENTER)"));
  EXPECT_THAT(r.err, HasSubstr("hint: see `dcdirctl list` for the DC ids of the config\n"));
}

// ---- where the client is (issue 13) ----

// The first primary of `dcdirctl get` text output.
std::string FirstPrimary(const std::string& out) {
  std::smatch m;
  static const std::regex first(R"(\nprimary +1 +([a-z0-9-]+) )");
  return std::regex_search(out, m, first) ? m[1].str() : "";
}

TEST_F(CliTest, GetWithLocationSubdivisionAndObservedRtts) {
  ReportUsWorld();
  Report("br-gru", v1::HEALTH_STATUS_HEALTHY, 0.1);
  Report("mx-qro", v1::HEALTH_STATUS_HEALTHY, 0.1);
  for (int k = 0; k < 5; ++k) {
    const std::string id = absl::StrCat("c", k);
    RunResult br = Ctl({"get", "--country", "BR", "--location", "-23.55,-46.63", "--client_id", id});
    ASSERT_EQ(br.exit_code, 0) << br.err;
    EXPECT_EQ(FirstPrimary(br.out), "br-gru") << br.out;
    EXPECT_THAT(br.out, HasSubstr("ranked by the client's location (declared)"));
    RunResult wa = Ctl({"get", "--subdivision", "us-wa", "--client_id", id});  // country from it
    ASSERT_EQ(wa.exit_code, 0) << wa.err;
    EXPECT_EQ(FirstPrimary(wa.out), "us-sjc") << wa.out;
    EXPECT_THAT(wa.out, HasSubstr("(subdivision), country US (not declared)"));
  }
  RunResult rtt = Ctl({"explain", "--country", "US", "--subdivision", "US-WA", "--rtt", "us-den=3",
                       "--client_id", "c1"});
  ASSERT_EQ(rtt.exit_code, 0) << rtt.err;
  EXPECT_THAT(rtt.out, HasSubstr("client US US-WA at 47.61,-122.33 (subdivision)"));
  EXPECT_THAT(rtt.out, ::testing::ContainsRegex("us-den +us +US +HEALTHY +primary +1 +3.0 ms observed +band"));
  EXPECT_THAT(rtt.out, ::testing::ContainsRegex("us-sjc +us +US +HEALTHY +primary +2 +27.[0-9] ms distance +- "));
  // Bad input: usage errors before any call, or the server's reason.
  RunResult bad_location = Ctl({"get", "--country", "US", "--location", "north"});
  EXPECT_EQ(bad_location.exit_code, 1);
  EXPECT_THAT(bad_location.err, HasSubstr("--location must be LAT,LON"));
  RunResult bad_rtt = Ctl({"get", "--country", "US", "--rtt", "us-den"});
  EXPECT_EQ(bad_rtt.exit_code, 1);
  RunResult far = Ctl({"get", "--country", "US", "--location", "91,0"});
  EXPECT_EQ(far.exit_code, 2);
  EXPECT_THAT(far.err, HasSubstr("INVALID_LOCATION"));
  RunResult mismatch = Ctl({"get", "--country", "CA", "--subdivision", "US-WA"});
  EXPECT_EQ(mismatch.exit_code, 2);
  EXPECT_THAT(mismatch.err, HasSubstr("INVALID_SUBDIVISION"));
}

TEST_F(CliTest, FromAddressIsLocatedByTheServersGeoIp) {
  // A second server, with a GeoIP database written now (127.0.1.0/24 Seattle, 127.0.2.0/24 Sao
  // Paulo) and 127.0.3.0/24 as trusted proxies.
  const std::string db = dir_ + "/test.mmdb";
  ASSERT_EQ(std::system(absl::StrCat("perl ", DCDIR_SOURCE_DIR, "/tests/api/testdata/write_test_mmdb.pl ", db).c_str()), 0);
  Subprocess geo({DCDIR_SERVER_BIN, "--config=" + kWorld, "--grpc_host=127.0.0.1", "--grpc_port=0",
                  "--metrics_port=0", "--auth_token_file=" + token_file_, "--shutdown_grace=0s",
                  "--geoip_db=" + db, "--trusted_proxies=127.0.3.0/24"});
  int port = 0;
  const std::regex listening(R"(listening on 127\.0\.0\.1:(\d+))");
  for (int i = 0; i < 2000 && port == 0; ++i) {
    std::smatch m;
    const std::string err = geo.err();
    if (std::regex_search(err, m, listening)) {
      ASSERT_TRUE(absl::SimpleAtoi(m[1].str(), &port));
    } else {
      ASSERT_FALSE(geo.Wait(absl::Milliseconds(5)).has_value()) << err;
    }
  }
  ASSERT_NE(port, 0);
  const std::string address = absl::StrCat("127.0.0.1:", port);
  auto ctl = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {DCDIRCTL_BIN, "--server", address, "--token_file", token_file_};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv);
  };
  for (const char* dc : {"us-sjc", "us-den", "us-nyc", "us-iad", "br-gru", "mx-qro"}) {
    ASSERT_EQ(ctl({"report-health", "--dc", dc, "--status", "healthy"}).exit_code, 0);
  }
  RunResult seattle = ctl({"get", "--from", "127.0.1.5", "--client_id", "k"});
  ASSERT_EQ(seattle.exit_code, 0) << seattle.err;
  EXPECT_EQ(FirstPrimary(seattle.out), "us-sjc") << seattle.out;
  EXPECT_THAT(seattle.out, HasSubstr("ranked by the client's location (geoip), country US (not declared)"));
  RunResult sao_paulo = ctl({"get", "--from", "127.0.2.9", "--client_id", "k"});
  ASSERT_EQ(sao_paulo.exit_code, 0) << sao_paulo.err;
  EXPECT_EQ(FirstPrimary(sao_paulo.out), "br-gru") << sao_paulo.out;
  EXPECT_THAT(sao_paulo.out, HasSubstr("client region latam"));
  RunResult nowhere = ctl({"get", "--from", "127.0.4.4"});
  EXPECT_EQ(nowhere.exit_code, 2);
  EXPECT_THAT(nowhere.err, HasSubstr("INVALID_COUNTRY"));
  // A bad database stops the server at start with a clear message.
  Subprocess bad({DCDIR_SERVER_BIN, "--config=" + kWorld, "--grpc_port=0", "--metrics_port=0",
                  "--geoip_db=" + dir_ + "/missing.mmdb"});
  const auto rc = bad.Wait(absl::Seconds(10));
  ASSERT_TRUE(rc.has_value());
  EXPECT_EQ(*rc, 1);
  EXPECT_THAT(bad.err(), HasSubstr("--geoip_db " + dir_ + "/missing.mmdb: cannot open the GeoIP database"));
  geo.Signal(SIGTERM);
  geo.Wait(absl::Seconds(10));
}

TEST_F(CliTest, UsageErrorsExitWith1) {
  RunResult unknown = Ctl({"frobnicate"});
  RunResult bad_flag = Ctl({"get", "--country", "US", "--colour", "red"});
  RunResult no_country = Ctl({"get"});
  RunResult bad_status = Ctl({"report-health", "--dc", "us-sjc", "--status", "sleepy"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(unknown.err,
            "dcdirctl: unknown command \"frobnicate\"\n(run `dcdirctl --help` for the commands)\n");
  EXPECT_EQ(bad_flag.exit_code, 1);
  EXPECT_EQ(bad_flag.err,
            "dcdirctl: unknown flag --colour\n(run `dcdirctl --help` for the commands)\n");
  EXPECT_EQ(no_country.exit_code, 1);
  EXPECT_THAT(no_country.err, HasSubstr("--country CC is required"));
  EXPECT_EQ(bad_status.exit_code, 1);
  EXPECT_THAT(bad_status.err, HasSubstr("--status healthy|draining|down"));
}

// Connection flags that cannot work are usage errors (exit 1) in both binaries, before any
// call: never a silent plaintext connection, a wrapped port or an instant deadline.
TEST_F(CliTest, ConnectionFlagsThatCannotWorkAreUsageErrors) {
  const std::vector<std::string> get = {"get", "--country", "US"};
  auto ctl = [&](std::vector<std::string> flags) {
    std::vector<std::string> argv = {DCDIRCTL_BIN};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.insert(argv.end(), get.begin(), get.end());
    return RunCommand(argv);
  };
  RunResult key_alone = ctl({"--server", address_, "--tls_key_file", token_file_});
  EXPECT_EQ(key_alone.exit_code, 1);
  EXPECT_THAT(key_alone.err, HasSubstr("needs both its cert and key file"));
  RunResult empty_server = ctl({"--server", ""});
  EXPECT_EQ(empty_server.exit_code, 1);
  EXPECT_THAT(empty_server.err, HasSubstr("--server is empty"));
  RunResult wrapped_port = ctl({"--server", "127.0.0.1:99999"});
  EXPECT_EQ(wrapped_port.exit_code, 1);
  EXPECT_THAT(wrapped_port.err, HasSubstr("the port must be a number in 1-65535; got \"99999\""));
  RunResult zero_timeout = ctl({"--server", address_, "--timeout", "0s"});
  EXPECT_EQ(zero_timeout.exit_code, 1);
  EXPECT_THAT(zero_timeout.err, HasSubstr("--timeout must be > 0"));
  RunResult directory_token = ctl({"--server", address_, "--token_file", dir_});
  EXPECT_EQ(directory_token.exit_code, 1);
  EXPECT_THAT(directory_token.err, HasSubstr("it is a directory"));
  // The bracketed IPv6 form and gRPC's own target forms still pass the check.
  RunResult v6 = ctl({"--server", "[::1]:1", "--timeout", "1s"});
  EXPECT_EQ(v6.exit_code, 3) << v6.err;

  RunResult agent_key_alone =
      Agent({"--dc", "us-sjc", "--probe", "none", "--once", "--tls_key_file", token_file_});
  EXPECT_EQ(agent_key_alone.exit_code, 1);
  EXPECT_THAT(agent_key_alone.err, HasSubstr("needs both its cert and key file"));
  RunResult agent_zero = Agent({"--dc", "us-sjc", "--probe", "none", "--once", "--rpc_timeout",
                                "0s"});
  EXPECT_EQ(agent_zero.exit_code, 1);
  EXPECT_THAT(agent_zero.err, HasSubstr("--rpc_timeout must be > 0"));
}

TEST_F(CliTest, UnreachableServerExitsWith3AndSaysWhatToCheck) {
  const std::string dead = absl::StrCat("127.0.0.1:", ClosedPort());
  RunResult r = RunCommand({DCDIRCTL_BIN, "--server", dead, "get", "--country", "US"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, ::testing::StartsWith("dcdirctl: UNAVAILABLE: "));
  EXPECT_THAT(r.err, HasSubstr(absl::StrCat("hint: is dcdir-server running at ", dead,
                                            "? Check --server HOST:PORT (or $DCDIR_SERVER) and the network\n")));
}

// A server that does not answer (stopped with SIGSTOP: the kernel still accepts connections)
// gives DEADLINE_EXCEEDED, whose hint names the deadline flag, not "is dcdir-server running?".
TEST_F(CliTest, ASilentServerExitsWith3AndTheHintNamesTheTimeout) {
  server_->Signal(SIGSTOP);
  struct Continue {
    Subprocess* server;
    ~Continue() { server->Signal(SIGCONT); }
  } resume{server_.get()};
  RunResult ctl = Ctl({"--timeout", "1s", "get", "--country", "US"});
  EXPECT_EQ(ctl.exit_code, 3) << ctl.err;
  EXPECT_THAT(ctl.err, ::testing::StartsWith("dcdirctl: DEADLINE_EXCEEDED: "));
  EXPECT_THAT(ctl.err, HasSubstr(absl::StrCat(
                           "\nhint: no answer from ", address_,
                           " within --timeout 1s: the server is slow or stalled (overloaded, "
                           "waiting for its store), or the network drops the packets; retry, or "
                           "raise --timeout\n")));
  EXPECT_THAT(ctl.err, Not(HasSubstr("is dcdir-server running")));

  RunResult agent = Agent({"--dc", "us-sjc", "--probe", "none", "--once", "--rpc_timeout", "1s"});
  EXPECT_EQ(agent.exit_code, 3) << agent.err;
  EXPECT_THAT(agent.err, HasSubstr("dcdir-agent: report for us-sjc failed: DEADLINE_EXCEEDED: "));
  EXPECT_THAT(agent.err, HasSubstr(absl::StrCat(
                             "\nhint: no answer from ", address_,
                             " within --rpc_timeout 1s: the server is slow or stalled (overloaded, "
                             "waiting for its store), or the network drops the packets; retry, or "
                             "raise --rpc_timeout\n")));
  EXPECT_THAT(agent.err, Not(HasSubstr("is dcdir-server running")));
}

// ---- dcdir-agent ----

TEST_F(CliTest, AgentReportsDownWhenTheTcpProbeFails) {
  const std::string endpoint = absl::StrCat("127.0.0.1:", ClosedPort());
  RunResult r = Agent({"--dc", "us-sjc", "--endpoint", endpoint, "--once"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, absl::StrCat("reported us-sjc DOWN congestion 0.00 ttl 10m (tcp ", endpoint,
                                ": Connection refused)\n"));
  EXPECT_EQ(ListDataCenters()["us-sjc"].status(), v1::HEALTH_STATUS_DOWN);
}

TEST_F(CliTest, AgentReportsHealthyWhenTheTcpProbeSucceeds) {
  Listener listener;
  const std::string congestion_file = dir_ + "/congestion-{dc}";
  std::ofstream(dir_ + "/congestion-us-den") << "0.42\n";
  RunResult r = Agent({"--dc", "us-den", "--endpoint", absl::StrCat("127.0.0.1:", listener.port()),
                       "--congestion_file", congestion_file, "--once", "--ttl", "45s"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "reported us-den HEALTHY congestion 0.42 ttl 45s\n");
  auto dcs = ListDataCenters();
  EXPECT_EQ(dcs["us-den"].status(), v1::HEALTH_STATUS_HEALTHY);
  EXPECT_EQ(dcs["us-den"].congestion(), 0.42);
}

TEST_F(CliTest, AgentGrpcProbeAndCongestionCommand) {
  // The directory itself serves grpc.health.v1: a SERVING endpoint to probe.
  RunResult r = Agent({"--dc", "eu-fra,eu-ams", "--probe", "grpc", "--endpoint", address_,
                       "--congestion_command", "echo 0.3", "--once"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "reported eu-fra HEALTHY congestion 0.30 ttl 10m\n"
            "reported eu-ams HEALTHY congestion 0.30 ttl 10m\n");
  auto dcs = ListDataCenters();
  EXPECT_EQ(dcs["eu-fra"].status(), v1::HEALTH_STATUS_HEALTHY);
  EXPECT_EQ(dcs["eu-ams"].congestion(), 0.3);
}

TEST_F(CliTest, AgentSimulateOnceReportsEveryDcHealthy) {
  RunResult r = Agent({"--simulate", "--once", "--seed", "7"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto dcs = ListDataCenters();
  const std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  EXPECT_EQ(lines.size(), dcs.size());
  for (const auto& [id, dc] : dcs) {
    EXPECT_EQ(dc.status(), v1::HEALTH_STATUS_HEALTHY) << id;
    EXPECT_GE(dc.congestion(), 0.0) << id;
    EXPECT_LT(dc.congestion(), 0.85) << id;  // the first round is never congested
  }
  // Seeded: the same seed reports the same figures.
  RunResult again = Agent({"--simulate", "--once", "--seed", "7"});
  EXPECT_EQ(again.out, r.out);
}

TEST_F(CliTest, AgentExitCodes) {
  RunResult no_token = Agent({"--dc", "us-sjc", "--probe", "none", "--once"}, false);
  RunResult unknown_dc = Agent({"--dc", "us-xxx", "--probe", "none", "--once"});
  RunResult unreachable =
      RunCommand({DCDIR_AGENT_BIN, "--server", absl::StrCat("127.0.0.1:", ClosedPort()), "--config",
           kWorld, "--dc", "us-sjc", "--probe", "none", "--once", "--rpc_timeout", "2s"});
  EXPECT_EQ(no_token.exit_code, 4);
  EXPECT_THAT(no_token.err, HasSubstr("UNAUTHENTICATED (MISSING_CREDENTIALS)"));
  EXPECT_EQ(unknown_dc.exit_code, 1);
  EXPECT_THAT(unknown_dc.err, HasSubstr("DC \"us-xxx\" is not in "));
  EXPECT_EQ(unreachable.exit_code, 3);
  EXPECT_THAT(unreachable.err, HasSubstr("UNAVAILABLE"));
}

// ---- tenant list, and its JSON as a --check_config tenants file ----

TEST_F(CliTest, TenantListPrintsEveryPageInTenantIdOrder) {
  RunResult empty_text = Ctl({"tenant", "list"});
  RunResult empty_json = Ctl({"--json", "tenant", "list"});
  EXPECT_EQ(empty_text.exit_code, 0) << empty_text.err;
  EXPECT_EQ(empty_text.out, "0 tenant policies\n");
  EXPECT_EQ(empty_json.out, "{\"tenants\":[]}\n");
  ASSERT_EQ(Ctl({"tenant", "set", "--tenant", "zeta", "--home_region", "us"}).exit_code, 0);
  ASSERT_EQ(Ctl({"tenant", "set", "--tenant", "acme", "--home_region", "eu", "--allowed_regions",
                 "us,ca"}).exit_code, 0);
  ASSERT_EQ(Ctl({"tenant", "set", "--tenant", "Beta", "--home_region", "jp"}).exit_code, 0);
  RunResult text = Ctl({"tenant", "list"});
  RunResult json = Ctl({"tenant", "list", "--json"});
  RunResult paged = Ctl({"tenant", "list", "--json", "--page_size", "1"});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_EQ(Normalize(text.out),
            "3 tenant policies\n"
            "TENANT  HOME  ALLOWED  UNKNOWN  UPDATED\n"
            "Beta    jp    -        -        TIME\n"
            "acme    eu    us,ca    -        TIME\n"
            "zeta    us    -        -        TIME\n");
  EXPECT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(Normalize(json.out),
            "{\"tenants\":["
            "{\"tenant_id\":\"Beta\",\"home_region\":\"jp\",\"allowed_regions\":[],"
            "\"unknown_regions\":[],\"update_time\":\"TIME\"},"
            "{\"tenant_id\":\"acme\",\"home_region\":\"eu\",\"allowed_regions\":[\"us\",\"ca\"],"
            "\"unknown_regions\":[],\"update_time\":\"TIME\"},"
            "{\"tenant_id\":\"zeta\",\"home_region\":\"us\",\"allowed_regions\":[],"
            "\"unknown_regions\":[],\"update_time\":\"TIME\"}]}\n");
  EXPECT_EQ(paged.out, json.out);  // three calls of one policy each, printed as one list
  RunResult bad_size = Ctl({"tenant", "list", "--page_size", "-1"});
  EXPECT_EQ(bad_size.exit_code, 1);
  EXPECT_THAT(bad_size.err, HasSubstr("--page_size must be in [0, 1000]"));
}

// The export the compliance check needs: what `tenant list --json` prints, unedited, is a
// tenants file.
TEST_F(CliTest, TenantListJsonIsACheckConfigTenantsFileByteForByte) {
  const std::string empty_file = dir_ + "/no-tenants.json";
  std::ofstream(empty_file, std::ios::binary) << Ctl({"--json", "tenant", "list"}).out;
  ASSERT_EQ(Ctl({"tenant", "set", "--tenant", "acme", "--home_region", "eu", "--allowed_regions",
                 "us,ca"}).exit_code, 0);
  ASSERT_EQ(Ctl({"tenant", "set", "--tenant", "cn-only", "--home_region", "cn"}).exit_code, 0);
  RunResult exported = Ctl({"--json", "tenant", "list"});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  const std::string file = dir_ + "/tenants.json";
  std::ofstream(file, std::ios::binary) << exported.out;
  ASSERT_EQ(ReadFile(file), exported.out);
  RunResult check = RunCommand({DCDIR_SERVER_BIN, "--check_config", "--config=" + kWorld,
                                "--tenants_file=" + file});
  EXPECT_EQ(check.exit_code, 0) << check.err;
  EXPECT_THAT(check.out, HasSubstr("\ntenant acme (home eu, allowed us ca):\n"));
  EXPECT_THAT(check.out, HasSubstr("\ntenant cn-only (home cn, allowed (none)):\n"));
  RunResult check_json = RunCommand({DCDIR_SERVER_BIN, "--check_config", "--json",
                                     "--config=" + kWorld, "--tenants_file=" + file});
  EXPECT_EQ(check_json.exit_code, 0) << check_json.err;
  EXPECT_THAT(check_json.out, HasSubstr("\"tenant_id\":\"cn-only\",\"home_region\":\"cn\""));
  RunResult check_empty = RunCommand({DCDIR_SERVER_BIN, "--check_config", "--config=" + kWorld,
                                      "--tenants_file=" + empty_file});
  EXPECT_EQ(check_empty.exit_code, 0) << check_empty.err;
}

// ---- both tools: the same default server, help texts that say the defaults ----

TEST_F(CliTest, AgentAndCtlTakeTheServerFromDcdirServer) {
  const std::vector<std::string> env = {"DCDIR_SERVER=" + address_};
  Subprocess agent({DCDIR_AGENT_BIN, "--config", kWorld, "--token_file", token_file_, "--dc",
                    "us-sjc", "--probe", "none", "--once"},
                   env);
  ASSERT_EQ(agent.Wait(), 0) << agent.err();
  EXPECT_EQ(agent.out(), "reported us-sjc HEALTHY congestion 0.00 ttl 10m\n");
  Subprocess ctl({DCDIRCTL_BIN, "--token_file", token_file_, "list"}, env);
  ASSERT_EQ(ctl.Wait(), 0) << ctl.err();
  EXPECT_THAT(ctl.out(), HasSubstr("\nus-sjc  us      US       San Jose   HEALTHY"));
  // --server wins over the environment.
  Subprocess dead({DCDIR_AGENT_BIN, "--server", absl::StrCat("127.0.0.1:", ClosedPort()),
                   "--config", kWorld, "--dc", "us-sjc", "--probe", "none", "--once",
                   "--rpc_timeout", "2s"},
                  env);
  EXPECT_EQ(dead.Wait(), 3);
}

TEST_F(CliTest, HelpTextsListEveryFlagWithItsDefault) {
  RunResult ctl = RunCommand({DCDIRCTL_BIN, "--help"});
  RunResult agent = RunCommand({DCDIR_AGENT_BIN, "--help"});
  EXPECT_EQ(ctl.exit_code, 0);
  EXPECT_EQ(agent.exit_code, 0);
  for (const std::string* help : {&ctl.out, &agent.out}) {
    EXPECT_THAT(*help, HasSubstr("  --server HOST:PORT      the directory's gRPC address (default: "
                                 "$DCDIR_SERVER when set, else\n"
                                 "                          127.0.0.1:50051)\n"));
  }
  EXPECT_THAT(ctl.out, HasSubstr("  --timeout DURATION      deadline of each call (watch has none) "
                                 "(default: 5s)\n"));
  EXPECT_THAT(ctl.out, HasSubstr("  --page_size N"));
  EXPECT_THAT(agent.out, HasSubstr("  --interval DURATION     between rounds (default: 5s)\n"));
  EXPECT_THAT(agent.out, HasSubstr("  --probe tcp|grpc|none"));
  EXPECT_THAT(agent.out, HasSubstr("(default: tcp)"));
  EXPECT_THAT(agent.out, HasSubstr("  --ttl DURATION          report TTL (default: max(30s, 3 x "
                                   "--interval); 10m with --once)\n"));
}

// ---- hints that name the cause ----

// A dcdir-server spawned with `flags` on 127.0.0.1:0; its address once it listens.
class SpawnedServer {
 public:
  explicit SpawnedServer(std::vector<std::string> flags) {
    std::vector<std::string> argv = {DCDIR_SERVER_BIN, "--config=" + kWorld,
                                     "--grpc_host=127.0.0.1", "--grpc_port=0", "--metrics_port=0",
                                     "--shutdown_grace=0s"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    process_ = std::make_unique<Subprocess>(argv);
    const std::regex listening(R"(listening on 127\.0\.0\.1:(\d+))");
    for (int i = 0; i < 2000 && address_.empty(); ++i) {
      std::smatch m;
      const std::string err = process_->err();
      if (std::regex_search(err, m, listening)) {
        address_ = absl::StrCat("127.0.0.1:", m[1].str());
      } else if (process_->Wait(absl::Milliseconds(5)).has_value()) {
        ADD_FAILURE() << "dcdir-server exited: " << err;
        return;
      }
    }
    EXPECT_FALSE(address_.empty()) << process_->err();
  }
  ~SpawnedServer() {
    process_->Signal(SIGTERM);
    process_->Wait(absl::Seconds(10));
  }
  const std::string& address() const { return address_; }

 private:
  std::unique_ptr<Subprocess> process_;
  std::string address_;
};

// The error line and the hint line, and nothing else: gRPC's own log lines are not printed.
void ExpectErrorAndHint(const RunResult& r, int exit_code, const std::string& error_start,
                        const std::string& hint) {
  EXPECT_EQ(r.exit_code, exit_code) << r.err;
  const std::vector<std::string> lines = absl::StrSplit(r.err, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << r.err;
  EXPECT_THAT(lines[0], ::testing::StartsWith(error_start));
  EXPECT_EQ(lines[1], "hint: " + hint);
}

class CliTlsTest : public CliTest {
 protected:
  static void SetUpTestSuite() {
    certs_ = new CertFactory();
    ca_ = certs_->MakeCa("ca");
    other_ca_ = certs_->MakeCa("other-ca");
    server_cert_ = certs_->MakeLeaf(ca_, "server", "DNS:localhost,IP:127.0.0.1");
    sjc_ = certs_->MakeLeaf(ca_, "sjc", "URI:dcdir://dc/us-sjc");
  }
  static void TearDownTestSuite() { delete certs_; }
  std::vector<std::string> TlsFlags(bool client_ca = true) const {
    std::vector<std::string> flags = {"--tls_cert_file=" + server_cert_.cert_file,
                                      "--tls_key_file=" + server_cert_.key_file};
    if (client_ca) flags.push_back("--tls_client_ca_file=" + ca_.cert_file);
    return flags;
  }
  static CertFactory* certs_;
  static KeyPair ca_, other_ca_, server_cert_, sjc_;
};
CertFactory* CliTlsTest::certs_ = nullptr;
KeyPair CliTlsTest::ca_, CliTlsTest::other_ca_, CliTlsTest::server_cert_, CliTlsTest::sjc_;

TEST_F(CliTlsTest, MtlsOnlyServerAsksForACertificateNotAToken) {
  SpawnedServer server(TlsFlags());  // a client CA and no --auth_token_file
  RunResult r = RunCommand({DCDIRCTL_BIN, "--server", server.address(), "--tls_ca_file",
                            ca_.cert_file, "report-health", "--dc", "us-sjc", "--status",
                            "healthy"});
  ExpectErrorAndHint(r, 4, "dcdirctl: UNAUTHENTICATED (MISSING_CREDENTIALS): ",
                     "this server takes only client certificates (mTLS, no token): pass "
                     "--tls_cert_file and --tls_key_file with a certificate from its "
                     "--tls_client_ca_file");
}

TEST_F(CliTlsTest, PermissionDeniedSaysWhichCertificateIsMissing) {
  SpawnedServer server(TlsFlags());
  const std::vector<std::string> tls = {"--server", server.address(), "--tls_ca_file",
                                        ca_.cert_file, "--tls_cert_file", sjc_.cert_file,
                                        "--tls_key_file", sjc_.key_file};
  std::vector<std::string> report = {DCDIRCTL_BIN};
  report.insert(report.end(), tls.begin(), tls.end());
  for (const char* a : {"report-health", "--dc", "us-den", "--status", "healthy"}) {
    report.push_back(a);
  }
  ExpectErrorAndHint(RunCommand(report), 4,
                     "dcdirctl: PERMISSION_DENIED (DATACENTER_NOT_IN_CERTIFICATE): ",
                     "the client certificate does not name this DC: report with a certificate "
                     "whose SAN is URI dcdir://dc/<id> (or DNS <id>.dc.dcdir) for it, or with the "
                     "token (--token_file)");
  std::vector<std::string> list = {DCDIRCTL_BIN};
  list.insert(list.end(), tls.begin(), tls.end());
  list.push_back("list");
  ExpectErrorAndHint(RunCommand(list), 4,
                     "dcdirctl: PERMISSION_DENIED (NOT_AN_ADMIN_CERTIFICATE): ",
                     "admin RPCs (tenant, list) need a client certificate with the SAN URI "
                     "dcdir://admin, or the token (--token_file); a DC reporter's certificate is "
                     "not enough");
}

TEST_F(CliTlsTest, HandshakeFailuresNameTheTlsCause) {
  SpawnedServer tls_server(TlsFlags(/*client_ca=*/false));
  std::vector<std::string> require_flags = TlsFlags();
  require_flags.push_back("--tls_require_client_cert");
  SpawnedServer require_server(require_flags);
  // The fixture's server is plaintext.
  const std::string get[] = {"get", "--country", "US"};
  auto ctl = [&](std::vector<std::string> argv) {
    argv.insert(argv.begin(), DCDIRCTL_BIN);
    argv.insert(argv.end(), std::begin(get), std::end(get));
    return RunCommand(argv);
  };
  ExpectErrorAndHint(ctl({"--server", tls_server.address(), "--tls_ca_file", other_ca_.cert_file}),
                     3, "dcdirctl: UNAVAILABLE: ",
                     "the TLS handshake with " + tls_server.address() +
                         " failed: the server's certificate is not trusted (not signed by "
                         "--tls_ca_file, expired, or not issued for this host name)");
  ExpectErrorAndHint(ctl({"--server", address_, "--tls_ca_file", ca_.cert_file}), 3,
                     "dcdirctl: UNAVAILABLE: ",
                     "the TLS handshake with " + address_ +
                         " failed: the server does not speak TLS; drop --tls, --tls_ca_file and "
                         "--tls_cert_file");
  ExpectErrorAndHint(ctl({"--server", tls_server.address()}), 3, "dcdirctl: UNAVAILABLE: ",
                     "the server at " + tls_server.address() +
                         " closed the connection: if it serves TLS (--tls_cert_file), pass "
                         "--tls_ca_file CA.pem (or --tls for the system's roots)");
  ExpectErrorAndHint(ctl({"--server", require_server.address(), "--tls_ca_file", ca_.cert_file}),
                     3, "dcdirctl: UNAVAILABLE: ",
                     "the TLS handshake with " + require_server.address() +
                         " failed: the server may require a client certificate "
                         "(--tls_require_client_cert): pass --tls_cert_file and --tls_key_file");
  // With the certificate the same call passes the handshake (no DC is healthy yet).
  RunResult with_cert = ctl({"--server", require_server.address(), "--tls_ca_file",
                             ca_.cert_file, "--tls_cert_file", sjc_.cert_file, "--tls_key_file",
                             sjc_.key_file});
  EXPECT_EQ(with_cert.exit_code, 3);
  EXPECT_THAT(with_cert.err, HasSubstr("(NO_HEALTHY_COMPLIANT_DATACENTER)"));
}

// A certificate given as the key (or a key as a certificate) is a usage error (exit 1) that names
// the file, found before any connection: not a failed handshake (exit 3) with a hint about the
// network.
TEST_F(CliTlsTest, ACertificateGivenAsTheKeyIsAUsageError) {
  RunResult ctl = RunCommand({DCDIRCTL_BIN, "--server", address_, "--tls_ca_file", ca_.cert_file,
                              "--tls_cert_file", sjc_.cert_file, "--tls_key_file", sjc_.cert_file,
                              "get", "--country", "US"});
  EXPECT_EQ(ctl.exit_code, 1) << ctl.err;
  EXPECT_EQ(ctl.err, "dcdirctl: the TLS key file " + sjc_.cert_file +
                         " holds no PEM private key (-----BEGIN ... PRIVATE KEY-----); is it "
                         "the certificate?\n(run `dcdirctl --help` for the commands)\n");
  RunResult agent = RunCommand({DCDIR_AGENT_BIN, "--server", address_, "--config", kWorld, "--dc",
                                "us-sjc", "--probe", "none", "--once", "--tls_ca_file",
                                ca_.cert_file, "--tls_cert_file", sjc_.cert_file,
                                "--tls_key_file", sjc_.cert_file});
  EXPECT_EQ(agent.exit_code, 1) << agent.err;
  EXPECT_THAT(agent.err, ::testing::StartsWith("dcdir-agent: the TLS key file " +
                                               sjc_.cert_file + " holds no PEM private key"));
  RunResult key_as_cert = RunCommand({DCDIRCTL_BIN, "--server", address_, "--tls_ca_file",
                                      ca_.cert_file, "--tls_cert_file", sjc_.key_file,
                                      "--tls_key_file", sjc_.key_file, "get", "--country", "US"});
  EXPECT_EQ(key_as_cert.exit_code, 1) << key_as_cert.err;
  EXPECT_THAT(key_as_cert.err,
              ::testing::StartsWith("dcdirctl: the TLS certificate file " + sjc_.key_file +
                                    " holds no PEM certificate (-----BEGIN CERTIFICATE-----)\n"));
  RunResult key_as_ca = RunCommand({DCDIRCTL_BIN, "--server", address_, "--tls_ca_file",
                                    sjc_.key_file, "get", "--country", "US"});
  EXPECT_EQ(key_as_ca.exit_code, 1) << key_as_ca.err;
  EXPECT_THAT(key_as_ca.err,
              ::testing::StartsWith("dcdirctl: the TLS CA file " + sjc_.key_file +
                                    " holds no PEM certificate (-----BEGIN CERTIFICATE-----)\n"));
}

// A client key that is valid PEM but belongs to another certificate is a usage error (exit 1)
// naming both files, found before any connection: not a handshake failure (exit 3). The
// matching pair (positive control) reports for its DC over mTLS.
TEST_F(CliTlsTest, AKeyThatDoesNotMatchTheCertificateIsAUsageError) {
  const std::string expected = "the TLS key file " + server_cert_.key_file +
                               " does not match the certificate in the TLS certificate file " +
                               sjc_.cert_file;
  RunResult ctl = RunCommand({DCDIRCTL_BIN, "--server", address_, "--tls_ca_file", ca_.cert_file,
                              "--tls_cert_file", sjc_.cert_file, "--tls_key_file",
                              server_cert_.key_file, "get", "--country", "US"});
  EXPECT_EQ(ctl.exit_code, 1) << ctl.err;
  EXPECT_EQ(ctl.err, "dcdirctl: " + expected + "\n(run `dcdirctl --help` for the commands)\n");
  RunResult agent = RunCommand({DCDIR_AGENT_BIN, "--server", address_, "--config", kWorld, "--dc",
                                "us-sjc", "--probe", "none", "--once", "--tls_ca_file",
                                ca_.cert_file, "--tls_cert_file", sjc_.cert_file,
                                "--tls_key_file", server_cert_.key_file});
  EXPECT_EQ(agent.exit_code, 1) << agent.err;
  EXPECT_THAT(agent.err, ::testing::StartsWith("dcdir-agent: " + expected + "\n"));
  SpawnedServer mtls_server(TlsFlags());
  RunResult matching = RunCommand({DCDIRCTL_BIN, "--server", mtls_server.address(),
                                   "--tls_ca_file", ca_.cert_file, "--tls_cert_file",
                                   sjc_.cert_file, "--tls_key_file", sjc_.key_file,
                                   "report-health", "--dc", "us-sjc", "--status", "healthy"});
  EXPECT_EQ(matching.exit_code, 0) << matching.err;
}

}  // namespace
}  // namespace dcdir::testing

// TLS and mTLS on the gRPC port, with certificates made by openssl at test time: plaintext to a
// TLS port, wrong CA, expired server certificate, a reporter certificate reporting for a DC it is
// not issued for, no credentials at all; client certificates required on the whole port.

#include <signal.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "dcdir/v1/admin.grpc.pb.h"
#include "dcdir/v1/directory.grpc.pb.h"
#include "dcdir/v1/reporting.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "service/api/tls.h"
#include "tests/testing/cert_factory.h"
#include "tests/testing/health_report.h"
#include "tests/testing/server_fixture.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/subprocess.h"

namespace dcdir {
namespace {

using testing::CertFactory;
using testing::KeyPair;
using testing::ReasonOf;
using testing::RpcOutcome;
using testing::StatusIs;

constexpr char kToken[] = "tls-test-token";

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    certs_ = new CertFactory();
    ca_ = certs_->MakeCa("ca");
    other_ca_ = certs_->MakeCa("other-ca");
    server_ = certs_->MakeLeaf(ca_, "server", "DNS:localhost,IP:127.0.0.1");
    expired_server_ = certs_->MakeLeaf(ca_, "expired", "DNS:localhost,IP:127.0.0.1", true);
    sjc_reporter_ = certs_->MakeLeaf(ca_, "sjc", "URI:dcdir://dc/us-sjc");
    dns_reporter_ = certs_->MakeLeaf(ca_, "den", "DNS:us-den.dc.dcdir");
    admin_ = certs_->MakeLeaf(ca_, "admin", "URI:dcdir://admin");
    foreign_reporter_ = certs_->MakeLeaf(other_ca_, "foreign", "URI:dcdir://dc/us-sjc");
  }
  static void TearDownTestSuite() { delete certs_; }

  // Starts a server with TLS from `cert` (and client certificates from `ca_` when `mtls`).
  void StartServer(const KeyPair& cert, bool mtls, const std::string& token = kToken,
                   bool require_client_cert = false) {
    server_instance_.emplace(
        testing::TestServerOptions{.auth_token = token,
                                   .tls = {.cert_file = cert.cert_file,
                                           .key_file = cert.key_file,
                                           .client_ca_file = mtls ? ca_.cert_file : "",
                                           .require_client_cert = require_client_cert}});
  }

  std::shared_ptr<grpc::Channel> TlsChannel(const KeyPair& roots, const KeyPair* client = nullptr) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = CertFactory::Read(roots.cert_file);
    if (client != nullptr) {
      ssl.pem_cert_chain = CertFactory::Read(client->cert_file);
      ssl.pem_private_key = CertFactory::Read(client->key_file);
    }
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    return grpc::CreateCustomChannel(Target(), grpc::SslCredentials(ssl), args);
  }
  std::string Target() const { return server_instance_->address(); }

  // ReportHealth for `dc` on `channel`, with the bearer token when `with_token`.
  grpc::Status Report(const std::shared_ptr<grpc::Channel>& channel, const std::string& dc,
                      bool with_token, std::string* reason = nullptr) {
    auto stub = v1::ReportingService::NewStub(channel);
    const v1::HealthReport report = testing::HealthReportOf(dc, v1::HEALTH_STATUS_HEALTHY);
    v1::ReportHealthResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (with_token) context.AddMetadata("authorization", std::string("Bearer ") + kToken);
    grpc::Status s = stub->ReportHealth(&context, report, &response);
    if (reason != nullptr) *reason = ReasonOf(context);
    return s;
  }

  grpc::Status GetDirectory(const std::shared_ptr<grpc::Channel>& channel) {
    auto stub = v1::DirectoryService::NewStub(channel);
    v1::GetDirectoryRequest request;
    request.set_client_country("US");
    request.set_client_id("k");
    v1::Directory response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return stub->GetDirectory(&context, request, &response);
  }

  // The positive control of a refusal: right after it, on the same port, a client with the
  // right CA (and `client` certificate) is served. So the refusal came from the credentials,
  // not from a port that was down (which gives UNAVAILABLE too).
  void ExpectServedWithRightCredentials(const KeyPair* client = nullptr) {
    EXPECT_EQ(Report(TlsChannel(ca_, client), "us-sjc", /*with_token=*/true).error_code(),
              grpc::StatusCode::OK)
        << "positive control: the port serves a client with the right credentials";
  }

  static CertFactory* certs_;
  static KeyPair ca_, other_ca_, server_, expired_server_, sjc_reporter_, dns_reporter_, admin_,
      foreign_reporter_;
  std::optional<testing::TestServer> server_instance_;
};

CertFactory* TlsTest::certs_ = nullptr;
KeyPair TlsTest::ca_, TlsTest::other_ca_, TlsTest::server_, TlsTest::expired_server_,
    TlsTest::sjc_reporter_, TlsTest::dns_reporter_, TlsTest::admin_, TlsTest::foreign_reporter_;

TEST_F(TlsTest, RightCaWorksAndServesTheDirectory) {
  StartServer(server_, /*mtls=*/false);
  auto channel = TlsChannel(ca_);
  ASSERT_TRUE(Report(channel, "us-sjc", true).ok());
  for (const char* dc : {"us-den", "us-nyc", "us-iad"}) ASSERT_TRUE(Report(channel, dc, true).ok());
  EXPECT_EQ(GetDirectory(channel).error_code(), grpc::StatusCode::OK);
}

TEST_F(TlsTest, PlaintextClientToTlsPortFails) {
  StartServer(server_, false);
  auto channel = grpc::CreateChannel(Target(), grpc::InsecureChannelCredentials());
  EXPECT_EQ(Report(channel, "us-sjc", true).error_code(), grpc::StatusCode::UNAVAILABLE);
  ExpectServedWithRightCredentials();
}

TEST_F(TlsTest, WrongCaFails) {
  StartServer(server_, false);
  EXPECT_EQ(Report(TlsChannel(other_ca_), "us-sjc", true).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  ExpectServedWithRightCredentials();
}

// No client can be served by a server whose certificate expired, so the control is the other
// way round: the same client and CA are served once the server has a valid certificate.
TEST_F(TlsTest, ExpiredServerCertificateFails) {
  StartServer(expired_server_, false);
  EXPECT_EQ(Report(TlsChannel(ca_), "us-sjc", true).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  server_instance_->Shutdown();
  StartServer(server_, false);
  ExpectServedWithRightCredentials();
}

TEST_F(TlsTest, BadCertificateFileIsAStartError) {
  api::ServerTlsFiles tls;
  tls.cert_file = certs_->dir() + "/missing.pem";
  tls.key_file = server_.key_file;
  auto server = testing::TestServer::Start({.auth_token = "", .tls = tls});
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kNotFound);
  // The error names the file, never the key's contents.
  EXPECT_THAT(std::string(server.status().message()), ::testing::HasSubstr("missing.pem"));
}

// A key that is valid PEM but belongs to another certificate: gRPC would start and fail every
// handshake, so the server refuses it up front, naming both files (never their contents).
TEST_F(TlsTest, KeyOfAnotherCertificateIsAStartError) {
  api::ServerTlsFiles tls;
  tls.cert_file = server_.cert_file;
  tls.key_file = sjc_reporter_.key_file;
  auto server = testing::TestServer::Start({.auth_token = "", .tls = tls});
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(server.status().message(),
            "--tls_key_file " + sjc_reporter_.key_file +
                " does not match the certificate in --tls_cert_file " + server_.cert_file);
}

// The binary exits 1 (a start error, README) with that message instead of serving a port on
// which every handshake fails; with the matching key (positive control) it serves.
TEST_F(TlsTest, BinaryRefusesAKeyThatDoesNotMatchItsCertificate) {
  auto run = [&](const std::string& key_file) {
    return std::make_unique<testing::Subprocess>(std::vector<std::string>{
        DCDIR_SERVER_BIN, "--config=" DCDIR_SOURCE_DIR "/deploy/config/world.yaml",
        "--grpc_host=127.0.0.1", "--grpc_port=0", "--metrics_port=0",
        "--tls_cert_file=" + server_.cert_file, "--tls_key_file=" + key_file,
        "--shutdown_grace=0s"});
  };
  auto mismatched = run(sjc_reporter_.key_file);
  EXPECT_EQ(mismatched->Wait(absl::Seconds(20)), std::optional<int>(1)) << mismatched->err();
  EXPECT_THAT(mismatched->err(),
              ::testing::HasSubstr(" ERROR --tls_key_file " + sjc_reporter_.key_file +
                                   " does not match the certificate in --tls_cert_file " +
                                   server_.cert_file + "\n"));
  EXPECT_THAT(mismatched->err(), ::testing::Not(::testing::HasSubstr("listening on")));

  auto matching = run(server_.key_file);
  std::string err;
  for (int i = 0; i < 4000 && err.find("listening on 127.0.0.1:") == std::string::npos; ++i) {
    ASSERT_FALSE(matching->Wait(absl::Milliseconds(5)).has_value()) << matching->err();
    err = matching->err();
  }
  EXPECT_THAT(err, ::testing::HasSubstr(" (TLS)"));
  matching->Signal(SIGTERM);
  EXPECT_EQ(matching->Wait(absl::Seconds(10)), std::optional<int>(0));
}

TEST_F(TlsTest, ReporterCertificateMayReportOnlyItsDatacenters) {
  StartServer(server_, /*mtls=*/true);
  auto channel = TlsChannel(ca_, &sjc_reporter_);
  std::string reason;
  EXPECT_EQ(Report(channel, "us-sjc", false, &reason).error_code(), grpc::StatusCode::OK);
  grpc::Status denied = Report(channel, "eu-fra", false, &reason);
  EXPECT_THAT((RpcOutcome{denied, reason}),
              StatusIs(grpc::StatusCode::PERMISSION_DENIED, "DATACENTER_NOT_IN_CERTIFICATE"));
  // The token still allows every DC on the same connection.
  EXPECT_EQ(Report(channel, "eu-fra", true).error_code(), grpc::StatusCode::OK);
}

TEST_F(TlsTest, DnsSanNamesTheDatacenterToo) {
  StartServer(server_, true);
  auto channel = TlsChannel(ca_, &dns_reporter_);
  std::string reason;
  EXPECT_EQ(Report(channel, "us-den", false).error_code(), grpc::StatusCode::OK);
  EXPECT_THAT((RpcOutcome{Report(channel, "us-sjc", false, &reason), reason}),
              StatusIs(grpc::StatusCode::PERMISSION_DENIED, "DATACENTER_NOT_IN_CERTIFICATE"));
}

TEST_F(TlsTest, NoCertificateAndNoTokenIsUnauthenticatedButDirectoryIsOpen) {
  StartServer(server_, true);
  auto channel = TlsChannel(ca_);
  std::string reason;
  EXPECT_THAT((RpcOutcome{Report(channel, "us-sjc", false, &reason), reason}),
              StatusIs(grpc::StatusCode::UNAUTHENTICATED, "MISSING_CREDENTIALS"));
  // The DirectoryService needs no client certificate (NOT_READY-free once DCs reported).
  for (const char* dc : {"us-sjc", "us-den", "us-nyc", "us-iad"}) {
    ASSERT_TRUE(Report(channel, dc, true).ok());
  }
  EXPECT_EQ(GetDirectory(channel).error_code(), grpc::StatusCode::OK);
}

TEST_F(TlsTest, MtlsWithoutTokenConfiguredStillNeedsACertificate) {
  StartServer(server_, true, /*token=*/"");
  std::string reason;
  EXPECT_THAT((RpcOutcome{Report(TlsChannel(ca_), "us-sjc", false, &reason), reason}),
              StatusIs(grpc::StatusCode::UNAUTHENTICATED, "MISSING_CREDENTIALS"));
  EXPECT_EQ(Report(TlsChannel(ca_, &sjc_reporter_), "us-sjc", false).error_code(),
            grpc::StatusCode::OK);
}

TEST_F(TlsTest, ClientCertificateFromAnotherCaIsRejected) {
  StartServer(server_, true);
  EXPECT_EQ(Report(TlsChannel(ca_, &foreign_reporter_), "us-sjc", false).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  ExpectServedWithRightCredentials(&sjc_reporter_);
}

TEST_F(TlsTest, AdminNeedsTheAdminCertificateOrTheToken) {
  StartServer(server_, true);
  auto get_tenant = [&](const KeyPair* client, std::string* reason) {
    auto stub = v1::AdminService::NewStub(TlsChannel(ca_, client));
    v1::GetTenantPolicyRequest request;
    request.set_tenant_id("acme");
    v1::TenantPolicy response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::Status s = stub->GetTenantPolicy(&context, request, &response);
    *reason = ReasonOf(context);
    return s.error_code();
  };
  std::string reason;
  EXPECT_EQ(get_tenant(&sjc_reporter_, &reason), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(reason, "NOT_AN_ADMIN_CERTIFICATE");
  // The admin certificate passes authentication; the tenant does not exist.
  EXPECT_EQ(get_tenant(&admin_, &reason), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(reason, "TENANT_NOT_FOUND");
}

TEST_F(TlsTest, RenewedCertificateFilesAreServedWithoutRestart) {
  // The server's files are copies, replaced (by rename) with a certificate of another CA.
  const std::string cert = certs_->dir() + "/live.pem";
  const std::string key = certs_->dir() + "/live.key";
  std::filesystem::copy_file(server_.cert_file, cert);
  std::filesystem::copy_file(server_.key_file, key);
  server_instance_.emplace(testing::TestServerOptions{
      .auth_token = kToken, .tls = {cert, key, "", /*refresh_seconds=*/1}});
  ASSERT_EQ(Report(TlsChannel(ca_), "us-sjc", true).error_code(), grpc::StatusCode::OK);
  ASSERT_EQ(Report(TlsChannel(other_ca_), "us-sjc", true).error_code(),
            grpc::StatusCode::UNAVAILABLE);

  const KeyPair renewed = certs_->MakeLeaf(other_ca_, "renewed", "DNS:localhost,IP:127.0.0.1");
  std::filesystem::copy_file(renewed.key_file, key + ".new");
  std::filesystem::copy_file(renewed.cert_file, cert + ".new");
  std::filesystem::rename(key + ".new", key);
  std::filesystem::rename(cert + ".new", cert);
  // gRPC re-reads the files every second on its own timer (no fake clock reaches it): poll.
  grpc::StatusCode code = grpc::StatusCode::UNKNOWN;
  for (int attempt = 0; attempt < 100 && code != grpc::StatusCode::OK; ++attempt) {
    absl::SleepFor(absl::Milliseconds(100));
    code = Report(TlsChannel(other_ca_), "us-sjc", true).error_code();
  }
  EXPECT_EQ(code, grpc::StatusCode::OK);
  EXPECT_EQ(Report(TlsChannel(ca_), "us-sjc", true).error_code(), grpc::StatusCode::UNAVAILABLE);
}

// --tls_require_client_cert: the handshake itself refuses a client without a certificate of the
// client CA, on every service (apps included); with one, every service answers, and the
// certificate still decides what ReportHealth may report.
TEST_F(TlsTest, RequiredClientCertificateRefusesClientsWithoutOne) {
  StartServer(server_, true, kToken, /*require_client_cert=*/true);
  auto anonymous = TlsChannel(ca_);
  EXPECT_EQ(GetDirectory(anonymous).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Report(anonymous, "us-sjc", /*with_token=*/true).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(GetDirectory(TlsChannel(ca_, &foreign_reporter_)).error_code(),
            grpc::StatusCode::UNAVAILABLE);

  auto sjc = TlsChannel(ca_, &sjc_reporter_);
  EXPECT_EQ(Report(sjc, "us-sjc", false).error_code(), grpc::StatusCode::OK);
  std::string reason;
  EXPECT_THAT((RpcOutcome{Report(sjc, "us-den", false, &reason), reason}),
              StatusIs(grpc::StatusCode::PERMISSION_DENIED, "DATACENTER_NOT_IN_CERTIFICATE"));
  for (const char* dc : {"us-den", "us-nyc", "us-iad"}) ASSERT_TRUE(Report(sjc, dc, true).ok());
  EXPECT_EQ(GetDirectory(sjc).error_code(), grpc::StatusCode::OK);
}

TEST_F(TlsTest, RequiringClientCertificatesNeedsAClientCa) {
  api::ServerTlsFiles tls;
  tls.cert_file = server_.cert_file;
  tls.key_file = server_.key_file;
  tls.require_client_cert = true;
  auto server = testing::TestServer::Start({.auth_token = "", .tls = tls});
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(server.status().message(),
            "--tls_require_client_cert needs --tls_client_ca_file (the CA that signs the "
            "clients' certificates)");
}

// The binary's exec probe (--health_check, what the chart runs with TLS) passes a port that
// requires client certificates by presenting the server's own key pair, and says why when it
// cannot.
TEST_F(TlsTest, HealthCheckProbePresentsTheServersCertificateWhenOneIsRequired) {
  testing::Subprocess server({DCDIR_SERVER_BIN,
                              "--config=" DCDIR_SOURCE_DIR "/deploy/config/world.yaml",
                              "--grpc_host=127.0.0.1", "--grpc_port=0", "--metrics_port=0",
                              "--tls_cert_file=" + server_.cert_file,
                              "--tls_key_file=" + server_.key_file,
                              "--tls_client_ca_file=" + ca_.cert_file,
                              "--tls_require_client_cert", "--shutdown_grace=0s"});
  const std::regex listening(
      R"(listening on 127\.0\.0\.1:(\d+) \(TLS\) requiring client certificates)");
  std::string port;
  for (int i = 0; i < 2000 && port.empty(); ++i) {
    std::smatch m;
    const std::string err = server.err();
    if (std::regex_search(err, m, listening)) {
      port = m[1].str();
    } else {
      ASSERT_FALSE(server.Wait(absl::Milliseconds(5)).has_value()) << err;
    }
  }
  ASSERT_FALSE(port.empty()) << server.err();
  auto probe = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv = {DCDIR_SERVER_BIN, "--grpc_port=" + port,
                                     "--tls_cert_file=" + server_.cert_file};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return testing::RunCommand(argv);
  };
  // The in-memory store is read at start: the whole server is SERVING at once.
  testing::RunResult ready = probe({"--tls_key_file=" + server_.key_file,
                                    "--tls_require_client_cert", "--health_check=ready"});
  EXPECT_EQ(ready.exit_code, 0) << ready.err;
  EXPECT_EQ(ready.out, "SERVING\n");
  testing::RunResult without_cert = probe({"--health_check=live"});
  EXPECT_EQ(without_cert.exit_code, 1);
  EXPECT_THAT(without_cert.err, ::testing::StartsWith("health check failed: "));
  testing::RunResult without_key = probe({"--tls_require_client_cert", "--health_check=live"});
  EXPECT_EQ(without_key.exit_code, 2);
  // StartsWith: a sanitizer build may append its report (e.g. LeakSanitizer's suppressions).
  EXPECT_THAT(without_key.err, ::testing::StartsWith("--health_check with "
                                                     "--tls_require_client_cert needs "
                                                     "--tls_key_file\n"));
  server.Signal(SIGTERM);
  EXPECT_EQ(server.Wait(absl::Seconds(10)), 0);
}

TEST(DcIdFromSanTest, ParsesBothForms) {
  EXPECT_EQ(api::DcIdFromSan("dcdir://dc/us-sjc"), "us-sjc");
  EXPECT_EQ(api::DcIdFromSan("us-sjc.dc.dcdir"), "us-sjc");
  EXPECT_EQ(api::DcIdFromSan("dcdir://dc/"), "");
  EXPECT_EQ(api::DcIdFromSan("dcdir://dc/us-sjc/x"), "");
  EXPECT_EQ(api::DcIdFromSan("localhost"), "");
  EXPECT_EQ(api::DcIdFromSan("dcdir://admin"), "");
}

}  // namespace
}  // namespace dcdir

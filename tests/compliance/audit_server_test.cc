// The audit trail wired into a real in-process server: every GetDirectory answer and every
// WatchDirectory message that is a cross-border fallback reaches the audit log.

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/api/server.h"
#include "service/audit/audit_log.h"
#include "service/audit/audit_writer.h"
#include "tests/testing/health_report.h"
#include "tests/testing/server_fixture.h"

namespace dcdir {
namespace {

using ::testing::HasSubstr;

const std::vector<std::string> kUsDcs = {"us-sjc", "us-den", "us-nyc", "us-iad"};

class AuditServerTest : public ::testing::Test {
 protected:
  void Report(v1::HealthStatus status, const std::vector<std::string>& ids) {
    for (const std::string& id : ids) {
      const v1::HealthReport report = testing::HealthReportOf(id, status, /*congestion=*/0);
      v1::ReportHealthResponse response;
      grpc::ClientContext context;
      ASSERT_TRUE(server_.reporting().ReportHealth(&context, report, &response).ok()) << id;
    }
  }

  std::vector<std::string> AllDcs() const {
    std::vector<std::string> ids;
    for (const auto& dc : topology_->world().datacenters) ids.push_back(dc.id);
    return ids;
  }

  grpc::Status Get(const std::string& country, const std::string& tenant = "") {
    v1::Directory d;
    return server_.Get(country, &d, /*reason=*/nullptr, tenant,
                       absl::StrCat("client-", ++clients_));
  }

  std::vector<std::string> Lines() const {
    return absl::StrSplit(writer_.contents(), '\n', absl::SkipEmpty());
  }

  audit::StringAuditWriter writer_;
  std::shared_ptr<const core::Topology> topology_ = testing::ExampleTopology();
  // Built on the server's (fake) clock before the server starts; outlives the server.
  std::unique_ptr<audit::AuditLog> audit_;
  testing::TestServer server_{{
      .auth_token = "",
      .topology = topology_,
      .configure =
          [this](api::ServerOptions& options, const core::Clock& clock) {
            audit_ = std::make_unique<audit::AuditLog>(&clock, &writer_);
            options.audit = audit_.get();
          },
  }};
  int clients_ = 0;
};

TEST_F(AuditServerTest, UsOutageAnswersAndWatchMessagesAreAuditedAggregated) {
  Report(v1::HEALTH_STATUS_HEALTHY, AllDcs());
  ASSERT_TRUE(Get("US").ok());  // no fallback: nothing to audit
  Report(v1::HEALTH_STATUS_DOWN, kUsDcs);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Get("US").ok());
  ASSERT_TRUE(Get("DE").ok());   // eu: served at home
  ASSERT_TRUE(Get("us").ok());   // normalised to US
  EXPECT_EQ(Get("U1").error_code(), grpc::StatusCode::INVALID_ARGUMENT);  // never audited

  v1::GetDirectoryRequest request;
  request.set_client_country("US");
  request.set_client_id("watcher");
  grpc::ClientContext context;
  auto reader = server_.directory().WatchDirectory(&context, request);
  v1::Directory d;
  ASSERT_TRUE(reader->Read(&d));
  EXPECT_TRUE(d.fallback_active());
  context.TryCancel();
  while (reader->Read(&d)) {
  }

  server_.clock().Advance(absl::Seconds(10));
  ASSERT_EQ(audit_->Poll(), 1u);
  const std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 1u) << writer_.contents();
  EXPECT_THAT(lines[0], HasSubstr(R"("event":"cross_border_fallback","count":5,)"));
  EXPECT_THAT(lines[0], HasSubstr(R"("client_region":"us","client_country":"US","tenant":null,)"));
  EXPECT_THAT(lines[0], HasSubstr(R"("reason":"no_usable_primary")"));
  EXPECT_THAT(lines[0], HasSubstr(R"("cross_border_dcs":["ca-yyz","ca-yvr"])"));
  EXPECT_THAT(lines[0],
              HasSubstr(absl::StrCat(R"("config_version":")", topology_->world().version, "\"")));
}

TEST_F(AuditServerTest, FloodOfTenantIdsIsBoundedByTheEntryCap) {
  Report(v1::HEALTH_STATUS_HEALTHY, AllDcs());
  Report(v1::HEALTH_STATUS_DOWN, kUsDcs);
  // 1,500 distinct tenant ids; the default cap is 1,000 entries per window.
  for (int i = 0; i < 1500; ++i) ASSERT_TRUE(Get("US", absl::StrCat("t", i)).ok());
  EXPECT_EQ(audit_->dropped(), 500u);
  server_.clock().Advance(absl::Seconds(10));
  EXPECT_EQ(audit_->Poll(), 1000u);
  EXPECT_EQ(Lines().size(), 1000u);
}

}  // namespace
}  // namespace dcdir

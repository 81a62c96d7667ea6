// What operators call besides the directory: AdminService.ListTenantPolicies (AIP-132/158
// paging, ordering, errors) and the health service's schema through server reflection (what
// `buf curl .../grpc.health.v1.Health/Check` needs). A real gRPC server in-process.

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "gtest/gtest.h"
#include "service/api/page_token.h"
#include "tests/testing/server_fixture.h"
#include "tests/testing/status_matchers.h"

namespace dcdir {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::ReasonOf;
using testing::StatusIs;
using testing::TestServer;

void SetTenant(TestServer& t, const std::string& id, const std::string& home = "us") {
  v1::SetTenantPolicyRequest request;
  request.mutable_policy()->set_tenant_id(id);
  request.mutable_policy()->set_home_region(home);
  v1::TenantPolicy response;
  auto context = t.AuthContext();
  grpc::Status s = t.admin().SetTenantPolicy(context.get(), request, &response);
  ASSERT_TRUE(s.ok()) << id << ": " << s.error_message();
}

struct Page {
  grpc::Status status;
  std::string reason;
  std::vector<std::string> ids;
  v1::ListTenantPoliciesResponse response;
};

Page List(TestServer& t, int page_size, const std::string& token = "", bool auth = true) {
  v1::ListTenantPoliciesRequest request;
  request.set_page_size(page_size);
  request.set_page_token(token);
  Page page;
  std::unique_ptr<grpc::ClientContext> context =
      auth ? t.AuthContext() : std::make_unique<grpc::ClientContext>();
  page.status = t.admin().ListTenantPolicies(context.get(), request, &page.response);
  page.reason = ReasonOf(*context);
  for (const v1::TenantPolicy& p : page.response.tenant_policies()) {
    page.ids.push_back(p.tenant_id());
  }
  return page;
}

TEST(ListTenantPoliciesTest, PagesInTenantIdOrderWithOpaqueTokens) {
  TestServer t;
  for (const char* id : {"zeta", "acme", "Beta", "acme-eu", "m"}) SetTenant(t, id);
  Page first = List(t, 2);
  ASSERT_TRUE(first.status.ok()) << first.status.error_message();
  EXPECT_THAT(first.ids, ElementsAre("Beta", "acme"));
  EXPECT_FALSE(first.response.next_page_token().empty());
  EXPECT_GT(first.response.snapshot_version(), 0u);
  EXPECT_EQ(first.response.config_version(),
            t.server().state().topology()->world().version);
  EXPECT_EQ(first.response.tenant_policies(0).home_region(), "us");
  EXPECT_TRUE(first.response.tenant_policies(0).has_update_time());
  Page second = List(t, 2, first.response.next_page_token());
  EXPECT_THAT(second.ids, ElementsAre("acme-eu", "m"));
  Page last = List(t, 2, second.response.next_page_token());
  EXPECT_THAT(last.ids, ElementsAre("zeta"));
  EXPECT_EQ(last.response.next_page_token(), "");
}

TEST(ListTenantPoliciesTest, TheTokenStaysValidWhenPoliciesChangeBetweenPages) {
  TestServer t;
  for (const char* id : {"a", "b", "c", "d"}) SetTenant(t, id);
  Page first = List(t, 2);
  ASSERT_THAT(first.ids, ElementsAre("a", "b"));
  // Deleting a listed policy and adding one before the position shifts nothing.
  v1::DeleteTenantPolicyRequest del;
  del.set_tenant_id("a");
  v1::DeleteTenantPolicyResponse deleted;
  ASSERT_TRUE(t.admin().DeleteTenantPolicy(t.AuthContext().get(), del, &deleted).ok());
  SetTenant(t, "aa");
  Page second = List(t, 2, first.response.next_page_token());
  EXPECT_THAT(second.ids, ElementsAre("c", "d"));
  EXPECT_EQ(second.response.next_page_token(), "");
}

TEST(ListTenantPoliciesTest, NoPoliciesIsAnEmptyLastPage) {
  TestServer t;
  Page page = List(t, 0);
  ASSERT_TRUE(page.status.ok()) << page.status.error_message();
  EXPECT_THAT(page.ids, IsEmpty());
  EXPECT_EQ(page.response.next_page_token(), "");
}

TEST(ListTenantPoliciesTest, PageSizeZeroIsTheDefaultAndLargeOnesAreCapped) {
  TestServer t;
  const int n = api::kMaxTenantPageSize + 1;
  for (int i = 0; i < n; ++i) SetTenant(t, absl::StrCat("t", 10000 + i));
  Page by_default = List(t, 0);
  EXPECT_EQ(by_default.ids.size(), static_cast<size_t>(api::kDefaultTenantPageSize));
  EXPECT_EQ(by_default.ids.front(), "t10000");
  Page capped = List(t, 1 << 30);
  EXPECT_EQ(capped.ids.size(), static_cast<size_t>(api::kMaxTenantPageSize));
  Page rest = List(t, 1 << 30, capped.response.next_page_token());
  EXPECT_THAT(rest.ids, ElementsAre(absl::StrCat("t", 10000 + n - 1)));
  EXPECT_EQ(rest.response.next_page_token(), "");
}

TEST(ListTenantPoliciesTest, BadPageSizeTokenOrCredentialsAreRefusedWithTheirReason) {
  TestServer t;
  SetTenant(t, "acme");
  Page negative = List(t, -1);
  EXPECT_THAT(negative, StatusIs(grpc::StatusCode::INVALID_ARGUMENT, "INVALID_PAGE_SIZE"));
  EXPECT_EQ(negative.status.error_message(),
            "page_size must be >= 0 (0: 100; at most 1000); got -1");
  for (const std::string& token :
       {std::string("not a token"), absl::WebSafeBase64Escape("acme"),
        absl::WebSafeBase64Escape("after1:"), api::EncodePageToken("acme") + "="}) {
    Page bad = List(t, 10, token);
    EXPECT_THAT(bad, StatusIs(grpc::StatusCode::INVALID_ARGUMENT, "INVALID_PAGE_TOKEN")) << token;
  }
  Page anonymous = List(t, 10, "", /*auth=*/false);
  EXPECT_THAT(anonymous, StatusIs(grpc::StatusCode::UNAUTHENTICATED, "MISSING_CREDENTIALS"));
}

TEST(PageTokenTest, RoundTripsAndIsOpaque) {
  EXPECT_EQ(api::DecodePageToken(api::EncodePageToken("acme-eu.1")), "acme-eu.1");
  EXPECT_EQ(api::EncodePageToken("acme").find("acme"), std::string::npos);
  EXPECT_EQ(api::DecodePageToken(""), std::nullopt);
}

// `buf curl` resolves a method through reflection: the file that defines grpc.health.v1.Health
// must be served, not only its name listed.
TEST(ReflectionTest, ServesTheHealthServiceSchema) {
  TestServer t;
  namespace refl = grpc::reflection::v1alpha;
  auto stub = refl::ServerReflection::NewStub(t.channel());
  grpc::ClientContext context;
  auto stream = stub->ServerReflectionInfo(&context);
  refl::ServerReflectionRequest request;
  request.set_file_containing_symbol("grpc.health.v1.Health");
  ASSERT_TRUE(stream->Write(request));
  refl::ServerReflectionResponse response;
  ASSERT_TRUE(stream->Read(&response));
  ASSERT_FALSE(response.has_error_response()) << response.error_response().error_message();
  ASSERT_EQ(response.file_descriptor_response().file_descriptor_proto_size(), 1);
  google::protobuf::FileDescriptorProto file;
  ASSERT_TRUE(file.ParseFromString(response.file_descriptor_response().file_descriptor_proto(0)));
  EXPECT_EQ(file.name(), "grpc/health/v1/health.proto");
  ASSERT_EQ(file.service_size(), 1);
  EXPECT_EQ(file.service(0).name(), "Health");
  std::vector<std::string> methods;
  for (const auto& m : file.service(0).method()) methods.push_back(m.name());
  EXPECT_THAT(methods, ElementsAre("Check", "Watch"));
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

}  // namespace
}  // namespace dcdir

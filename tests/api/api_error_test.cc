// The API layer's errors: validators return absl::Status / StatusOr with the reason token as a
// payload, and Reply() is the one conversion to a grpc::Status plus the `dcdir-error-reason`
// trailer. Also pins that a valid GetDirectory request is validated without a heap allocation
// (the hot path), counted by replacing the global operator new in this binary.

#include <atomic>
#include <cstdlib>
#include <map>
#include <new>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "grpcpp/server_context.h"
#include "grpcpp/test/server_context_test_spouse.h"
#include "gtest/gtest.h"
#include "service/api/api_error.h"
#include "service/api/validation.h"
#include "service/store/store.h"

namespace {

// Heap allocations made by this thread while counting.
thread_local bool counting = false;
thread_local size_t allocations = 0;

}  // namespace

// GCC 12 takes the replaced pair for a malloc/delete mismatch once it inlines them; it is not.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(size_t size) {
  if (counting) ++allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace dcdir::api {
namespace {

// The heap allocations `f` makes on this thread.
template <typename F>
size_t AllocationsOf(F&& f) {
  allocations = 0;
  counting = true;
  f();
  counting = false;
  return allocations;
}

struct Answered {
  grpc::StatusCode code;
  std::string message;
  std::multimap<std::string, std::string> trailers;
};

Answered ReplyTo(const absl::Status& status) {
  grpc::ServerContext context;
  grpc::testing::ServerContextTestSpouse spouse(&context);
  const grpc::Status s = Reply(&context, status);
  return {s.error_code(), s.error_message(), spouse.GetTrailingMetadata()};
}

using Trailers = std::multimap<std::string, std::string>;

TEST(ReplyTest, KeepsTheCodeReasonAndMessageOfAnApiError) {
  const Answered a = ReplyTo(ApiError(absl::StatusCode::kFailedPrecondition,
                                      "NO_COMPLIANT_DATACENTER", "nothing is allowed"));
  EXPECT_EQ(a.code, grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(a.message, "nothing is allowed");
  EXPECT_EQ(a.trailers, (Trailers{{"dcdir-error-reason", "NO_COMPLIANT_DATACENTER"}}));
}

TEST(ReplyTest, OkHasNoTrailer) {
  const Answered a = ReplyTo(absl::OkStatus());
  EXPECT_EQ(a.code, grpc::StatusCode::OK);
  EXPECT_EQ(a.message, "");
  EXPECT_TRUE(a.trailers.empty());
}

TEST(ReplyTest, MapsStoreStatusesWithoutAToken) {
  struct Case {
    absl::Status status;
    grpc::StatusCode code;
    std::string reason;
  };
  const Case cases[] = {
      {absl::NotFoundError("m"), grpc::StatusCode::NOT_FOUND, "NOT_FOUND"},
      {absl::UnavailableError("m"), grpc::StatusCode::UNAVAILABLE, "STORE_UNAVAILABLE"},
      {absl::DeadlineExceededError("m"), grpc::StatusCode::UNAVAILABLE, "STORE_UNAVAILABLE"},
      {absl::InvalidArgumentError("m"), grpc::StatusCode::INVALID_ARGUMENT, "INVALID_ARGUMENT"},
      {absl::FailedPreconditionError("m"), grpc::StatusCode::INTERNAL, "INTERNAL"},
      {absl::InternalError("m"), grpc::StatusCode::INTERNAL, "INTERNAL"},
  };
  for (const Case& c : cases) {
    const Answered a = ReplyTo(c.status);
    EXPECT_EQ(a.code, c.code) << c.status;
    EXPECT_EQ(a.message, "m");
    EXPECT_EQ(a.trailers, (Trailers{{"dcdir-error-reason", c.reason}})) << c.status;
  }
}

// The store's own token (a write the replicas did not confirm) goes out as it is.
TEST(ReplyTest, KeepsTheStoresToken) {
  absl::Status status = absl::UnavailableError("too few replicas");
  status.SetPayload(store::kReasonPayloadUrl, absl::Cord(store::kWriteUnconfirmedReason));
  const Answered a = ReplyTo(status);
  EXPECT_EQ(a.code, grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(a.trailers, (Trailers{{"dcdir-error-reason", "STORE_WRITE_UNCONFIRMED"}}));
}

TEST(ReplyTest, NotReadyIsOneError) {
  const absl::Status not_ready = NotReadyError();
  EXPECT_EQ(not_ready.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ReasonOf(not_ready), "NOT_READY");
  EXPECT_EQ(not_ready.message(),
            "the directory has no snapshot yet (it has not read its store since it started); "
            "retry shortly");
}

TEST(ValidationTest, ErrorsCarryTheirReason) {
  v1::GetDirectoryRequest request;
  request.set_client_country("USA");
  const auto fields = ValidateDirectoryRequest(request);
  ASSERT_FALSE(fields.ok());
  EXPECT_EQ(fields.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReasonOf(fields.status()), "INVALID_COUNTRY");
  EXPECT_EQ(ReasonOf(ValidateTenantId("", /*required=*/true)), "INVALID_TENANT_ID");
  EXPECT_TRUE(ValidateTenantId("", /*required=*/false).ok());
}

// GetDirectory's hot path: a valid request (every field but observed_rtts) is validated, and an
// OK status answered, without touching the heap.
TEST(ValidationTest, ValidDirectoryRequestAllocatesNothing) {
  v1::GetDirectoryRequest request;
  request.set_client_country("us");
  request.set_client_subdivision("us-wa");
  request.mutable_client_location()->set_latitude(47.6);
  request.mutable_client_location()->set_longitude(-122.3);
  request.set_tenant_id("acme");
  request.set_client_id("k1");
  request.set_max_secondaries(4);
  absl::StatusOr<DirectoryRequestFields> fields;
  EXPECT_EQ(AllocationsOf([&] { fields = ValidateDirectoryRequest(request); }), 0u);
  ASSERT_TRUE(fields.ok()) << fields.status();
  EXPECT_EQ(fields->country, "US");
  EXPECT_EQ(fields->subdivision, "US-WA");
  grpc::ServerContext context;
  EXPECT_EQ(AllocationsOf([&] { EXPECT_TRUE(Reply(&context, absl::OkStatus()).ok()); }), 0u);
}

// With observed RTTs: one allocation, their vector.
TEST(ValidationTest, ObservedRttsAllocateOnce) {
  v1::GetDirectoryRequest request;
  request.set_client_country("US");
  for (const char* id : {"us-sjc", "us-den", "us-nyc"}) {
    v1::ObservedRtt* o = request.add_observed_rtts();
    o->set_datacenter_id(id);
    o->mutable_rtt()->set_nanos(20'000'000);
  }
  absl::StatusOr<DirectoryRequestFields> fields;
  EXPECT_EQ(AllocationsOf([&] { fields = ValidateDirectoryRequest(request); }), 1u);
  ASSERT_TRUE(fields.ok()) << fields.status();
  EXPECT_EQ(fields->observed_rtts.size(), 3u);
}

}  // namespace
}  // namespace dcdir::api

// StatusIs matches the code and the reason token, both exactly, and says what the call ended with.

#include "tests/testing/status_matchers.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dcdir::testing {
namespace {

using ::testing::Not;

const RpcOutcome kBadPage{
    grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "page_size must be >= 0"),
    "INVALID_PAGE_SIZE"};

TEST(StatusIsTest, MatchesTheCodeAndTheReason) {
  EXPECT_THAT(kBadPage, StatusIs(grpc::StatusCode::INVALID_ARGUMENT, "INVALID_PAGE_SIZE"));
  EXPECT_THAT((RpcOutcome{grpc::Status::OK, ""}), StatusIs(grpc::StatusCode::OK, ""));
}

TEST(StatusIsTest, AnotherCodeOrReasonDoesNotMatch) {
  EXPECT_THAT(kBadPage, Not(StatusIs(grpc::StatusCode::NOT_FOUND, "INVALID_PAGE_SIZE")));
  EXPECT_THAT(kBadPage, Not(StatusIs(grpc::StatusCode::INVALID_ARGUMENT, "INVALID_PAGE_TOKEN")));
  EXPECT_THAT(kBadPage, Not(StatusIs(grpc::StatusCode::INVALID_ARGUMENT, "")));
}

TEST(StatusIsTest, AMismatchSaysWhatTheCallEndedWith) {
  ::testing::StringMatchResultListener listener;
  EXPECT_FALSE(::testing::ExplainMatchResult(
      StatusIs(grpc::StatusCode::UNAUTHENTICATED, "MISSING_CREDENTIALS"), kBadPage, &listener));
  EXPECT_EQ(listener.str(),
            "ended INVALID_ARGUMENT with reason \"INVALID_PAGE_SIZE\" and message \"page_size must "
            "be >= 0\"");
  EXPECT_EQ(::testing::DescribeMatcher<RpcOutcome>(
                StatusIs(grpc::StatusCode::UNAUTHENTICATED, "MISSING_CREDENTIALS")),
            "is UNAUTHENTICATED with reason \"MISSING_CREDENTIALS\"");
}

}  // namespace
}  // namespace dcdir::testing

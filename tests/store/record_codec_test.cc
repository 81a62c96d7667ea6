#include "service/store/record_codec.h"

#include <string>

#include "gtest/gtest.h"

namespace dcdir::store {
namespace {

core::HealthRecord SampleRecord() {
  core::HealthRecord r;
  r.status = core::HealthStatus::kDraining;
  r.congestion = 0.1 + 0.2;  // not exactly representable in short decimal
  r.congested = true;
  r.reported_at = absl::FromUnixMicros(1'800'000'000'123'456);
  r.expires_at = r.reported_at + absl::Seconds(30);
  return r;
}

TEST(RecordCodecTest, HealthRoundTripsExactly) {
  core::HealthRecord r = SampleRecord();
  absl::StatusOr<core::HealthRecord> decoded = DecodeHealthRecord(EncodeHealthRecord(r));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, r);
}

TEST(RecordCodecTest, HealthEncodingIsTheDocumentedText) {
  core::HealthRecord r;
  r.status = core::HealthStatus::kHealthy;
  r.congestion = 0.5;
  r.congested = false;
  r.reported_at = absl::FromUnixMicros(1'000'000);
  r.expires_at = absl::InfiniteFuture();
  EXPECT_EQ(EncodeHealthRecord(r), "h1|1|0.5|0|1000000|inf");
}

TEST(RecordCodecTest, InfiniteTimesRoundTrip) {
  core::HealthRecord r;  // reported_at/expires_at are InfinitePast
  absl::StatusOr<core::HealthRecord> decoded = DecodeHealthRecord(EncodeHealthRecord(r));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->expires_at, absl::InfinitePast());
  EXPECT_EQ(decoded->reported_at, absl::InfinitePast());
}

TEST(RecordCodecTest, RejectsBadHealthValues) {
  for (const char* bad : {"", "garbage", "h2|1|0.5|0|1|2", "h1|1|0.5|0|1", "h1|1|0.5|0|1|2|extra",
                          "h1|4|0.5|0|1|2", "h1|x|0.5|0|1|2", "h1|1|1.5|0|1|2", "h1|1|nan|0|1|2",
                          "h1|1|-0.1|0|1|2", "h1|1|0.5|2|1|2", "h1|1|0.5|0|soon|2",
                          "h1|1||0|1|2", "h1|11|0.5|0|1|2"}) {
    absl::StatusOr<core::HealthRecord> decoded = DecodeHealthRecord(bad);
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument) << "value: " << bad;
  }
}

TEST(RecordCodecTest, RejectsHugeValues) {
  std::string huge = EncodeHealthRecord(SampleRecord());
  huge.append(kMaxEncodedValueBytes, '0');
  EXPECT_EQ(DecodeHealthRecord(huge).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RecordCodecTest, TenantRoundTripsWithSeparatorsInStrings) {
  core::TenantPolicy p;
  p.tenant_id = "acme|corp,50%";
  p.home_region = "eu";
  p.allowed_regions = {"eu", "u|s", "a,b"};
  p.updated_at = absl::FromUnixMicros(1'800'000'000'000'001);
  std::string encoded = EncodeTenantPolicy(p);
  EXPECT_EQ(encoded, "t1|acme%7Ccorp%2C50%25|eu|eu,u%7Cs,a%2Cb|1800000000000001");
  absl::StatusOr<core::TenantPolicy> decoded = DecodeTenantPolicy(encoded);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, p);
}

TEST(RecordCodecTest, TenantWithNoAllowedRegionsRoundTrips) {
  core::TenantPolicy p;
  p.tenant_id = "t";
  p.home_region = "us";
  absl::StatusOr<core::TenantPolicy> decoded = DecodeTenantPolicy(EncodeTenantPolicy(p));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, p);
}

TEST(RecordCodecTest, RejectsBadTenantValues) {
  for (const char* bad : {"", "t1", "t0|a|eu||1", "t1||eu||1", "t1|a|eu||1|x", "t1|a|eu|x,,y|1",
                          "t1|a%zz|eu||1", "t1|a%2|eu||1", "t1|a|eu||later"}) {
    EXPECT_EQ(DecodeTenantPolicy(bad).status().code(), absl::StatusCode::kInvalidArgument)
        << "value: " << bad;
  }
}

}  // namespace
}  // namespace dcdir::store

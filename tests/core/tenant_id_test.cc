// The one tenant-id rule (service/core/tenant_id.h).

#include "service/core/tenant_id.h"

#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace dcdir::core {
namespace {

TEST(TenantIdTest, LettersDigitsDotUnderscoreDashFromOneToSixtyFourBytes) {
  EXPECT_EQ(kMaxTenantIdBytes, 64u);
  for (const std::string id :
       {"a", "Z", "0", ".", "_", "-", "acme", "A.b_c-9", "tenant-0001", "..", "--x"}) {
    EXPECT_TRUE(IsValidTenantId(id)) << id;
  }
  EXPECT_TRUE(IsValidTenantId(std::string(kMaxTenantIdBytes, 'x')));
  EXPECT_TRUE(IsValidTenantId(std::string(26, 'a') + "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"));
}

TEST(TenantIdTest, EverythingElseIsRefused) {
  EXPECT_FALSE(IsValidTenantId(""));
  EXPECT_FALSE(IsValidTenantId(std::string(kMaxTenantIdBytes + 1, 'x')));
  for (const std::string& id :
       {std::string("bad id!"), std::string(" acme"), std::string("acme "), std::string("a|b"),
        std::string("a,b"), std::string("a%b"), std::string("a:b"), std::string("a/b"),
        std::string("a*b"), std::string("a\x01" "b"), std::string("a\nb"), std::string("a\x7f"),
        std::string("a\0b", 3), std::string("caf\xc3\xa9"), std::string("\xff")}) {
    EXPECT_FALSE(IsValidTenantId(id)) << absl::CEscape(id);
  }
  // Every byte outside [A-Za-z0-9._-], one at a time.
  int allowed = 0;
  for (int b = 0; b < 256; ++b) {
    const std::string id(1, static_cast<char>(b));
    const bool expected = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') ||
                          (b >= '0' && b <= '9') || b == '.' || b == '_' || b == '-';
    EXPECT_EQ(IsValidTenantId(id), expected) << b;
    allowed += IsValidTenantId(id) ? 1 : 0;
  }
  EXPECT_EQ(allowed, 26 + 26 + 10 + 3);
}

}  // namespace
}  // namespace dcdir::core

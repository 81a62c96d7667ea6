#include "service/api/page_token.h"

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace dcdir::api {
namespace {

// A version tag, so that a later token form can be told apart (and old ones refused cleanly).
constexpr absl::string_view kPrefix = "after1:";

}  // namespace

std::string EncodePageToken(std::string_view last_key) {
  return absl::WebSafeBase64Escape(
      absl::StrCat(kPrefix, absl::string_view(last_key.data(), last_key.size())));
}

std::optional<std::string> DecodePageToken(std::string_view token) {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(absl::string_view(token.data(), token.size()), &raw)) {
    return std::nullopt;
  }
  if (!absl::StartsWith(raw, kPrefix) || raw.size() == kPrefix.size()) return std::nullopt;
  // Round trip: only the canonical encoding is accepted (no padding variants, no junk).
  if (EncodePageToken(std::string_view(raw).substr(kPrefix.size())) != token) return std::nullopt;
  return raw.substr(kPrefix.size());
}

}  // namespace dcdir::api

#include "service/store/record_codec.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace dcdir::store {
namespace {

constexpr absl::string_view kHealthTag = "h1";
constexpr absl::string_view kTenantTag = "t1";

absl::Status Bad(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("bad record: ", what));
}

bool NeedsEscape(char c) {
  return c == '%' || c == '|' || c == ',' || static_cast<unsigned char>(c) < 0x20;
}

std::string Escape(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (NeedsEscape(c)) {
      absl::StrAppendFormat(&out, "%%%02X", static_cast<unsigned char>(c));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

absl::StatusOr<std::string> Unescape(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      if (NeedsEscape(s[i])) return Bad("unescaped separator");
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return Bad("truncated escape");
    int hi = HexDigit(s[i + 1]), lo = HexDigit(s[i + 2]);
    if (hi < 0 || lo < 0) return Bad("bad escape");
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

}  // namespace

std::string EscapeField(std::string_view s) { return Escape(absl::string_view(s.data(), s.size())); }
absl::StatusOr<std::string> UnescapeField(std::string_view s) {
  return Unescape(absl::string_view(s.data(), s.size()));
}

std::string EncodeTime(absl::Time t) {
  if (t == absl::InfinitePast()) return "-inf";
  if (t == absl::InfiniteFuture()) return "inf";
  return absl::StrCat(absl::ToUnixMicros(t));
}

absl::StatusOr<absl::Time> DecodeTime(std::string_view text_in) {
  absl::string_view text(text_in.data(), text_in.size());
  if (text == "-inf") return absl::InfinitePast();
  if (text == "inf") return absl::InfiniteFuture();
  int64_t micros;
  if (text.empty() || !absl::SimpleAtoi(text, &micros)) return Bad("bad time");
  return absl::FromUnixMicros(micros);
}

std::string EncodeHealthRecord(const core::HealthRecord& r) {
  return absl::StrCat(kHealthTag, "|", static_cast<int>(r.status), "|",
                      absl::StrFormat("%.17g", r.congestion), "|", r.congested ? "1" : "0", "|",
                      EncodeTime(r.reported_at), "|", EncodeTime(r.expires_at));
}

absl::StatusOr<core::HealthRecord> DecodeHealthRecord(std::string_view value_in) {
  absl::string_view value(value_in.data(), value_in.size());
  if (value.size() > kMaxEncodedValueBytes) return Bad("value too large");
  std::vector<absl::string_view> f = absl::StrSplit(value, '|');
  if (f.empty() || f[0] != kHealthTag) return Bad("not a v1 health record");
  if (f.size() != 6) return Bad("wrong number of fields");
  core::HealthRecord r;
  int status;
  if (f[1].size() != 1 || !absl::SimpleAtoi(f[1], &status) || status < 0 || status > 3) {
    return Bad("bad status");
  }
  r.status = static_cast<core::HealthStatus>(status);
  double congestion;
  if (f[2].empty() || !absl::SimpleAtod(f[2], &congestion) || !std::isfinite(congestion) ||
      congestion < 0 || congestion > 1) {
    return Bad("bad congestion");
  }
  r.congestion = congestion;
  if (f[3] != "0" && f[3] != "1") return Bad("bad congested flag");
  r.congested = f[3] == "1";
  absl::StatusOr<absl::Time> reported = DecodeTime(std::string_view(f[4].data(), f[4].size()));
  if (!reported.ok()) return reported.status();
  absl::StatusOr<absl::Time> expires = DecodeTime(std::string_view(f[5].data(), f[5].size()));
  if (!expires.ok()) return expires.status();
  r.reported_at = *reported;
  r.expires_at = *expires;
  return r;
}

std::string EncodeTenantPolicy(const core::TenantPolicy& p) {
  std::vector<std::string> allowed;
  allowed.reserve(p.allowed_regions.size());
  for (const std::string& region : p.allowed_regions) allowed.push_back(Escape(region));
  return absl::StrCat(kTenantTag, "|", Escape(p.tenant_id), "|", Escape(p.home_region), "|",
                      absl::StrJoin(allowed, ","), "|", EncodeTime(p.updated_at));
}

absl::StatusOr<core::TenantPolicy> DecodeTenantPolicy(std::string_view value_in) {
  absl::string_view value(value_in.data(), value_in.size());
  if (value.size() > kMaxEncodedValueBytes) return Bad("value too large");
  std::vector<absl::string_view> f = absl::StrSplit(value, '|');
  if (f.empty() || f[0] != kTenantTag) return Bad("not a v1 tenant policy");
  if (f.size() != 5) return Bad("wrong number of fields");
  core::TenantPolicy p;
  absl::StatusOr<std::string> id = Unescape(f[1]);
  if (!id.ok()) return id.status();
  if (id->empty()) return Bad("empty tenant id");
  p.tenant_id = *std::move(id);
  absl::StatusOr<std::string> home = Unescape(f[2]);
  if (!home.ok()) return home.status();
  p.home_region = *std::move(home);
  if (!f[3].empty()) {
    for (absl::string_view part : absl::StrSplit(f[3], ',')) {
      absl::StatusOr<std::string> region = Unescape(part);
      if (!region.ok()) return region.status();
      if (region->empty()) return Bad("empty region");
      p.allowed_regions.push_back(*std::move(region));
    }
  }
  absl::StatusOr<absl::Time> updated = DecodeTime(std::string_view(f[4].data(), f[4].size()));
  if (!updated.ok()) return updated.status();
  p.updated_at = *updated;
  return p;
}

}  // namespace dcdir::store

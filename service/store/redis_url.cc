#include "service/store/redis_url.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace dcdir::store {
namespace {

constexpr absl::string_view kDirectScheme = "redis://";
constexpr absl::string_view kSentinelScheme = "redis+sentinel://";

absl::Status Invalid(absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat("invalid Redis URL: ", reason));
}

absl::StatusOr<HostPort> ParseHostPort(absl::string_view text) {
  HostPort hp;
  absl::string_view port_text;
  if (absl::StartsWith(text, "[")) {
    size_t close = text.find(']');
    if (close == absl::string_view::npos) return Invalid(absl::StrCat("unclosed '[' in \"", text, "\""));
    hp.host = std::string(text.substr(1, close - 1));
    absl::string_view rest = text.substr(close + 1);
    if (!absl::ConsumePrefix(&rest, ":")) {
      return Invalid(absl::StrCat("missing port in \"", text, "\" (expected HOST:PORT)"));
    }
    port_text = rest;
  } else {
    size_t colon = text.rfind(':');
    if (colon == absl::string_view::npos) {
      return Invalid(absl::StrCat("missing port in \"", text, "\" (expected HOST:PORT)"));
    }
    hp.host = std::string(text.substr(0, colon));
    if (hp.host.find(':') != std::string::npos) {
      return Invalid(absl::StrCat("IPv6 address must be bracketed in \"", text, "\""));
    }
    port_text = text.substr(colon + 1);
  }
  if (hp.host.empty()) return Invalid(absl::StrCat("empty host in \"", text, "\""));
  for (char c : hp.host) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '-' && c != '_' && c != ':') {
      return Invalid(absl::StrCat("bad character in host \"", hp.host, "\""));
    }
  }
  int port;
  if (port_text.empty() || !absl::SimpleAtoi(port_text, &port) || port < 1 || port > 65535 ||
      !absl::ascii_isdigit(port_text[0])) {
    return Invalid(absl::StrCat("bad port \"", port_text, "\" (expected 1-65535)"));
  }
  hp.port = port;
  return hp;
}

absl::StatusOr<int> ParseDb(absl::string_view text) {
  int db;
  if (text.empty() || !absl::ascii_isdigit(text[0]) || !absl::SimpleAtoi(text, &db) || db < 0 ||
      db > 65535) {
    return Invalid(absl::StrCat("bad database number \"", text, "\""));
  }
  return db;
}

}  // namespace

absl::StatusOr<RedisUrl> ParseRedisUrl(std::string_view url_in) {
  absl::string_view url(url_in.data(), url_in.size());
  RedisUrl out;
  absl::string_view rest = url;
  if (absl::ConsumePrefix(&rest, kDirectScheme)) {
    out.mode = RedisUrl::Mode::kDirect;
  } else if (absl::ConsumePrefix(&rest, kSentinelScheme)) {
    out.mode = RedisUrl::Mode::kSentinel;
  } else {
    return Invalid("scheme must be redis:// or redis+sentinel://");
  }
  // Checked before anything is echoed: never repeat credentials.
  absl::string_view authority = rest.substr(0, rest.find('/'));
  if (authority.find('@') != absl::string_view::npos) {
    return Invalid(
        "credentials in the URL are not accepted; put the password in a file or in "
        "DCDIR_REDIS_PASSWORD");
  }
  if (rest.find_first_of("?#") != absl::string_view::npos) {
    return Invalid("query parameters and fragments are not supported");
  }
  std::vector<absl::string_view> parts = absl::StrSplit(rest, '/');
  // parts[0]: authority; then [MASTER_NAME] [DB].
  if (parts[0].empty()) return Invalid("missing HOST:PORT");
  for (absl::string_view hp_text : absl::StrSplit(parts[0], ',')) {
    absl::StatusOr<HostPort> hp = ParseHostPort(hp_text);
    if (!hp.ok()) return hp.status();
    out.hosts.push_back(*std::move(hp));
  }
  size_t next = 1;
  if (out.mode == RedisUrl::Mode::kDirect) {
    if (out.hosts.size() != 1) return Invalid("redis:// takes exactly one HOST:PORT");
  } else {
    if (parts.size() < 2 || parts[1].empty()) {
      return Invalid("redis+sentinel:// needs a master name: redis+sentinel://H1:P1,H2:P2/NAME");
    }
    out.master_name = std::string(parts[1]);
    next = 2;
  }
  if (parts.size() > next) {
    // A trailing '/' with nothing after it is allowed.
    if (!(parts.size() == next + 1 && parts[next].empty())) {
      absl::StatusOr<int> db = ParseDb(parts[next]);
      if (!db.ok()) return db.status();
      out.db = *db;
    }
  }
  if (parts.size() > next + 1) return Invalid("unexpected path after the database number");
  return out;
}

std::string FormatHostPort(const HostPort& hp) {
  if (hp.host.find(':') != std::string::npos) return absl::StrCat("[", hp.host, "]:", hp.port);
  return absl::StrCat(hp.host, ":", hp.port);
}

absl::StatusOr<std::string> LoadRedisPassword(std::string_view file_in) {
  absl::string_view file(file_in.data(), file_in.size());
  if (!file.empty()) {
    std::ifstream in{std::string(file)};
    if (!in) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot read the Redis password file ", file));
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    return std::string(absl::StripAsciiWhitespace(buffer.str()));
  }
  const char* env = std::getenv(kRedisPasswordEnv);
  if (env == nullptr) return std::string();
  return std::string(absl::StripAsciiWhitespace(env));
}

}  // namespace dcdir::store

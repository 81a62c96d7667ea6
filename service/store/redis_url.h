#ifndef DCDIR_SERVICE_STORE_REDIS_URL_H_
#define DCDIR_SERVICE_STORE_REDIS_URL_H_

// The `--redis` URL and the Redis password.
//
//   redis://HOST:PORT[/DB]
//   redis+sentinel://H1:P1[,H2:P2...]/MASTER_NAME[/DB]
//
// HOST may be a name, an IPv4 address or a bracketed IPv6 address ("[::1]"). DB defaults to 0.
// Credentials in the URL ("user:pass@") are rejected: a flag value ends up in process listings
// and logs. The password comes from a file or the DCDIR_REDIS_PASSWORD environment variable.
// Error messages never repeat the text before an '@'.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace dcdir::store {

struct HostPort {
  std::string host;
  int port = 0;
  bool operator==(const HostPort&) const = default;
};

struct RedisUrl {
  enum class Mode { kDirect, kSentinel };
  Mode mode = Mode::kDirect;
  // kDirect: exactly one (the server); kSentinel: the sentinels, in URL order.
  std::vector<HostPort> hosts;
  std::string master_name;  // kSentinel only
  int db = 0;
};

// Parses a Redis URL; INVALID_ARGUMENT with the reason when it is malformed.
absl::StatusOr<RedisUrl> ParseRedisUrl(std::string_view url);

// "host:port" ("[v6]:port" for IPv6).
std::string FormatHostPort(const HostPort& hp);

// The environment variable read by LoadRedisPassword when no file is given.
inline constexpr char kRedisPasswordEnv[] = "DCDIR_REDIS_PASSWORD";

// The password: the content of `file` (surrounding white space trimmed) when `file` is not
// empty, else the value of DCDIR_REDIS_PASSWORD, else "" (no AUTH). An unreadable file is
// FAILED_PRECONDITION.
absl::StatusOr<std::string> LoadRedisPassword(std::string_view file);

}  // namespace dcdir::store

#endif  // DCDIR_SERVICE_STORE_REDIS_URL_H_

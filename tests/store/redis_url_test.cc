#include "service/store/redis_url.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace dcdir::store {
namespace {

TEST(RedisUrlTest, ParsesDirectUrl) {
  absl::StatusOr<RedisUrl> url = ParseRedisUrl("redis://redis.default.svc:6379");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->mode, RedisUrl::Mode::kDirect);
  ASSERT_EQ(url->hosts.size(), 1u);
  EXPECT_EQ(url->hosts[0], (HostPort{"redis.default.svc", 6379}));
  EXPECT_EQ(url->db, 0);
}

TEST(RedisUrlTest, ParsesDatabaseAndTrailingSlash) {
  absl::StatusOr<RedisUrl> url = ParseRedisUrl("redis://127.0.0.1:7000/3");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->db, 3);
  url = ParseRedisUrl("redis://127.0.0.1:7000/");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->db, 0);
}

TEST(RedisUrlTest, ParsesBracketedIpv6) {
  absl::StatusOr<RedisUrl> url = ParseRedisUrl("redis://[::1]:6379");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->hosts[0], (HostPort{"::1", 6379}));
  EXPECT_EQ(FormatHostPort(url->hosts[0]), "[::1]:6379");
}

TEST(RedisUrlTest, ParsesSentinelUrl) {
  absl::StatusOr<RedisUrl> url = ParseRedisUrl("redis+sentinel://s1:26379,s2:26380/mymaster/2");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->mode, RedisUrl::Mode::kSentinel);
  ASSERT_EQ(url->hosts.size(), 2u);
  EXPECT_EQ(url->hosts[0], (HostPort{"s1", 26379}));
  EXPECT_EQ(url->hosts[1], (HostPort{"s2", 26380}));
  EXPECT_EQ(url->master_name, "mymaster");
  EXPECT_EQ(url->db, 2);
}

struct BadUrl {
  const char* url;
  const char* reason;  // a fragment of the expected message
};

TEST(RedisUrlTest, RejectsMalformedUrlsWithAReason) {
  for (const BadUrl& bad : {
           BadUrl{"", "scheme must be"},
           BadUrl{"http://h:1", "scheme must be"},
           BadUrl{"redis://", "missing HOST:PORT"},
           BadUrl{"redis://host", "missing port"},
           BadUrl{"redis://host:", "bad port"},
           BadUrl{"redis://host:0", "bad port"},
           BadUrl{"redis://host:65536", "bad port"},
           BadUrl{"redis://host:+80", "bad port"},
           BadUrl{"redis://host:80x", "bad port"},
           BadUrl{"redis://:80", "empty host"},
           BadUrl{"redis://::1:80", "must be bracketed"},
           BadUrl{"redis://[::1:80", "unclosed"},
           BadUrl{"redis://h o:80", "bad character"},
           BadUrl{"redis://a:1,b:2", "exactly one"},
           BadUrl{"redis://h:1/x", "bad database"},
           BadUrl{"redis://h:1/-1", "bad database"},
           BadUrl{"redis://h:1/0/extra", "unexpected path"},
           BadUrl{"redis://h:1?timeout=1", "query"},
           BadUrl{"redis+sentinel://s1:1", "needs a master name"},
           BadUrl{"redis+sentinel://s1:1/", "needs a master name"},
           BadUrl{"redis+sentinel://s1:1,s2/m", "missing port"},
       }) {
    absl::StatusOr<RedisUrl> url = ParseRedisUrl(bad.url);
    ASSERT_EQ(url.status().code(), absl::StatusCode::kInvalidArgument) << bad.url;
    EXPECT_NE(url.status().message().find(bad.reason), std::string::npos)
        << bad.url << " -> " << url.status().message();
  }
}

TEST(RedisUrlTest, RejectsCredentialsWithoutEchoingThem) {
  for (const char* url : {"redis://user:hunter2@h:6379", "redis://:hunter2@h:6379/0",
                          "redis+sentinel://:hunter2@s1:1/m"}) {
    absl::StatusOr<RedisUrl> parsed = ParseRedisUrl(url);
    ASSERT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << url;
    EXPECT_NE(parsed.status().message().find("credentials in the URL are not accepted"),
              std::string::npos);
    EXPECT_EQ(parsed.status().message().find("hunter2"), std::string::npos);
  }
}

TEST(RedisPasswordTest, ReadsAndTrimsTheFile) {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("dcdir-redis-password-" + std::to_string(::getpid())))
                         .string();
  {
    std::ofstream f(path);
    f << "  s3cret\n";
  }
  absl::StatusOr<std::string> password = LoadRedisPassword(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(password.ok()) << password.status();
  EXPECT_EQ(*password, "s3cret");
}

TEST(RedisPasswordTest, MissingFileIsFailedPrecondition) {
  EXPECT_EQ(LoadRedisPassword("/nonexistent/dcdir/password").status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(RedisPasswordTest, FallsBackToTheEnvironment) {
  ::setenv(kRedisPasswordEnv, "from-env", 1);
  absl::StatusOr<std::string> password = LoadRedisPassword("");
  ::unsetenv(kRedisPasswordEnv);
  ASSERT_TRUE(password.ok()) << password.status();
  EXPECT_EQ(*password, "from-env");
  password = LoadRedisPassword("");
  ASSERT_TRUE(password.ok()) << password.status();
  EXPECT_EQ(*password, "");
}

}  // namespace
}  // namespace dcdir::store

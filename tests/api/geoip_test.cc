// GeoIP through the real path: a MaxMind DB written at test time with Debian's
// libmaxmind-db-writer-perl (tests/api/testdata/write_test_mmdb.pl: 127.0.1.0/24 Seattle US,
// 127.0.2.0/24 Sao Paulo BR, 127.0.5.0/24 DE without a location), a real in-process server
// with --geoip_db/--trusted_proxies equivalents, and clients whose TCP connections come from
// those loopback addresses (clients/cpp/source_address.h), directly or through a "proxy"
// address that forwards x-forwarded-for / forwarded.

#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "clients/cpp/source_address.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/geoip/client_address.h"
#include "service/geoip/geoip_database.h"
#include "tests/testing/server_fixture.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace dcdir {
namespace {

using geoip::ClientAddress;
using geoip::ParseCidrList;
using geoip::ParseIp;
using geoip::ParsePeer;
using testing::RpcOutcome;
using testing::StatusIs;

std::string Ip(const std::optional<geoip::IpAddress>& ip) { return ip ? ip->ToString() : "none"; }

TEST(ClientAddressTest, ParsesGrpcPeers) {
  EXPECT_EQ(Ip(ParsePeer("ipv4:127.0.1.5:40000")), "127.0.1.5");
  EXPECT_EQ(Ip(ParsePeer("ipv6:[2001:db8::1]:443")), "2001:db8::1");
  EXPECT_EQ(Ip(ParsePeer("ipv6:%5B::1%5D:443")), "::1");
  EXPECT_EQ(Ip(ParsePeer("ipv6:[::ffff:10.1.2.3]:1")), "10.1.2.3");  // mapped: IPv4
  EXPECT_EQ(Ip(ParsePeer("unix:/tmp/sock")), "none");
  EXPECT_EQ(Ip(ParsePeer("ipv4:nonsense:1")), "none");
}

TEST(ClientAddressTest, CidrListsAndErrors) {
  auto nets = ParseCidrList("10.0.0.0/8, 127.0.3.0/24,2001:db8::/32,192.168.1.1");
  ASSERT_TRUE(nets.ok()) << nets.status();
  ASSERT_EQ(nets->size(), 4u);
  EXPECT_TRUE((*nets)[0].Contains(*ParseIp("10.200.1.1")));
  EXPECT_FALSE((*nets)[0].Contains(*ParseIp("11.0.0.1")));
  EXPECT_TRUE((*nets)[2].Contains(*ParseIp("2001:db8:ffff::1")));
  EXPECT_FALSE((*nets)[2].Contains(*ParseIp("10.0.0.1")));
  EXPECT_TRUE((*nets)[3].Contains(*ParseIp("192.168.1.1")));
  EXPECT_FALSE((*nets)[3].Contains(*ParseIp("192.168.1.2")));
  EXPECT_TRUE(ParseCidrList("")->empty());
  auto bad = ParseCidrList("10.0.0.0/8,10.0.0.0/33");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "\"10.0.0.0/33\" is not a network such as 10.0.0.0/8 or 2001:db8::/32");
  EXPECT_FALSE(ParseCidrList("proxy.local").ok());
}

TEST(ClientAddressTest, ForwardedHeadersOnlyFromTrustedPeers) {
  const auto trusted = *ParseCidrList("127.0.3.0/24");
  // Untrusted peer: headers ignored.
  EXPECT_EQ(Ip(ClientAddress("ipv4:127.0.4.4:1", "127.0.1.5", "for=127.0.2.2", trusted)),
            "127.0.4.4");
  // Trusted: right-most address that is not a trusted proxy.
  EXPECT_EQ(Ip(ClientAddress("ipv4:127.0.3.9:1", "6.6.6.6, 127.0.1.5, 127.0.3.8", "", trusted)),
            "127.0.1.5");
  // Every forwarded address trusted: the peer.
  EXPECT_EQ(Ip(ClientAddress("ipv4:127.0.3.9:1", "127.0.3.1", "", trusted)), "127.0.3.9");
  // Garbage to the right: trust nothing forwarded.
  EXPECT_EQ(Ip(ClientAddress("ipv4:127.0.3.9:1", "127.0.1.5, bogus", "", trusted)), "127.0.3.9");
  // RFC 7239: quoted, ports, IPv6 brackets, several elements.
  EXPECT_EQ(Ip(ClientAddress("ipv4:127.0.3.9:1", "",
                             "for=\"[2001:db8::7]:4711\";proto=https, for=127.0.3.2", trusted)),
            "2001:db8::7");
  EXPECT_EQ(Ip(ClientAddress("ipv4:127.0.3.9:1", "", "For=127.0.2.9:1234", trusted)),
            "127.0.2.9");
  // x-forwarded-for wins over forwarded.
  EXPECT_EQ(Ip(ClientAddress("ipv4:127.0.3.9:1", "127.0.1.1", "for=127.0.2.9", trusted)),
            "127.0.1.1");
}

class GeoIpTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(testing::MakeTempDir("dcdir-geoip"));
    const std::string db = *dir_ + "/test.mmdb";
    const std::string cmd = absl::StrCat("perl " DCDIR_SOURCE_DIR "/tests/api/testdata/write_test_mmdb.pl ", db);
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd << " (needs Debian libmaxmind-db-writer-perl)";
    auto opened = geoip::GeoIpDatabase::Open(db);
    ASSERT_TRUE(opened.ok()) << opened.status();
    locator_ = new geoip::ClientLocator(*std::move(opened), *ParseCidrList("127.0.3.0/24"));
  }
  static void TearDownTestSuite() {
    delete locator_;
    delete dir_;
  }
  void SetUp() override {
    testing::TestServerOptions options;
    options.geoip = locator_;
    server_ = std::make_unique<testing::TestServer>(options);
    server_->Report(v1::HEALTH_STATUS_HEALTHY);
  }
  // GetDirectory over a connection from `from`, with extra request headers.
  grpc::Status Get(const std::string& from, const v1::GetDirectoryRequest& request,
                   v1::Directory* out, std::string* reason = nullptr,
                   const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    auto channel = client::ChannelFromAddress(
        absl::StrCat("127.0.0.1:", server_->server().port()), from, absl::Seconds(5));
    EXPECT_TRUE(channel.ok()) << channel.status();
    auto stub = v1::DirectoryService::NewStub(*channel);
    grpc::ClientContext context;
    for (const auto& [k, v] : headers) context.AddMetadata(k, v);
    grpc::Status s = stub->GetDirectory(&context, request, out);
    if (reason != nullptr) *reason = testing::ReasonOf(context);
    return s;
  }
  v1::DirectoryExplanation Explain(const std::string& from, const v1::GetDirectoryRequest& request) {
    auto channel = client::ChannelFromAddress(
        absl::StrCat("127.0.0.1:", server_->server().port()), from, absl::Seconds(5));
    auto stub = v1::DirectoryService::NewStub(*channel);
    auto context = server_->AuthContext();  // an operator RPC
    v1::DirectoryExplanation out;
    EXPECT_TRUE(stub->ExplainDirectory(context.get(), request, &out).ok());
    return out;
  }

  static std::string* dir_;
  static geoip::ClientLocator* locator_;
  std::unique_ptr<testing::TestServer> server_;
};

std::string* GeoIpTest::dir_ = nullptr;
geoip::ClientLocator* GeoIpTest::locator_ = nullptr;

TEST_F(GeoIpTest, DatabaseLookupsThroughTheLibrary) {
  auto db = geoip::GeoIpDatabase::Open(*dir_ + "/test.mmdb");
  ASSERT_TRUE(db.ok());
  const auto seattle = (*db)->Lookup(*ParseIp("127.0.1.77"));
  EXPECT_EQ(seattle.country, "US");
  ASSERT_TRUE(seattle.location.has_value());
  EXPECT_DOUBLE_EQ(seattle.location->lat, 47.61);
  EXPECT_DOUBLE_EQ(seattle.location->lon, -122.33);
  const auto de = (*db)->Lookup(*ParseIp("127.0.5.1"));
  EXPECT_EQ(de.country, "DE");
  EXPECT_FALSE(de.location.has_value());
  EXPECT_EQ((*db)->Lookup(*ParseIp("127.0.4.1")).country, "");
  EXPECT_THAT((*db)->description(), ::testing::StartsWith("dcdir-test-City, IPv6"));
}

TEST_F(GeoIpTest, MissingOrBadDatabaseIsAClearError) {
  auto missing = geoip::GeoIpDatabase::Open(*dir_ + "/nope.mmdb");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()),
              ::testing::StartsWith("--geoip_db " + *dir_ + "/nope.mmdb: cannot open the GeoIP database: "));
  const std::string bad = *dir_ + "/bad.mmdb";
  ASSERT_EQ(std::system(absl::StrCat("echo not-a-database > ", bad).c_str()), 0);
  auto garbage = geoip::GeoIpDatabase::Open(bad);
  ASSERT_FALSE(garbage.ok());
  EXPECT_THAT(std::string(garbage.status().message()), ::testing::HasSubstr("cannot open the GeoIP database"));
}

TEST_F(GeoIpTest, SeattleAddressGetsSanJoseFirst) {
  v1::GetDirectoryRequest request;
  request.set_client_country("US");
  for (int k = 0; k < 10; ++k) {
    request.set_client_id(absl::StrCat("client-", k));
    v1::Directory d;
    ASSERT_TRUE(Get("127.0.1.5", request, &d).ok());
    EXPECT_EQ(d.location_source(), v1::LOCATION_SOURCE_GEOIP);
    EXPECT_EQ(d.primaries(0).id(), "us-sjc");
    EXPECT_EQ(d.client_country(), "");  // declared
  }
  const v1::DirectoryExplanation e = Explain("127.0.1.5", request);
  EXPECT_EQ(e.location_source(), v1::LOCATION_SOURCE_GEOIP);
  EXPECT_DOUBLE_EQ(e.client_location().latitude(), 47.61);
  EXPECT_EQ(e.client_country(), "US");
}

TEST_F(GeoIpTest, CountryFromGeoIpWhenNotDeclaredAndDeclaredCountryWins) {
  v1::GetDirectoryRequest request;  // no country
  request.set_client_id("k");
  v1::Directory d;
  ASSERT_TRUE(Get("127.0.2.7", request, &d).ok());
  EXPECT_EQ(d.client_region(), "latam");
  EXPECT_EQ(d.client_country(), "BR");
  EXPECT_EQ(d.primaries(0).id(), "br-gru");
  EXPECT_FALSE(d.primaries(0).cross_border());
  // A declared country always wins for compliance: a German client behind a Brazilian address
  // stays in eu (eu-residency), only ranked from Sao Paulo.
  request.set_client_country("DE");
  ASSERT_TRUE(Get("127.0.2.7", request, &d).ok());
  EXPECT_EQ(d.client_region(), "eu");
  EXPECT_EQ(d.client_country(), "");
  for (const auto& dc : d.primaries()) EXPECT_EQ(dc.region(), "eu");
  for (const auto& dc : d.secondaries()) EXPECT_EQ(dc.region(), "eu");
  // Country only (no location in the database): answered, not located.
  request.clear_client_country();
  ASSERT_TRUE(Get("127.0.5.9", request, &d).ok());
  EXPECT_EQ(d.client_region(), "eu");
  EXPECT_EQ(d.location_source(), v1::LOCATION_SOURCE_NONE);
}

TEST_F(GeoIpTest, NoCountryAnywhereIsInvalidCountry) {
  v1::GetDirectoryRequest request;
  v1::Directory d;
  std::string reason;
  grpc::Status s = Get("127.0.4.4", request, &d, &reason);
  EXPECT_THAT((RpcOutcome{s, reason}),
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT, "INVALID_COUNTRY"));
  EXPECT_THAT(s.error_message(), ::testing::HasSubstr("neither client_subdivision nor the server's GeoIP"));
}

TEST_F(GeoIpTest, TrustedProxyForwardsTheClientAndAnUntrustedPeerIsIgnored) {
  v1::GetDirectoryRequest request;
  request.set_client_id("k");
  v1::Directory d;
  // 127.0.3.9 is a trusted proxy forwarding a Sao Paulo client.
  ASSERT_TRUE(Get("127.0.3.9", request, &d, nullptr, {{"x-forwarded-for", "9.9.9.9, 127.0.2.20"}}).ok());
  EXPECT_EQ(d.client_country(), "BR");
  EXPECT_EQ(d.primaries(0).id(), "br-gru");
  ASSERT_TRUE(Get("127.0.3.9", request, &d, nullptr, {{"forwarded", "for=\"127.0.1.8:5555\""}}).ok());
  EXPECT_EQ(d.client_country(), "US");
  EXPECT_EQ(d.primaries(0).id(), "us-sjc");
  // 127.0.4.4 is not trusted: its header is ignored and its own address is not in the database.
  std::string reason;
  grpc::Status s = Get("127.0.4.4", request, &d, &reason, {{"x-forwarded-for", "127.0.2.20"}});
  EXPECT_THAT((RpcOutcome{s, reason}),
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT, "INVALID_COUNTRY"));
  // And a Seattle client cannot pretend to be in Sao Paulo.
  request.set_client_country("US");
  ASSERT_TRUE(Get("127.0.1.5", request, &d, nullptr, {{"x-forwarded-for", "127.0.2.20"}}).ok());
  EXPECT_EQ(d.primaries(0).id(), "us-sjc");
}

TEST_F(GeoIpTest, DeclaredLocationIsNotOverriddenByGeoIp) {
  v1::GetDirectoryRequest request;
  request.set_client_country("US");
  request.set_client_id("k");
  request.mutable_client_location()->set_latitude(40.71);  // New York
  request.mutable_client_location()->set_longitude(-74.01);
  v1::Directory d;
  ASSERT_TRUE(Get("127.0.1.5", request, &d).ok());
  EXPECT_EQ(d.location_source(), v1::LOCATION_SOURCE_DECLARED);
  EXPECT_NE(d.primaries(0).id(), "us-sjc");
}

// Run by tests/api/real_geoip_check.sh with a real public database (ctest
// dcdir_real_geoip_check); skipped when DCDIR_REAL_GEOIP_DB is not set.
TEST(RealGeoIpDatabaseTest, WellKnownAddressesHaveTheirCountries) {
  const char* path = std::getenv("DCDIR_REAL_GEOIP_DB");
  if (path == nullptr) GTEST_SKIP() << "DCDIR_REAL_GEOIP_DB not set (see tests/api/real_geoip_check.sh)";
  auto db = geoip::GeoIpDatabase::Open(path);
  ASSERT_TRUE(db.ok()) << db.status();
  const std::pair<const char*, const char*> known[] = {
      {"8.8.8.8", "US"},       // Google Public DNS
      {"1.1.1.1", "AU"},       // APNIC's research prefix (Cloudflare DNS)
      {"193.0.6.139", "NL"},   // RIPE NCC, Amsterdam
      {"200.160.2.3", "BR"},   // NIC.br
      {"133.11.0.1", "JP"},    // University of Tokyo
      {"2001:4860:4860::8888", "US"},
  };
  for (const auto& [ip, country] : known) {
    const geoip::GeoIpResult r = (*db)->Lookup(*ParseIp(ip));
    EXPECT_EQ(r.country, country) << ip;
    EXPECT_FALSE(r.location.has_value()) << ip << ": a country-only database";
  }
  EXPECT_EQ((*db)->Lookup(*ParseIp("127.0.0.1")).country, "");  // reserved: no entry
}

}  // namespace
}  // namespace dcdir

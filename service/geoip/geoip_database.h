#ifndef DCDIR_SERVICE_GEOIP_GEOIP_DATABASE_H_
#define DCDIR_SERVICE_GEOIP_GEOIP_DATABASE_H_

// A GeoIP database in the MaxMind DB format, read with libmaxminddb (Debian libmaxminddb-dev),
// opened once (memory-mapped) and shared by every request thread (lookups are read-only and
// thread-safe; nothing is cached per request beyond what the library does).
//
// Understood layouts (the first one present wins per field):
//   country: country.iso_code, registered_country.iso_code (MaxMind GeoIP2/GeoLite2 and the
//            test databases), country_code (the @ip-location-db packages);
//   location: location.latitude + location.longitude (MaxMind), latitude + longitude
//            (@ip-location-db city databases).

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "service/core/model.h"
#include "service/geoip/client_address.h"

struct MMDB_s;

namespace dcdir::geoip {

struct GeoIpResult {
  std::string country;                  // ISO alpha-2, upper case; empty when unknown
  std::optional<core::GeoPoint> location;  // when the database has one in range
};

class GeoIpDatabase {
 public:
  // Opens `path` (MMDB_MODE_MMAP). INVALID_ARGUMENT naming the file and libmaxminddb's reason
  // when it is missing or not a valid database.
  static absl::StatusOr<std::unique_ptr<GeoIpDatabase>> Open(const std::string& path);
  ~GeoIpDatabase();
  GeoIpDatabase(const GeoIpDatabase&) = delete;
  GeoIpDatabase& operator=(const GeoIpDatabase&) = delete;

  // What the database says about `ip`; an empty result when it has no entry (or the lookup
  // fails: a request is never refused because of GeoIP).
  GeoIpResult Lookup(const IpAddress& ip) const;

  // "GeoLite2-City", "geo-whois-asn-country", ... (the database's metadata), for logs.
  std::string description() const;

 private:
  GeoIpDatabase() = default;
  std::unique_ptr<MMDB_s> db_;
};

// Where a request comes from: the database and the proxies whose forwarding headers are
// trusted (--geoip_db, --trusted_proxies). Immutable; shared by every request thread.
class ClientLocator {
 public:
  ClientLocator(std::unique_ptr<GeoIpDatabase> db, std::vector<Cidr> trusted_proxies)
      : db_(std::move(db)), trusted_(std::move(trusted_proxies)) {}

  // The client's address (ClientAddress) and what the database says about it; empty when the
  // peer is not an IP address.
  GeoIpResult Locate(std::string_view peer, std::string_view forwarded_for,
                     std::string_view forwarded, std::optional<IpAddress>* address = nullptr) const;
  // The client's address alone (ClientAddress with the trusted proxies); nullopt when the peer
  // is not an IP address.
  std::optional<IpAddress> Address(std::string_view peer, std::string_view forwarded_for,
                                   std::string_view forwarded) const {
    return ClientAddress(peer, forwarded_for, forwarded, trusted_);
  }

 private:
  std::unique_ptr<GeoIpDatabase> db_;
  std::vector<Cidr> trusted_;
};

}  // namespace dcdir::geoip

#endif  // DCDIR_SERVICE_GEOIP_GEOIP_DATABASE_H_

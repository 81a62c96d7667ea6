#include "service/geoip/geoip_database.h"

#include <maxminddb.h>

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace dcdir::geoip {
namespace {

// The string at `path` (NULL-terminated list of keys), or "".
std::string GetString(MMDB_entry_s* entry, const char* const* path) {
  MMDB_entry_data_s data;
  if (MMDB_aget_value(entry, &data, path) != MMDB_SUCCESS || !data.has_data ||
      data.type != MMDB_DATA_TYPE_UTF8_STRING) {
    return "";
  }
  return std::string(data.utf8_string, data.data_size);
}

// The number at `path`, as a double.
std::optional<double> GetNumber(MMDB_entry_s* entry, const char* const* path) {
  MMDB_entry_data_s data;
  if (MMDB_aget_value(entry, &data, path) != MMDB_SUCCESS || !data.has_data) return std::nullopt;
  switch (data.type) {
    case MMDB_DATA_TYPE_DOUBLE:
      return data.double_value;
    case MMDB_DATA_TYPE_FLOAT:
      return static_cast<double>(data.float_value);
    case MMDB_DATA_TYPE_UTF8_STRING: {  // some converters store coordinates as text
      std::string text(data.utf8_string, data.data_size);
      char* end = nullptr;
      const double v = std::strtod(text.c_str(), &end);
      if (end != nullptr && *end == '\0' && !text.empty()) return v;
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

bool IsCountry(const std::string& c) {
  return c.size() == 2 && absl::ascii_isalpha(c[0]) && absl::ascii_isalpha(c[1]);
}

}  // namespace

absl::StatusOr<std::unique_ptr<GeoIpDatabase>> GeoIpDatabase::Open(const std::string& path) {
  std::unique_ptr<GeoIpDatabase> db(new GeoIpDatabase());
  db->db_ = std::make_unique<MMDB_s>();
  const int status = MMDB_open(path.c_str(), MMDB_MODE_MMAP, db->db_.get());
  if (status != MMDB_SUCCESS) {
    std::string reason = MMDB_strerror(status);
    if (status == MMDB_IO_ERROR) absl::StrAppend(&reason, " (", std::strerror(errno), ")");
    db->db_.reset();
    return absl::InvalidArgumentError(
        absl::StrCat("--geoip_db ", path, ": cannot open the GeoIP database: ", reason));
  }
  return db;
}

GeoIpDatabase::~GeoIpDatabase() {
  if (db_ != nullptr) MMDB_close(db_.get());
}

std::string GeoIpDatabase::description() const {
  const char* type = db_->metadata.database_type;
  return absl::StrCat(type != nullptr ? type : "unknown", ", IPv", db_->metadata.ip_version,
                      ", ", db_->metadata.node_count, " nodes");
}

GeoIpResult GeoIpDatabase::Lookup(const IpAddress& ip) const {
  GeoIpResult result;
  const sockaddr_storage ss = ip.ToSockaddr();
  int mmdb_error = MMDB_SUCCESS;
  MMDB_lookup_result_s found =
      MMDB_lookup_sockaddr(db_.get(), reinterpret_cast<const sockaddr*>(&ss), &mmdb_error);
  if (mmdb_error != MMDB_SUCCESS || !found.found_entry) return result;
  static const char* const kCountry[] = {"country", "iso_code", nullptr};
  static const char* const kRegistered[] = {"registered_country", "iso_code", nullptr};
  static const char* const kCountryCode[] = {"country_code", nullptr};
  for (const char* const* path : {kCountry, kRegistered, kCountryCode}) {
    std::string c = GetString(&found.entry, path);
    if (IsCountry(c)) {
      result.country = absl::AsciiStrToUpper(c);
      break;
    }
  }
  static const char* const kLat[] = {"location", "latitude", nullptr};
  static const char* const kLon[] = {"location", "longitude", nullptr};
  static const char* const kFlatLat[] = {"latitude", nullptr};
  static const char* const kFlatLon[] = {"longitude", nullptr};
  std::optional<double> lat = GetNumber(&found.entry, kLat);
  std::optional<double> lon = GetNumber(&found.entry, kLon);
  if (!lat || !lon) {
    lat = GetNumber(&found.entry, kFlatLat);
    lon = GetNumber(&found.entry, kFlatLon);
  }
  if (lat && lon && *lat >= -90 && *lat <= 90 && *lon >= -180 && *lon <= 180) {
    result.location = core::GeoPoint{*lat, *lon};
  }
  return result;
}

GeoIpResult ClientLocator::Locate(std::string_view peer, std::string_view forwarded_for,
                                  std::string_view forwarded,
                                  std::optional<IpAddress>* address) const {
  const std::optional<IpAddress> ip = ClientAddress(peer, forwarded_for, forwarded, trusted_);
  if (address != nullptr) *address = ip;
  if (!ip.has_value() || db_ == nullptr) return {};
  return db_->Lookup(*ip);
}

}  // namespace dcdir::geoip

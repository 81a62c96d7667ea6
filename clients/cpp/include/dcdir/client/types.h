#ifndef DCDIR_CLIENT_TYPES_H_
#define DCDIR_CLIENT_TYPES_H_

// The values an app exchanges with the client library: the request it makes, the directory it
// gets back and the DCs in it. Plain structs (copyable, no generated protobuf code), field for
// field the messages of proto/dcdir/v1/ (docs/CONTRACT.md, "The API"); the library converts at the
// gRPC boundary. Needs C++17.

#include <cstdint>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace dcdir::client {

// dcdir.v1.HealthStatus, same numbers. A server answer only ever carries kHealthy DCs; a value
// this library does not know (a newer server) is read as kUnknown.
enum class HealthStatus {
  kUnspecified = 0,
  kHealthy = 1,
  kDraining = 2,
  kDown = 3,
  kUnknown = 4,
};

// "HEALTHY", "DRAINING", "DOWN", "UNKNOWN" or "UNSPECIFIED" (the proto names without prefix).
const char* HealthStatusName(HealthStatus status);

// dcdir.v1.GetDirectoryRequest: who is asking.
// dcdir.v1.ClientLocation: degrees north and east.
struct ClientLocation {
  double latitude = 0;
  double longitude = 0;
};

// dcdir.v1.ObservedRtt: a round trip to a DC, measured `age` ago (by the client's clock).
struct ObservedRtt {
  std::string datacenter_id;
  absl::Duration rtt = absl::ZeroDuration();  // (0, 10 s]
  absl::Duration age = absl::ZeroDuration();  // >= 0
};

// The round trips DirectoryClient keeps (with its last-known-good cache) and sends.
struct RttOptions {
  // Measurements older than this are dropped (the server ignores RTTs older than its
  // ranking.rtt_max_age, 10 min by default, anyway).
  absl::Duration max_age = absl::Minutes(10);
  // Most DCs remembered, the most recently measured first (the server accepts 32).
  size_t max_entries = 16;
};

struct MeasuredRtt {
  std::string datacenter_id;
  absl::Duration rtt = absl::ZeroDuration();
  absl::Time measured_at = absl::UnixEpoch();  // client clock
};

struct DirectoryRequest {
  // ISO 3166-1 alpha-2 country of the client, e.g. "US". Required; the server validates it
  // (INVALID_ARGUMENT INVALID_COUNTRY).
  std::string client_country;
  // Tenant whose data-routing control applies; empty: none.
  std::string tenant_id;
  // Stable id of the client (spreads clients over a region's DCs); empty: none.
  std::string client_id;
  // Cap on the number of secondaries returned; 0: no cap. At most 64 (else INVALID_ARGUMENT).
  uint32_t max_secondaries = 0;
  // Where the client is (dcdir.v1.GetDirectoryRequest; docs/RANKING.md), all optional:
  // coarse coordinates in degrees (INVALID_LOCATION out of range),
  std::optional<ClientLocation> client_location;
  // an ISO 3166-2 subdivision such as "US-WA" (INVALID_SUBDIVISION when malformed or not in
  // client_country),
  std::string client_subdivision;
  // and round trips measured recently (at most 32; INVALID_OBSERVED_RTTS otherwise). Resolve
  // fills these from the RTTs DirectoryClient measured when the request carries none.
  std::vector<ObservedRtt> observed_rtts;
};

// dcdir.v1.DataCenter: one DC of an answer.
struct DataCenter {
  std::string id;       // e.g. "us-sjc"
  std::string region;   // routing region id, e.g. "us"
  std::string country;  // ISO alpha-2, e.g. "US"
  std::string city;
  // Where the app connects, "host:port", in preference order.
  std::vector<std::string> endpoints;
  HealthStatus status = HealthStatus::kUnspecified;
  // Last reported congestion, in [0, 1].
  double congestion = 0;
  // Congested by the server's hysteresis thresholds.
  bool congested = false;
  // The DC's country differs from the client's.
  bool cross_border = false;
};

// dcdir.v1.Directory: the answer for one request.
struct Directory {
  // The client's home region, e.g. "us".
  std::string client_region;
  // Ranked; try in this order.
  std::vector<DataCenter> primaries;
  // Ranked fallbacks; try the first `secondary_attempts` of them after the primaries.
  std::vector<DataCenter> secondaries;
  // No non-congested primary is usable.
  bool fallback_active = false;
  uint32_t secondary_attempts = 0;
  uint64_t snapshot_version = 0;
  // The server's store was unreachable: served from its last good snapshot.
  bool stale = false;
  // How long the app may cache the answer.
  absl::Duration ttl = absl::ZeroDuration();
  // When the server computed it (the Unix epoch when the server sent none).
  absl::Time generated_at = absl::UnixEpoch();
  // Version (content hash) of the server's config that produced it.
  std::string config_version;
};

// dcdir.v1.ReportFallbackResponse: the server's view of a reported connection.
struct ReportFallbackResult {
  // The DC the client ended on is in another country than the client.
  bool cross_border = false;
};

}  // namespace dcdir::client

#endif  // DCDIR_CLIENT_TYPES_H_

#ifndef DCDIR_SERVICE_CORE_MODEL_H_
#define DCDIR_SERVICE_CORE_MODEL_H_

// Plain value types of the domain: the validated world (topology + policy + thresholds),
// health records and tenant policies. No behaviour here; see policy.h, health.h, topology.h.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace dcdir::core {

struct GeoPoint {
  double lat = 0;  // degrees, [-90, 90]
  double lon = 0;  // degrees, [-180, 180]
  bool operator==(const GeoPoint&) const = default;
};

// A data center of the topology (static: from the config).
struct DataCenter {
  std::string id;       // e.g. "us-sjc"
  std::string region;   // region id, e.g. "us"
  std::string country;  // ISO alpha-2, upper case
  std::string city;
  GeoPoint location;
  std::vector<std::string> endpoints;  // host:port
  uint64_t capacity_sessions = 0;      // > 0
};

// A routing region.
struct Region {
  std::string id;    // e.g. "us"
  std::string name;  // for people
  GeoPoint reference;
  std::vector<std::string> primaries;    // DC ids of this region's primaries
  std::vector<std::string> secondaries;  // DC ids, ordered, most preferred first
};

// What a selector condition looks at.
enum class SelectorField { kRegion, kCountry, kDataCenter };

// One condition of a selector: `field in values` or `field not in values`.
struct Condition {
  SelectorField field = SelectorField::kRegion;
  bool negated = false;  // true: "not in"
  std::vector<std::string> values;
  bool operator==(const Condition&) const = default;
};

// A deny rule: when every client condition matches the client and every DC condition matches
// the DC, the DC is denied for that client. An empty condition list matches everything.
// Client conditions look at the client's home region or country (never kDataCenter).
struct DenyRule {
  std::string name;
  std::vector<Condition> clients;
  std::vector<Condition> datacenters;
};

struct Thresholds {
  double congestion_enter = 0.85;  // become congested at >= this
  double congestion_exit = 0.70;   // stop being congested at < this
  absl::Duration default_health_ttl = absl::Seconds(30);
  absl::Duration max_health_ttl = absl::Hours(1);
  uint32_t min_secondaries = 2;     // top up secondaries to at least this many
  uint32_t secondary_attempts = 2;  // clients try this many secondaries
  absl::Duration answer_ttl = absl::Seconds(60);
};

// How primaries are ranked by where the client is (service/core/ranking.h has the model and
// the sources of the defaults; docs/RANKING.md the trade-offs). Config section `ranking:`.
struct RankingSettings {
  // Fixed part of an estimated round trip: the client's access network and the servers' own
  // time, added to the propagation delay over the distance.
  absl::Duration rtt_base = absl::Milliseconds(10);
  // How much longer than the great circle a network path is (>= 1).
  double path_stretch = 1.5;
  // DCs whose estimate is within best + max(absolute, relative * best) of the best one form the
  // latency band, spread by capacity headroom; the others follow nearest first.
  absl::Duration latency_band_absolute = absl::Milliseconds(5);
  double latency_band_relative = 0.25;
  // Gradual spillover: from this congestion on, a growing share of a non-congested DC's clients
  // get the next DC first (all of them at thresholds.congestion_enter). Must be lower than
  // congestion_enter; the config loader defaults it to thresholds.congestion_exit.
  double spill_start = 0.70;
  // Secondaries nearest to the client first instead of in configured order.
  bool nearest_secondaries = false;
  // Observed RTTs older than this are not fresh and are ignored.
  absl::Duration rtt_max_age = absl::Minutes(10);
};

// An ISO 3166-2 subdivision of a country with its own routing facts (config `subdivisions:`).
struct Subdivision {
  std::string code;  // "US-WA": country (alpha-2), '-', 1-3 upper-case letters or digits
  std::optional<std::string> region;  // home region id; none: the country's home region
  std::optional<GeoPoint> point;      // the client's location when the request gives none
};

// Self-preservation (service/core/self_preservation.h has the rule and its sources).
struct SelfPreservationConfig {
  bool enabled = true;
  // Never engages while fewer DCs than this have a health record: on a small population a
  // burst of expiries is as likely to be real deaths as broken reporters.
  uint32_t min_reporting_dcs = 10;
  // Engages when at least this share of the reporting DCs expired within `window`.
  double expired_share = 0.5;
  absl::Duration window = absl::Seconds(5);
  // An episode lasts at most this long; then the kept records expire for real.
  absl::Duration max_duration = absl::Minutes(5);
};

// The validated world, as loaded from the config file. Lists keep the file's order.
struct World {
  std::vector<DataCenter> datacenters;
  std::vector<Region> regions;
  std::vector<std::pair<std::string, std::string>> countries;  // country -> home region id
  std::optional<std::string> default_region;
  std::vector<DenyRule> deny_rules;
  Thresholds thresholds;
  std::vector<Subdivision> subdivisions;  // file order; codes unique
  RankingSettings ranking;
  SelfPreservationConfig self_preservation;
  std::string version;  // content hash of the config file (hex), set by the loader
  // The served config version whose compliance this file may loosen on a live reload
  // (`allow_loosening_from`); empty when the file acknowledges no loosening.
  std::string allow_loosening_from;
};

enum class HealthStatus { kUnknown, kHealthy, kDraining, kDown };

// The last health report of a DC, as kept in the store. Times are on the store's timeline
// (store::Store::SharedTime(), or this process's Clock::MonotonicNow() for the embedded store),
// never a replica's wall clock.
struct HealthRecord {
  HealthStatus status = HealthStatus::kUnknown;
  double congestion = 0;  // [0, 1]
  bool congested = false;  // after hysteresis, decided when the report was accepted
  absl::Time reported_at = absl::InfinitePast();
  absl::Time expires_at = absl::InfinitePast();
  bool operator==(const HealthRecord&) const = default;
};

// A tenant's data-routing control.
struct TenantPolicy {
  std::string tenant_id;  // IsValidTenantId (tenant_id.h): 1-64 bytes of [A-Za-z0-9._-]
  std::string home_region;
  std::vector<std::string> allowed_regions;  // without duplicates; may or may not list home
  absl::Time updated_at = absl::InfinitePast();
  bool operator==(const TenantPolicy&) const = default;
};

}  // namespace dcdir::core

#endif  // DCDIR_SERVICE_CORE_MODEL_H_

#ifndef DCDIR_SERVICE_CORE_ANSWER_H_
#define DCDIR_SERVICE_CORE_ANSWER_H_

// The directory answer (README.md, "What an answer is") and its explanation.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "service/core/snapshot.h"

namespace dcdir::core {

// A round trip the client measured to a DC (GetDirectoryRequest.observed_rtts).
struct ObservedRtt {
  std::string_view datacenter_id = {};  // an id the config may not know (then ignored)
  absl::Duration rtt;                   // > 0
  absl::Duration age;                   // >= 0: how long ago it was measured
};

// Where the location used for ranking came from.
enum class LocationSource { kNone, kDeclared, kSubdivision, kGeoIp };

// A request, already validated by the API layer: country is two upper-case ASCII letters,
// subdivision empty or an upper-case ISO 3166-2 code of that country, locations in range.
struct AnswerRequest {
  std::string_view country = {};
  std::string_view tenant_id = {};  // empty: no tenant
  std::string_view client_id = {};  // empty: hashed as the empty string
  uint32_t max_secondaries = 0;  // 0: no cap
  std::string_view subdivision = {};  // empty: none
  // The client's location as the request declares it.
  std::optional<GeoPoint> location = std::nullopt;
  // The location GeoIP found for the client's address; used only when the request declares
  // no location and its subdivision has no point in the config.
  std::optional<GeoPoint> geoip_location = std::nullopt;
  std::span<const ObservedRtt> observed_rtts = {};
  // Set (a class of this snapshot's Topology::client_classes): answer for that client class
  // instead of resolving `country` and `subdivision`, e.g. for "any other country", which no
  // code names (`country` is then its class's country, empty for it: every DC counts as
  // cross-border). The compliance what-if uses this; the API never does.
  const ClientClass* client_class = nullptr;
};

// Where an estimated RTT came from.
enum class RttSource { kNone, kObserved, kDistance };

// Why there is no answer.
enum class AnswerError {
  kNone,
  kCountryNotMapped,         // NOT_FOUND, reason COUNTRY_NOT_MAPPED
  kNoCompliantDatacenter,    // FAILED_PRECONDITION, reason NO_COMPLIANT_DATACENTER
  kNoHealthyCompliantDatacenter,  // UNAVAILABLE, reason NO_HEALTHY_COMPLIANT_DATACENTER
};

struct Pick {
  uint32_t dc = 0;  // DC index
  bool congested = false;
  bool cross_border = false;
  bool operator==(const Pick&) const = default;
};

struct Answer {
  AnswerError error = AnswerError::kNone;
  uint32_t region = kNoIndex;  // client's home region (set unless kCountryNotMapped)
  absl::InlinedVector<Pick, 8> primaries;
  absl::InlinedVector<Pick, 8> secondaries;
  bool fallback_active = false;
  uint32_t secondary_attempts = 0;
  // fallback_active because the tenant's routing control excludes every primary of the
  // client's region (its clients go abroad by policy, not because the region failed).
  bool policy_mandated = false;
  // The first `secondary_attempts` secondaries that are cross-border, when fallback_active
  // and not policy_mandated (what dcdir_cross_border_fallback_total counts, one per DC).
  absl::InlinedVector<uint32_t, 4> cross_border_fallback_dcs;
  // The same when policy_mandated (dcdir_policy_cross_border_total).
  absl::InlinedVector<uint32_t, 4> policy_cross_border_dcs;
  // The location the ranking used (meaningful unless location_source is kNone).
  LocationSource location_source = LocationSource::kNone;
  GeoPoint location;
  bool operator==(const Answer&) const = default;
};

// Computes the answer. Pure and deterministic: same snapshot + same request => same answer.
Answer ComputeAnswer(const Snapshot& snapshot, const AnswerRequest& request);

enum class VerdictKind { kPrimary, kSecondary, kExcluded };
enum class VerdictReason {
  kCandidate,     // offered: configured candidate
  kTopUp,         // offered: added to reach min_secondaries
  kCongested,     // offered, congested
  kDenyRule,      // excluded by a deny rule (rule_index)
  kTenantControl, // excluded by the tenant's routing control
  kStatus,        // excluded: DOWN or DRAINING
  kExpired,       // excluded: never reported or expired
  kNotACandidate, // excluded: not a candidate and not needed as a top-up
  kCutByMaxSecondaries,
  kHealthKept,    // judged on health self-preservation keeps past its expiry (offered or not)
};

struct DcVerdict {
  uint32_t dc = 0;
  VerdictKind kind = VerdictKind::kExcluded;
  VerdictReason reason = VerdictReason::kNotACandidate;
  int32_t rule_index = -1;  // into World::deny_rules, for kDenyRule
  uint32_t rank = 0;        // 1-based in its list when offered
  bool cross_border = false;
  // The client's estimated RTT to this DC (ms) and where it came from (kNone: no estimate).
  RttSource rtt_source = RttSource::kNone;
  double estimated_rtt_ms = 0;
  // Primaries ranked with an estimate: whether the DC was in its group's latency band, and
  // whether gradual spillover moved it behind the next DC.
  bool in_latency_band = false;
  bool spilled = false;
};

struct Explanation {
  Answer answer;
  const TenantPolicy* tenant = nullptr;  // points into the snapshot; null when none
  std::vector<DcVerdict> verdicts;       // one per DC, in topology order
};

// Explains ComputeAnswer(snapshot, request) DC by DC. Its `answer` equals ComputeAnswer's.
Explanation Explain(const Snapshot& snapshot, const AnswerRequest& request);

// Stable reason tokens (catalogue: service/api/reasons.h), e.g. "COUNTRY_NOT_MAPPED"; "" for
// kNone.
std::string_view ReasonToken(AnswerError e);

}  // namespace dcdir::core

#endif  // DCDIR_SERVICE_CORE_ANSWER_H_

#ifndef DCDIR_SERVICE_CORE_ANSWER_H_
#define DCDIR_SERVICE_CORE_ANSWER_H_

// The directory answer (PRODUCT.md, "What a directory answer is") and its explanation.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "service/core/snapshot.h"

namespace dcdir::core {

// A request, already validated by the API layer: country is two upper-case ASCII letters.
struct AnswerRequest {
  std::string_view country = {};
  std::string_view tenant_id = {};  // empty: no tenant
  std::string_view client_id = {};  // empty: hashed as the empty string
  uint32_t max_secondaries = 0;  // 0: no cap
};

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
  // The first `secondary_attempts` secondaries that are cross-border, when fallback_active
  // (what dcdir_cross_border_fallback_total counts, one per DC).
  absl::InlinedVector<uint32_t, 4> cross_border_fallback_dcs;
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
};

struct Explanation {
  Answer answer;
  const TenantPolicy* tenant = nullptr;  // points into the snapshot; null when none
  std::vector<DcVerdict> verdicts;       // one per DC, in topology order
};

// Explains ComputeAnswer(snapshot, request) DC by DC. Its `answer` equals ComputeAnswer's.
Explanation Explain(const Snapshot& snapshot, const AnswerRequest& request);

// Stable reason tokens (PRODUCT.md), e.g. "COUNTRY_NOT_MAPPED"; "" for kNone.
std::string_view ReasonToken(AnswerError e);

}  // namespace dcdir::core

#endif  // DCDIR_SERVICE_CORE_ANSWER_H_

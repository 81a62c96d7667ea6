#ifndef DCDIR_SERVICE_CORE_EXCLUSIONS_H_
#define DCDIR_SERVICE_CORE_EXCLUSIONS_H_

// What compliance withheld from a client, for dcdir_compliance_exclusions_total.

#include <cstdint>

#include "absl/functional/function_ref.h"
#include "service/core/answer.h"
#include "service/core/snapshot.h"

namespace dcdir::core {

// Calls `fn(dc, rule_index)` for each DC that the client would have been offered without any
// compliance filtering (the usable primaries and configured secondaries of its region, and the
// nearest usable DCs that would top the secondaries up to the minimum) but that a deny rule
// (rule_index into World::deny_rules) or the tenant's routing control (rule_index -1) withholds.
// Nothing when the answer has no region.
void ForEachComplianceExclusion(const Snapshot& snapshot, const AnswerRequest& request,
                                const Answer& answer,
                                absl::FunctionRef<void(uint32_t dc, int32_t rule_index)> fn);

}  // namespace dcdir::core

#endif  // DCDIR_SERVICE_CORE_EXCLUSIONS_H_

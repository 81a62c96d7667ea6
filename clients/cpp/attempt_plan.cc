#include "dcdir/client/attempt_plan.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "dcdir/client/errors.h"

namespace dcdir::client {

bool Pinning::Allows(const DataCenter& dc) const {
  if (!regions.empty() &&
      std::find(regions.begin(), regions.end(), dc.region) == regions.end()) {
    return false;
  }
  if (!countries.empty() &&
      std::none_of(countries.begin(), countries.end(), [&](const std::string& c) {
        return absl::EqualsIgnoreCase(c, dc.country);
      })) {
    return false;
  }
  return true;
}

std::string Pinning::Describe() const {
  std::vector<std::string> parts;
  if (!regions.empty()) parts.push_back(absl::StrCat("regions ", absl::StrJoin(regions, ",")));
  if (!countries.empty()) {
    parts.push_back(absl::StrCat("countries ", absl::StrJoin(countries, ",")));
  }
  return parts.empty() ? "no pinning" : absl::StrJoin(parts, "; ");
}

absl::StatusOr<AttemptPlan> BuildAttemptPlan(const Directory& directory,
                                             const Pinning& pinning) {
  AttemptPlan plan;
  for (const DataCenter& dc : directory.primaries) {
    if (pinning.Allows(dc)) {
      plan.attempts.push_back({dc, false});
    } else {
      plan.refused.push_back({dc, false});
    }
  }
  uint32_t secondaries = 0;
  for (const DataCenter& dc : directory.secondaries) {
    if (!pinning.Allows(dc)) {
      plan.refused.push_back({dc, true});
    } else if (secondaries < directory.secondary_attempts) {
      plan.attempts.push_back({dc, true});
      ++secondaries;
    }
  }
  if (plan.attempts.empty()) {
    if (plan.refused.empty()) {
      return WithReason(absl::UnavailableError("the directory answer offers no data center"),
                        "EMPTY_DIRECTORY");
    }
    std::vector<std::string> ids;
    for (const RefusedDatacenter& r : plan.refused) {
      ids.push_back(absl::StrCat(r.datacenter.id, " (", r.datacenter.country, ")"));
    }
    return WithReason(
        absl::FailedPreconditionError(absl::StrCat(
            "client pinning (", pinning.Describe(), ") refused every data center the directory "
            "offered: ", absl::StrJoin(ids, ", "),
            "; not connecting anywhere. Retry later, or widen the pinning if these are allowed")),
        "PINNING_REFUSED_ALL");
  }
  return plan;
}

Directory FilterDirectory(const Directory& directory, const Pinning& pinning) {
  Directory filtered = directory;
  if (pinning.empty()) return filtered;
  filtered.primaries.clear();
  filtered.secondaries.clear();
  for (const DataCenter& dc : directory.primaries) {
    if (pinning.Allows(dc)) filtered.primaries.push_back(dc);
  }
  for (const DataCenter& dc : directory.secondaries) {
    if (pinning.Allows(dc)) filtered.secondaries.push_back(dc);
  }
  return filtered;
}

}  // namespace dcdir::client

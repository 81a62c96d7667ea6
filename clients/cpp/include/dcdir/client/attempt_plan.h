#ifndef DCDIR_CLIENT_ATTEMPT_PLAN_H_
#define DCDIR_CLIENT_ATTEMPT_PLAN_H_

// The order in which a client tries DCs, and client-side pinning: a second line of defence that
// refuses any DC outside the regions/countries the app accepts, even if a server offers it.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dcdir/client/types.h"

namespace dcdir::client {

// The regions and countries an app accepts. An empty list does not restrict; when both are
// given a DC must match both (its region in `regions` and its country in `countries`).
struct Pinning {
  std::vector<std::string> regions;    // region ids, e.g. "us"
  std::vector<std::string> countries;  // ISO alpha-2, case-insensitive, e.g. "US"

  bool empty() const { return regions.empty() && countries.empty(); }
  // Whether a DC may be used.
  bool Allows(const DataCenter& dc) const;
  // "regions us; countries US" for messages.
  std::string Describe() const;
};

struct PlannedAttempt {
  DataCenter datacenter;
  bool secondary = false;
};

// A DC the directory offered that pinning refused.
struct RefusedDatacenter {
  DataCenter datacenter;
  bool secondary = false;
};

struct AttemptPlan {
  // Primaries in the directory's order, then the first `secondary_attempts` secondaries, all
  // allowed by the pinning.
  std::vector<PlannedAttempt> attempts;
  // Offered but outside the pinning; never in `attempts`.
  std::vector<RefusedDatacenter> refused;
};

// Builds the plan. Pinned-out DCs are dropped before the secondaries are counted. Errors:
// FAILED_PRECONDITION (reason PINNING_REFUSED_ALL) when pinning leaves nothing to try,
// UNAVAILABLE (reason EMPTY_DIRECTORY) when the answer offers no DC at all.
absl::StatusOr<AttemptPlan> BuildAttemptPlan(const Directory& directory,
                                             const Pinning& pinning);

// `directory` without the DCs `pinning` refuses.
Directory FilterDirectory(const Directory& directory, const Pinning& pinning);

}  // namespace dcdir::client

#endif  // DCDIR_CLIENT_ATTEMPT_PLAN_H_

#ifndef DCDIR_SERVICE_CONFIG_COMPLIANCE_CHANGE_H_
#define DCDIR_SERVICE_CONFIG_COMPLIANCE_CHANGE_H_

// The compliance ratchet as people and pipelines see it: the verdict on a new config against
// the served one (core::DiffCompliance), a one-line log summary, and the per-region report of
// `dcdir-server --check_config --config=NEW --against=OLD`.

#include <string>

#include "service/core/compliance_diff.h"
#include "service/core/topology.h"

namespace dcdir::config {

struct ComplianceChange {
  core::ComplianceDiff diff;
  // The new file names the served version in allow_loosening_from.
  bool acknowledged = false;
  // A live reload must refuse the new config: it loosens and does not acknowledge it.
  bool refused() const { return diff.loosens() && !acknowledged; }
};

ComplianceChange CompareCompliance(const core::Topology& served, const core::Topology& next);

// One line for the log: the count, the first `max_pairs` loosened pairs with the served rule
// that denied each and its fate (removed / changed / unchanged), and what to add to the file.
// Example:
//   the new config (version N) allows 4 (client, DC) pairs that the served config (version S)
//   denies: US -> cn-pek (rule cn-sovereign removed), ...; to apply it on purpose, add
//   "allow_loosening_from: S" to the new file
std::string LooseningSummary(const core::Topology& served, const core::Topology& next,
                             const ComplianceChange& change, size_t max_pairs = 5);

// The per-region report (text): pairs newly allowed and newly denied, grouped by region, rule
// and DCs, with the clients ("any other country" for clients no config names), and the
// verdict (acknowledged or not).
std::string ComplianceChangeText(const core::Topology& served, const core::Topology& next,
                                 const ComplianceChange& change);

// The same as a JSON object: {"served_version","new_version","acknowledged","refused",
// "loosened":[{client,region,datacenter,rule,rule_fate}],"tightened":[{client,region,
// datacenter,rule}]} (client "" = any other country).
std::string ComplianceChangeJson(const core::Topology& served, const core::Topology& next,
                                 const ComplianceChange& change);

}  // namespace dcdir::config

#endif  // DCDIR_SERVICE_CONFIG_COMPLIANCE_CHANGE_H_

#ifndef DCDIR_SERVICE_CORE_COMPLIANCE_DIFF_H_
#define DCDIR_SERVICE_CORE_COMPLIANCE_DIFF_H_

// The compliance ratchet: which (client, DC) pairs a new config allows that the served one
// denies (a loosening), and the reverse (a tightening). A live reload that loosens is refused
// unless the new file acknowledges the served version (`allow_loosening_from`); tightening
// applies at once.
//
// Clients: every country either config names (in `countries` or in a rule's client selector),
// every subdivision either config lists (its clients are judged as (its country, its home
// region in each config)), and "any other country" (client ""), the clients no config names.
// For a client C:
//   served verdict on DC d = the served config's deny rules for (C, C's served home region) on
//       d as the served config describes it (its region, country, id). When the served config
//       did not serve C (no mapping, no default region), its rules are asked about C in C's new
//       home region; when the served config has no DC d, about d as the new config describes it.
//   new verdict = the new config's deny rules for (C, C's new home region) on d as the new
//       config describes it. A client the new config does not serve is allowed nothing.
// loosened = new allows and served denies, for every DC of the new config (so a dropped or
// narrowed rule, a country moved to another region, a DC moved to another region or country,
// a new DC that the served rules would deny, and a new default region all count).
// tightened = new denies and served allows, for DCs of both configs and clients both serve.
// Tenant routing control is not part of the config and not compared.

#include <string>
#include <vector>

#include "service/core/topology.h"

namespace dcdir::core {

struct PairChange {
  // Country code (upper case), subdivision code ("US-WA"), or "" for any country no config
  // names.
  std::string client;
  std::string region;      // the client's home region under the new config
  std::string datacenter;  // DC id
  // loosened: the served rule that denied the pair; tightened: the new rule that denies it.
  std::string rule;
  bool operator==(const PairChange&) const = default;
};

struct ComplianceDiff {
  // Sorted by region (new config order), then client, then DC (new config order).
  std::vector<PairChange> loosened;
  std::vector<PairChange> tightened;
  bool loosens() const { return !loosened.empty(); }
};

ComplianceDiff DiffCompliance(const Topology& served, const Topology& next);

// How a served rule that denied a loosened pair fares in the new config: "removed" (no rule of
// that name), "changed" (same name, different selectors) or "unchanged" (the pair loosened
// because the client's home region or the DC moved).
std::string RuleFate(const Topology& served, const Topology& next, const std::string& rule);

}  // namespace dcdir::core

#endif  // DCDIR_SERVICE_CORE_COMPLIANCE_DIFF_H_

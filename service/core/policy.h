#ifndef DCDIR_SERVICE_CORE_POLICY_H_
#define DCDIR_SERVICE_CORE_POLICY_H_

// Deny-rule evaluation (explicit deny wins; everything else is allowed).

#include <string_view>

#include "service/core/model.h"

namespace dcdir::core {

// The client side of a rule evaluation.
struct ClientKey {
  std::string_view country;  // ISO alpha-2, upper case (ignored when any_other_country)
  std::string_view region;   // home region id
  // True: the client's country is one no client selector names ("any other country"): a
  // country condition matches it exactly when the condition is negated.
  bool any_other_country = false;
};

// The two halves of a rule: every client condition matches `client` / every DC condition
// matches `dc` (an empty side matches everything). RuleDenies is their conjunction.
bool ClientSideMatches(const DenyRule& rule, const ClientKey& client);
bool DcSideMatches(const DenyRule& rule, const DataCenter& dc);

// True when `rule` denies `dc` to `client`.
bool RuleDenies(const DenyRule& rule, const ClientKey& client, const DataCenter& dc);

// The first rule of `rules` (file order) that denies `dc` to `client`, or nullptr.
const DenyRule* FirstDenyingRule(const std::vector<DenyRule>& rules, const ClientKey& client,
                                 const DataCenter& dc);

}  // namespace dcdir::core

#endif  // DCDIR_SERVICE_CORE_POLICY_H_

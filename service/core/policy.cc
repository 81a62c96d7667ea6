#include "service/core/policy.h"

#include <algorithm>
#include <string_view>

namespace dcdir::core {
namespace {

// `field in values` (or `not in` when negated) for one looked-at value.
bool ConditionMatches(const Condition& c, std::string_view value) {
  const bool in = std::find(c.values.begin(), c.values.end(), value) != c.values.end();
  return in != c.negated;
}

bool ClientConditionMatches(const Condition& c, const ClientKey& client) {
  switch (c.field) {
    case SelectorField::kRegion:
      return ConditionMatches(c, client.region);
    case SelectorField::kCountry:
      return client.any_other_country ? c.negated : ConditionMatches(c, client.country);
    case SelectorField::kDataCenter:
      // A client has no DC id. Topology::Compile rejects such rules; should one get here
      // anyway the condition does not match, so the rule cannot deny (never reached in a
      // compiled world).
      return false;
  }
  return false;
}

bool DcConditionMatches(const Condition& c, const DataCenter& dc) {
  switch (c.field) {
    case SelectorField::kRegion:
      return ConditionMatches(c, dc.region);
    case SelectorField::kCountry:
      return ConditionMatches(c, dc.country);
    case SelectorField::kDataCenter:
      return ConditionMatches(c, dc.id);
  }
  return false;
}

}  // namespace

bool ClientSideMatches(const DenyRule& rule, const ClientKey& client) {
  for (const Condition& c : rule.clients) {
    if (!ClientConditionMatches(c, client)) return false;
  }
  return true;
}

bool DcSideMatches(const DenyRule& rule, const DataCenter& dc) {
  for (const Condition& c : rule.datacenters) {
    if (!DcConditionMatches(c, dc)) return false;
  }
  return true;
}

bool RuleDenies(const DenyRule& rule, const ClientKey& client, const DataCenter& dc) {
  // Every condition of both sides must match; an empty side matches everything.
  return ClientSideMatches(rule, client) && DcSideMatches(rule, dc);
}

const DenyRule* FirstDenyingRule(const std::vector<DenyRule>& rules, const ClientKey& client,
                                 const DataCenter& dc) {
  for (const DenyRule& rule : rules) {
    if (RuleDenies(rule, client, dc)) return &rule;
  }
  return nullptr;
}

}  // namespace dcdir::core

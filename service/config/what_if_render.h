#ifndef DCDIR_SERVICE_CONFIG_WHAT_IF_RENDER_H_
#define DCDIR_SERVICE_CONFIG_WHAT_IF_RENDER_H_

// The compliance check's result (what_if.h) as text for people and as JSON for tools.

#include <string>

#include "service/config/what_if.h"

namespace dcdir::config {

// A readable report: compliant DC counts, per-tenant sets, then one line per (failed region,
// client region) such as "if us fails: us → ca-yyz, ca-yvr, mx-qro, eu-ams (fallback;
// cross-border: ca-yyz ca-yvr)" or "if cn fails: cn → no compliant DC (fail closed)".
std::string ComplianceCheckText(const ComplianceCheck& check);

// The same facts as one JSON object (stable key order, no trailing newline).
std::string ComplianceCheckJson(const ComplianceCheck& check);

}  // namespace dcdir::config

#endif  // DCDIR_SERVICE_CONFIG_WHAT_IF_RENDER_H_

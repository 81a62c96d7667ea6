#include "service/core/exclusions.h"

namespace dcdir::core {

void ForEachComplianceExclusion(const Snapshot& snapshot, const AnswerRequest& request,
                                const Answer& answer,
                                absl::FunctionRef<void(uint32_t dc, int32_t rule_index)> fn) {
  if (answer.region == kNoIndex) return;
  const Topology& topology = *snapshot.topology;
  const CompiledRegion& region = topology.region(answer.region);
  const ResolvedClient resolved = topology.Resolve(request.country, request.subdivision);
  if (resolved.cls == nullptr) return;
  const ClientClass& client = *resolved.cls;
  const CompiledTenant* tenant = nullptr;
  if (!request.tenant_id.empty() && snapshot.tenants != nullptr) {
    tenant = snapshot.tenants->Find(request.tenant_id);
  }
  auto check = [&](uint32_t dc) {
    if (!client.allowed.Contains(dc)) {
      fn(dc, client.denying_rule[dc]);
    } else if (tenant != nullptr && !tenant->allowed.Contains(dc)) {
      fn(dc, -1);
    }
  };
  for (uint32_t dc : region.primaries) {
    if (snapshot.usable.Contains(dc)) check(dc);
  }
  DcSet offered = region.primary_set;
  uint32_t secondaries = 0;
  for (uint32_t dc : region.secondaries) {
    if (!snapshot.usable.Contains(dc) || offered.Contains(dc)) continue;
    offered.Insert(dc);
    ++secondaries;
    check(dc);
  }
  const uint32_t min = topology.world().thresholds.min_secondaries;
  for (uint32_t dc : region.by_distance) {
    if (secondaries >= min) break;
    if (!snapshot.usable.Contains(dc) || offered.Contains(dc)) continue;
    offered.Insert(dc);
    ++secondaries;
    check(dc);
  }
}

}  // namespace dcdir::core

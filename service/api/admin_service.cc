#include "service/api/admin_service.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "service/api/mapping.h"
#include "service/api/page_token.h"
#include "service/api/reasons.h"
#include "service/api/validation.h"
#include "service/core/tenant_page.h"

namespace dcdir::api {
namespace {

grpc::ServerUnaryReactor* FinishWith(grpc::CallbackServerContext* context,
                                     const absl::Status& status) {
  auto* reactor = context->DefaultReactor();
  reactor->Finish(Reply(context, status));
  return reactor;
}

// A store's NOT_FOUND for a tenant is TENANT_NOT_FOUND; any other status is kept.
absl::Status TenantNotFound(const absl::Status& status) {
  if (!absl::IsNotFound(status)) return status;
  return ApiError(absl::StatusCode::kNotFound, reasons::kTenantNotFound, status.message());
}

}  // namespace

absl::StatusOr<std::shared_ptr<const core::Snapshot>> AdminServiceImpl::Admit(
    const grpc::CallbackServerContext& context) const {
  if (absl::Status e = context_.auth->CheckAdmin(context); !e.ok()) return e;
  std::shared_ptr<const core::Snapshot> snapshot = context_.state->Current();
  if (snapshot == nullptr) return NotReadyError();
  return snapshot;
}

grpc::ServerUnaryReactor* AdminServiceImpl::SetTenantPolicy(
    grpc::CallbackServerContext* context, const v1::SetTenantPolicyRequest* request,
    v1::TenantPolicy* response) {
  absl::StatusOr<std::shared_ptr<const core::Snapshot>> snapshot = Admit(*context);
  if (!snapshot.ok()) return FinishWith(context, snapshot.status());
  if (!request->has_policy()) {
    return FinishWith(context, ApiError(absl::StatusCode::kInvalidArgument, reasons::kMissingPolicy,
                                        "policy is required"));
  }
  absl::StatusOr<core::TenantPolicy> policy =
      ValidateTenantPolicy(request->policy(), *(*snapshot)->topology);
  if (!policy.ok()) return FinishWith(context, policy.status());
  // Checked on the gRPC thread; only the store write waits on the store queue.
  auto* reactor = context->DefaultReactor();
  FinishOnStoreQueue(context_, context, reactor,
                     [this, policy = *std::move(policy), response]() mutable -> absl::Status {
                       auto stored = context_.state->SetTenant(std::move(policy));
                       if (!stored.ok()) return stored.status();
                       ToProto(*stored, response);
                       return absl::OkStatus();
                     });
  return reactor;
}

grpc::ServerUnaryReactor* AdminServiceImpl::GetTenantPolicy(
    grpc::CallbackServerContext* context, const v1::GetTenantPolicyRequest* request,
    v1::TenantPolicy* response) {
  absl::StatusOr<std::shared_ptr<const core::Snapshot>> snapshot = Admit(*context);
  absl::Status error = snapshot.status();
  if (error.ok()) error = ValidateTenantId(request->tenant_id(), /*required=*/true);
  if (error.ok()) {
    if (const core::CompiledTenant* tenant = (*snapshot)->tenants->Find(request->tenant_id())) {
      ToProto(*tenant, response);
    } else {
      error = TenantNotFound(absl::NotFoundError(
          absl::StrCat("no policy is stored for tenant \"", request->tenant_id(), "\"")));
    }
  }
  return FinishWith(context, error);
}

grpc::ServerUnaryReactor* AdminServiceImpl::DeleteTenantPolicy(
    grpc::CallbackServerContext* context, const v1::DeleteTenantPolicyRequest* request,
    v1::DeleteTenantPolicyResponse* /*response*/) {
  absl::Status error = Admit(*context).status();
  if (error.ok()) error = ValidateTenantId(request->tenant_id(), /*required=*/true);
  if (!error.ok()) return FinishWith(context, error);
  auto* reactor = context->DefaultReactor();
  FinishOnStoreQueue(context_, context, reactor, [this, request]() -> absl::Status {
    return TenantNotFound(context_.state->DeleteTenant(request->tenant_id()));
  });
  return reactor;
}

grpc::ServerUnaryReactor* AdminServiceImpl::ListTenantPolicies(
    grpc::CallbackServerContext* context, const v1::ListTenantPoliciesRequest* request,
    v1::ListTenantPoliciesResponse* response) {
  absl::StatusOr<std::shared_ptr<const core::Snapshot>> admitted = Admit(*context);
  absl::Status error = admitted.status();
  int page_size = request->page_size();
  if (error.ok() && page_size < 0) {
    error = ApiError(absl::StatusCode::kInvalidArgument, reasons::kInvalidPageSize,
                     absl::StrCat("page_size must be >= 0 (0: ", kDefaultTenantPageSize,
                                  "; at most ", kMaxTenantPageSize, "); got ", page_size));
  }
  std::string after;
  if (error.ok() && !request->page_token().empty()) {
    std::optional<std::string> key = DecodePageToken(request->page_token());
    if (key.has_value()) {
      after = *std::move(key);
    } else {
      error = ApiError(absl::StatusCode::kInvalidArgument, reasons::kInvalidPageToken,
                       "page_token is not a next_page_token of ListTenantPolicies; start again "
                       "with an empty page_token");
    }
  }
  if (error.ok()) {
    const std::shared_ptr<const core::Snapshot>& snapshot = *admitted;
    if (page_size == 0) page_size = kDefaultTenantPageSize;
    page_size = std::min(page_size, kMaxTenantPageSize);
    const core::TenantPage page =
        core::TenantsAfter(*snapshot->tenants, after, static_cast<size_t>(page_size));
    for (const core::CompiledTenant* tenant : page.tenants) {
      ToProto(*tenant, response->add_tenant_policies());
    }
    if (page.more && !page.tenants.empty()) {
      response->set_next_page_token(EncodePageToken(page.tenants.back()->policy.tenant_id));
    }
    response->set_snapshot_version(snapshot->version);
    response->set_config_version(snapshot->topology->world().version);
  }
  return FinishWith(context, error);
}

grpc::ServerUnaryReactor* AdminServiceImpl::ListDataCenters(
    grpc::CallbackServerContext* context, const v1::ListDataCentersRequest* request,
    v1::ListDataCentersResponse* response) {
  absl::StatusOr<std::shared_ptr<const core::Snapshot>> admitted = Admit(*context);
  if (admitted.ok()) {
    const std::shared_ptr<const core::Snapshot>& snapshot = *admitted;
    const core::Topology& topology = *snapshot->topology;
    const absl::Duration to_wall = context_.state->HealthToWall();
    for (uint32_t i = 0; i < topology.dc_count(); ++i) {
      v1::DataCenterState* s = response->add_datacenters();
      FillDataCenter(*snapshot, i, /*cross_border=*/false, s->mutable_datacenter());
      const core::DataCenter& dc = topology.dc(i);
      s->set_capacity_sessions(dc.capacity_sessions);
      s->set_latitude(dc.location.lat);
      s->set_longitude(dc.location.lon);
      const core::HealthRecord& r = snapshot->dcs[i].record;
      if (r.reported_at != absl::InfinitePast()) {
        // Health times live on the store's timeline; shown as wall-clock times.
        ToProto(r.reported_at + to_wall, s->mutable_report_time());
        ToProto(r.expires_at + to_wall, s->mutable_expire_time());
      }
    }
    response->set_snapshot_version(snapshot->version);
    response->set_config_version(topology.world().version);
    response->set_stale(snapshot->stale);
  }
  return FinishWith(context, admitted.status());
}

}  // namespace dcdir::api

#ifndef DCDIR_SERVICE_API_ADMIN_SERVICE_H_
#define DCDIR_SERVICE_API_ADMIN_SERVICE_H_

#include "dcdir/v1/admin.grpc.pb.h"
#include "service/api/service_context.h"

namespace dcdir::api {

// dcdir.v1.AdminService: tenant policies and the DC list. Every RPC needs the token or an
// admin client certificate (Authenticator::CheckAdmin).
class AdminServiceImpl final : public v1::AdminService::CallbackService {
 public:
  explicit AdminServiceImpl(ServiceContext context) : context_(context) {}

  grpc::ServerUnaryReactor* SetTenantPolicy(grpc::CallbackServerContext* context,
                                            const v1::SetTenantPolicyRequest* request,
                                            v1::TenantPolicy* response) override;
  grpc::ServerUnaryReactor* GetTenantPolicy(grpc::CallbackServerContext* context,
                                            const v1::GetTenantPolicyRequest* request,
                                            v1::TenantPolicy* response) override;
  grpc::ServerUnaryReactor* DeleteTenantPolicy(grpc::CallbackServerContext* context,
                                               const v1::DeleteTenantPolicyRequest* request,
                                               v1::DeleteTenantPolicyResponse* response) override;
  // Stored tenant policies of the served snapshot, by tenant id, page by page
  // (core::TenantsAfter; page tokens from page_token.h).
  grpc::ServerUnaryReactor* ListTenantPolicies(grpc::CallbackServerContext* context,
                                               const v1::ListTenantPoliciesRequest* request,
                                               v1::ListTenantPoliciesResponse* response) override;
  grpc::ServerUnaryReactor* ListDataCenters(grpc::CallbackServerContext* context,
                                            const v1::ListDataCentersRequest* request,
                                            v1::ListDataCentersResponse* response) override;

 private:
  // Authenticates and checks readiness; returns the snapshot on success.
  absl::StatusOr<std::shared_ptr<const core::Snapshot>> Admit(
      const grpc::CallbackServerContext& context) const;
  ServiceContext context_;
};

}  // namespace dcdir::api

#endif  // DCDIR_SERVICE_API_ADMIN_SERVICE_H_

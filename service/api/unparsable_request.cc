#include "service/api/unparsable_request.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "service/api/api_error.h"
#include "service/api/reasons.h"

namespace dcdir::api {
namespace {

// The hot path: an interceptor on every GetDirectory call cost ~13% of its throughput
// (h2load, same-run alternated rounds, docs/SECURITY.md), so an unparsable GetDirectory keeps
// gRPC's UNIMPLEMENTED. (Registering it as a raw method and parsing in the handler would map
// it without that cost; not done.)
constexpr char kNotIntercepted[] = "/dcdir.v1.DirectoryService/GetDirectory";

constexpr const char* kServices[] = {"dcdir.v1.DirectoryService", "dcdir.v1.ReportingService",
                                     "dcdir.v1.AdminService"};

class UnparsableRequestInterceptor final : public grpc::experimental::Interceptor {
 public:
  UnparsableRequestInterceptor(const char* method, prometheus::Counter* counter)
      : method_(method), counter_(counter) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS) &&
        methods->GetSendStatus().error_code() == grpc::StatusCode::UNIMPLEMENTED) {
      counter_->Increment();
      methods->ModifySendStatus(grpc::Status(
          grpc::StatusCode::INVALID_ARGUMENT,
          absl::StrCat("the request could not be parsed as the message of ", method_,
                       " (a string field that is not valid UTF-8, or a malformed message); "
                       "send it from code generated from proto/dcdir/v1")));
      methods->GetSendTrailingMetadata()->emplace(kErrorReasonKey,
                                                  reasons::kUnparsableRequest);
    }
    methods->Proceed();
  }

 private:
  const char* method_;
  prometheus::Counter* counter_;
};

}  // namespace

UnparsableRequestInterceptorFactory::UnparsableRequestInterceptorFactory(
    metrics::Metrics* metrics) {
  const google::protobuf::DescriptorPool* pool =
      google::protobuf::DescriptorPool::generated_pool();
  for (const char* name : kServices) {
    const google::protobuf::ServiceDescriptor* service = pool->FindServiceByName(name);
    if (service == nullptr) continue;  // not linked into this binary
    for (int i = 0; i < service->method_count(); ++i) {
      const std::string method = absl::StrCat("/", name, "/", service->method(i)->name());
      if (method == kNotIntercepted) continue;
      methods_[method] = metrics->UnparsableRequests(method);
    }
  }
}

grpc::experimental::Interceptor* UnparsableRequestInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  auto it = methods_.find(info->method());
  if (it == methods_.end()) return nullptr;
  return new UnparsableRequestInterceptor(it->first.c_str(), it->second);
}

}  // namespace dcdir::api

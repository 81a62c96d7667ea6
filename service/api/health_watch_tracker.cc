#include "service/api/health_watch_tracker.h"

#include <cstring>
#include <vector>

#include "grpcpp/server_context.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/slice.h"

namespace dcdir::api {
namespace {

constexpr char kWatchMethod[] = "/grpc.health.v1.Health/Watch";

// True when `buffer` is a serialized HealthCheckResponse{status: NOT_SERVING}: field 1, varint,
// value 2 (grpc/health/v1/health.proto).
bool IsNotServing(grpc::ByteBuffer* buffer) {
  if (buffer == nullptr) return false;
  grpc::Slice slice;
  if (!buffer->DumpToSingleSlice(&slice).ok()) return false;
  return slice.size() == 2 && slice.begin()[0] == 0x08 && slice.begin()[1] == 0x02;
}

}  // namespace

class HealthWatchTracker::Interceptor final : public grpc::experimental::Interceptor {
 public:
  Interceptor(HealthWatchTracker* tracker, grpc::ServerContextBase* context)
      : tracker_(tracker), context_(context) {
    tracker_->Add(this);
  }
  ~Interceptor() override { tracker_->Remove(this); }

  // gRPC 1.51 gives a server interceptor no POST_SEND_MESSAGE, so the proof that a NOT_SERVING
  // answer was written is the next send: the health service starts a write only once the
  // previous one is done (its WatchReactor queues a new status while a write is pending).
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_MESSAGE)) {
      if (sent_not_serving_) tracker_->NotServingSent(this);
      sent_not_serving_ = IsNotServing(methods->GetSerializedSendMessage());
    }
    methods->Proceed();
  }

  // Called under the tracker's lock, which Remove (the destructor) also takes, so the context is
  // alive (gRPC destroys the interceptors inside the context's destructor, before the call).
  void Cancel() { context_->TryCancel(); }

 private:
  HealthWatchTracker* const tracker_;
  grpc::ServerContextBase* const context_;
  // The last message sent was NOT_SERVING; touched only by gRPC's hooks, one batch at a time.
  bool sent_not_serving_ = false;
};

class HealthWatchTracker::InterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit InterceptorFactory(HealthWatchTracker* tracker) : tracker_(tracker) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    if (std::strcmp(info->method(), kWatchMethod) != 0) return nullptr;
    return new Interceptor(tracker_, info->server_context());
  }

 private:
  HealthWatchTracker* const tracker_;
};

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
HealthWatchTracker::Factory() {
  return std::make_unique<InterceptorFactory>(this);
}

void HealthWatchTracker::Add(Interceptor* call) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  calls_[call] = false;
}

void HealthWatchTracker::Remove(Interceptor* call) {
  {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    calls_.erase(call);
  }
  cv_.notify_all();
}

void HealthWatchTracker::NotServingSent(Interceptor* call) {
  {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    auto it = calls_.find(call);
    if (it != calls_.end()) it->second = true;
  }
  cv_.notify_all();
}

size_t HealthWatchTracker::EndAll(absl::Duration wait) {
  std::unique_lock<std::recursive_mutex> lock(mu_);
  cv_.wait_for(lock, absl::ToChronoNanoseconds(wait), [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    for (const auto& [call, sent] : calls_) {
      if (!sent) return false;
    }
    return true;
  });
  // A copy: a cancelled call may leave calls_ inside Cancel (same thread, recursive lock); the
  // others cannot leave while the lock is held, so each pointer is alive when cancelled.
  std::vector<Interceptor*> calls;
  calls.reserve(calls_.size());
  for (const auto& [call, sent] : calls_) calls.push_back(call);
  for (Interceptor* call : calls) call->Cancel();
  return calls.size();
}

size_t HealthWatchTracker::open() const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  return calls_.size();
}

}  // namespace dcdir::api

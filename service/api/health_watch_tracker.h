#ifndef DCDIR_SERVICE_API_HEALTH_WATCH_TRACKER_H_
#define DCDIR_SERVICE_API_HEALTH_WATCH_TRACKER_H_

// The open grpc.health.v1.Health/Watch calls of gRPC's default health service, so that a drain
// can end them. gRPC 1.51's HealthCheckServiceInterface::Shutdown() only sends NOT_SERVING
// again and leaves every Watch open; an open Watch (a probe, a load balancer that keeps it
// across NOT_SERVING) is an in-flight call, and grpc::Server::Shutdown(deadline) waited for it
// until --shutdown_grace ran out. A server interceptor on that one method (the factory returns
// no interceptor for any other, so other calls pay one string compare) keeps each call's
// ServerContext while the call lives and notes when a NOT_SERVING answer was written (seen as the
// next answer starting: gRPC 1.51 gives server interceptors no POST_SEND_MESSAGE); EndAll
// cancels the calls.

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "grpcpp/support/server_interceptor.h"

namespace dcdir::api {

class HealthWatchTracker {
 public:
  HealthWatchTracker() = default;
  HealthWatchTracker(const HealthWatchTracker&) = delete;
  HealthWatchTracker& operator=(const HealthWatchTracker&) = delete;

  // The interceptor factory to give the grpc::ServerBuilder (SetInterceptorCreators). It refers
  // to this tracker, which must outlive the server.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> Factory();

  // Ends every open Watch call: waits up to `wait` until each has written a NOT_SERVING answer
  // (proved by a later answer starting: set NOT_SERVING twice before, as DcdirServer's
  // StopServing and Shutdown do, and no wait is needed; once, and the whole `wait` passes), so
  // that a watcher learns why its stream ends, then cancels each call (the client sees
  // CANCELLED). Returns how many calls it cancelled.
  size_t EndAll(absl::Duration wait);

  // Watch calls open now.
  size_t open() const;

 private:
  class Interceptor;
  class InterceptorFactory;
  friend class Interceptor;

  void Add(Interceptor* call);
  void Remove(Interceptor* call);
  void NotServingSent(Interceptor* call);

  // Recursive: a call that EndAll cancels may end (and its interceptor leave, Remove) on the
  // cancelling thread, inside TryCancel.
  mutable std::recursive_mutex mu_;
  std::condition_variable_any cv_;
  // Open calls -> whether a NOT_SERVING answer was written.
  absl::flat_hash_map<Interceptor*, bool> calls_ ABSL_GUARDED_BY(mu_);
};

}  // namespace dcdir::api

#endif  // DCDIR_SERVICE_API_HEALTH_WATCH_TRACKER_H_

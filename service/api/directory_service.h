#ifndef DCDIR_SERVICE_API_DIRECTORY_SERVICE_H_
#define DCDIR_SERVICE_API_DIRECTORY_SERVICE_H_

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "dcdir/v1/directory.grpc.pb.h"
#include "service/api/arena_allocator.h"
#include "service/api/service_context.h"
#include "service/api/validation.h"
#include "service/audit/audit_sink.h"
#include "service/core/answer.h"

namespace dcdir::api {

class Watcher;

// Keeps the open WatchDirectory streams and tells them about new snapshots.
//
// Fan-out runs on the hub's own thread, never on the thread that published the snapshot (which
// may hold no lock of ours but is a ReportHealth or a store change) and never on a gRPC
// reaction: NotifyAll() only marks the hub dirty and wakes that thread. Each pass computes
// every stream's answer on the newest snapshot; snapshots published during a pass are folded
// into the next one (coalesced), so the pass rate adapts to the cost of a pass, not to the
// publish rate. A stream that does not read keeps at most one message in flight and one
// "send again" flag: its memory does not grow with how long it has been stuck, and it never
// delays the others (gRPC's StartWrite does not block).
class WatchHub {
 public:
  enum class Admission { kAdmitted, kShuttingDown, kTooMany, kTooManyFromPeer };

  WatchHub();
  ~WatchHub();
  WatchHub(const WatchHub&) = delete;
  WatchHub& operator=(const WatchHub&) = delete;

  // Adds the stream of a client at `peer_address` (PeerAddress()). Not added when
  // `max_watchers` are open (kTooMany), `max_watchers_per_peer` are open from that address
  // (kTooManyFromPeer) or the hub is shut down (kShuttingDown).
  Admission Register(std::shared_ptr<Watcher> watcher, const std::string& peer_address);
  void Unregister(Watcher* watcher);
  // Asks the fan-out thread to bring every open stream up to the newest snapshot. Cheap, never
  // blocks on the streams.
  void NotifyAll();
  // Ends every open stream (server shutdown), refuses new ones and stops the fan-out thread.
  void Shutdown();
  bool shutting_down() const;
  size_t size() const;
  // Completed fan-out passes (each over every stream open at its start), for tests and
  // benchmarks.
  uint64_t passes() const;
  // The most streams open at once (RESOURCE_EXHAUSTED TOO_MANY_WATCHES beyond); 0: no limit.
  void set_max_watchers(size_t max) {
    std::lock_guard<std::mutex> lock(mu_);
    max_watchers_ = max;
  }
  // The most streams open at once from one client address (RESOURCE_EXHAUSTED
  // TOO_MANY_WATCHES_FROM_PEER beyond); 0: no limit.
  void set_max_watchers_per_peer(size_t max) {
    std::lock_guard<std::mutex> lock(mu_);
    max_per_peer_ = max;
  }

  // The client's address without its port, from grpc::ServerContextBase::peer():
  // "ipv4:10.0.0.7:51234" -> "ipv4:10.0.0.7", "ipv6:[::1]:5" -> "ipv6:[::1]".
  static std::string PeerAddress(const std::string& peer);

 private:
  struct Entry {
    std::shared_ptr<Watcher> watcher;
    std::string peer;
  };
  void FanOut();

  mutable std::mutex mu_;
  std::condition_variable cv_;  // dirty_ or stopping_
  absl::flat_hash_map<Watcher*, Entry> watchers_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, size_t> per_peer_ ABSL_GUARDED_BY(mu_);
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  bool dirty_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t passes_ ABSL_GUARDED_BY(mu_) = 0;
  size_t max_watchers_ ABSL_GUARDED_BY(mu_) = 0;
  size_t max_per_peer_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

// dcdir.v1.DirectoryService: GetDirectory, WatchDirectory, ExplainDirectory.
class DirectoryServiceImpl final : public v1::DirectoryService::CallbackService {
 public:
  // `audit` (may be null) hears of every cross-border fallback answer that is sent.
  explicit DirectoryServiceImpl(ServiceContext context, audit::AuditSink* audit = nullptr);
  WatchHub& hub() { return hub_; }

  grpc::ServerUnaryReactor* GetDirectory(grpc::CallbackServerContext* context,
                                         const v1::GetDirectoryRequest* request,
                                         v1::Directory* response) override;
  grpc::ServerWriteReactor<v1::Directory>* WatchDirectory(
      grpc::CallbackServerContext* context, const v1::GetDirectoryRequest* request) override;
  grpc::ServerUnaryReactor* ExplainDirectory(grpc::CallbackServerContext* context,
                                             const v1::GetDirectoryRequest* request,
                                             v1::DirectoryExplanation* response) override;

  // A validated request with what GeoIP added (country, location).
  struct Located {
    DirectoryRequestFields fields;  // views into the request: valid while it lives
    bool country_declared = true;   // false: from the subdivision or GeoIP
    std::optional<core::GeoPoint> geoip_location;
    core::AnswerRequest ToCore(const v1::GetDirectoryRequest& request) const;
  };
  // Validates `request` and locates its client (GeoIP, when configured, for a missing country
  // or location); else the error to answer with. Views into `request`.
  absl::StatusOr<Located> Locate(const grpc::ServerContextBase& context,
                                 const v1::GetDirectoryRequest& request) const;

  // The answer to a validated request on the current snapshot.
  struct Computed {
    std::shared_ptr<const core::Snapshot> snapshot;  // null when not ready
    core::Answer answer;
    absl::Status error;  // not OK when there is no answer
  };
  // Computes the answer; on success fills `response` (when not null). Records no metrics.
  Computed Compute(const v1::GetDirectoryRequest& request, const Located& located,
                   v1::Directory* response) const;
  // Fills `response` with a computed answer (no error) for the client `located` describes.
  void Fill(const Computed& computed, const Located& located, v1::Directory* response) const;
  // Records the metrics of an answer that is being sent (fallback, cross-border, exclusions)
  // and tells the audit sink about it.
  void Count(const v1::GetDirectoryRequest& request, const Located& located,
             const Computed& computed) const;

  const ServiceContext& context() const { return context_; }
  // The client's home region index for metrics (core::kNoIndex when not mapped): the answer's,
  // or, with no snapshot yet, the served config's.
  // The client's home region and the topology its index belongs to (metrics count each index
  // under its own topology's labels, also while a reload switches topologies).
  struct ClientRegion {
    // null: not located (invalid request). Kept alive by the request's snapshot, or by
    // `keep_alive` when there was none (no refcount on the answered path).
    const core::Topology* topology = nullptr;
    uint32_t index = core::kNoIndex;
    std::shared_ptr<const core::Topology> keep_alive;
  };
  ClientRegion RegionOf(const Located& located, const Computed& computed) const;
  ClientRegion RegionOf(const Located& located) const;
  // dcdir_directory_requests_total and the request duration for `method`.
  void ObserveRequest(metrics::Method method, const ClientRegion& region, grpc::StatusCode code,
                      absl::Duration elapsed) const;

 private:
  ServiceContext context_;
  audit::AuditSink* const audit_;
  WatchHub hub_;
  ArenaMessageAllocator<v1::GetDirectoryRequest, v1::Directory> get_allocator_;
};

}  // namespace dcdir::api

#endif  // DCDIR_SERVICE_API_DIRECTORY_SERVICE_H_

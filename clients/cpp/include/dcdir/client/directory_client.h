#ifndef DCDIR_CLIENT_DIRECTORY_CLIENT_H_
#define DCDIR_CLIENT_DIRECTORY_CLIENT_H_

// What a client app embeds to find its data centers at startup:
//
//   dcdir::client::ClientOptions options;
//   options.addresses = {"dcdir-a.example:50051", "dcdir-b.example:50051"};
//   options.cache_dir = "/var/cache/myapp";
//   options.pinning.countries = {"US"};
//   auto client = dcdir::client::DirectoryClient::Create(options);
//   dcdir::client::DirectoryRequest request;
//   request.client_country = "US";
//   auto resolution = (*client)->Resolve(request);
//   auto connection = (*client)->Connect(request, *resolution, TryMyGateway);
//
// Never throws; every fallible call returns absl::Status / StatusOr. Thread-safe. The API uses
// only the value types of dcdir/client/types.h: the generated protobuf code stays inside the
// library (docs/CLIENTS.md).

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "dcdir/client/attempt_plan.h"
#include "dcdir/client/clock.h"
#include "dcdir/client/tls_options.h"
#include "dcdir/client/types.h"

namespace dcdir::client {

class DirectoryCache;
class DirectoryWatcher;
class RttStore;

// The gRPC calls the library makes, behind an abstract stub so that tests can put a fake in its
// place. Defined in the library's sources (clients/cpp/directory_stub.h) and not installed:
// apps leave ClientOptions::stub_factory empty.
class DirectoryStub;
// Makes the stub for one directory address ("host:port").
using StubFactory = std::function<std::shared_ptr<DirectoryStub>(const std::string& address)>;

// Exponential backoff with jitter: the n-th wait is uniform in
// [(1 - jitter) * b, b] with b = min(initial * multiplier^n, maximum).
struct BackoffPolicy {
  absl::Duration initial = absl::Milliseconds(100);
  absl::Duration maximum = absl::Seconds(2);
  double multiplier = 2.0;
  double jitter = 0.5;
};

struct ClientOptions {
  // Directory servers ("host:port"), tried in turn. Required.
  std::vector<std::string> addresses;
  // Time budget of one Resolve, retries and backoff included.
  absl::Duration deadline = absl::Seconds(5);
  // Deadline of a single RPC (capped by what is left of `deadline`).
  absl::Duration attempt_timeout = absl::Seconds(1);
  // Most GetDirectory calls per Resolve.
  int max_attempts = 6;
  // Wait after each full pass over `addresses` that found no answer.
  BackoffPolicy backoff;
  // Where the last good answer is kept; empty: no disk cache.
  std::string cache_dir;
  // The connect RTTs Connect measures (and RecordRtt is told), kept with the cache (in
  // cache_dir when set) and sent as observed_rtts by Resolve. Bounded by age and count.
  RttOptions rtt;
  // How long past its TTL a cached answer may still be used when no server answers.
  absl::Duration max_stale = absl::Hours(1);
  // The regions/countries this app accepts (empty: all that the directory offers).
  Pinning pinning;
  // Called for every DC that pinning refused (also logged to stderr).
  std::function<void(const RefusedDatacenter&)> on_refused;
  // Time source (default: the real clock).
  std::shared_ptr<const Clock> clock;
  // TLS towards the directory servers (default: plaintext).
  ClientTlsOptions tls;
  // How stubs are made (default: one channel per address with `tls`). Tests only.
  StubFactory stub_factory;
  // Seed of the backoff jitter; 0 picks a random one.
  uint64_t seed = 0;
};

enum class Source { kServer, kCache };

struct Resolution {
  // The answer, without the DCs pinning refused.
  Directory directory;
  // What to try, in order.
  AttemptPlan plan;
  Source source = Source::kServer;
  // The server that answered (kServer) or "" (kCache).
  std::string address;
  // When the answer was received (client clock); for kCache when it was first received.
  absl::Time fetched_at;
  // GetDirectory calls made (0 when the watcher produced it).
  int rpc_attempts = 0;
};

// Where Connect ended up.
struct Connection {
  DataCenter datacenter;
  // DCs tried, including the one connected to.
  int attempts = 0;
  // True when it is a secondary.
  bool fallback = false;
  // The server's answer to ReportFallback (cross_border), or why it could not be sent.
  absl::StatusOr<ReportFallbackResult> report;
};

class DirectoryClient {
 public:
  // INVALID_ARGUMENT when `options` are unusable (no addresses, non-positive deadlines, half a
  // TLS client certificate); NOT_FOUND when a TLS file cannot be read.
  static absl::StatusOr<std::unique_ptr<DirectoryClient>> Create(ClientOptions options);
  ~DirectoryClient();

  // Asks the directory servers (in turn, with jittered backoff, within options.deadline) and
  // returns the answer with its attempt plan. A server's own error (with a reason token, e.g.
  // INVALID_ARGUMENT INVALID_COUNTRY, UNAVAILABLE NO_HEALTHY_COMPLIANT_DATACENTER) is returned
  // as is: fail closed. Only when no server answered at all is the disk cache used, and only
  // within the answer's ttl + options.max_stale. FAILED_PRECONDITION PINNING_REFUSED_ALL when
  // pinning refuses every offered DC.
  absl::StatusOr<Resolution> Resolve(const DirectoryRequest& request);

  // Tries the plan in order with `try_connect`; on the first success reports it with
  // ReportFallback (one attempt per address) and returns it. UNAVAILABLE when every DC failed.
  // The duration of a successful `try_connect` (a monotonic clock) is recorded as that DC's
  // connect RTT: make try_connect do the connection handshake and nothing else, or record a
  // better measurement yourself with RecordRtt.
  absl::StatusOr<Connection> Connect(
      const DirectoryRequest& request, const Resolution& resolution,
      const std::function<absl::Status(const DataCenter&)>& try_connect);

  // Tells the directory which DC the client ended up on. INVALID_ARGUMENT when `dc_id` is not in
  // the resolution's plan (never report a refused DC as used).
  absl::StatusOr<ReportFallbackResult> ReportFallback(
      const DirectoryRequest& request, const Resolution& resolution,
      const std::string& dc_id, int attempts);

  // Remembers a round trip measured to a DC; Resolve sends it (with its age) until it is older
  // than options.rtt.max_age.
  void RecordRtt(const std::string& datacenter_id, absl::Duration rtt);
  // The RTTs Resolve would send now.
  std::vector<MeasuredRtt> ObservedRtts() const;

  // Starts a background WatchDirectory that keeps a plan current (see DirectoryWatcher).
  // `on_update` is called from the watcher's thread for every new answer or error.
  std::unique_ptr<DirectoryWatcher> Watch(
      DirectoryRequest request, std::function<void(const absl::StatusOr<Resolution>&)> on_update);

  const ClientOptions& options() const { return options_; }

 private:
  friend class DirectoryWatcher;
  explicit DirectoryClient(ClientOptions options);

  std::shared_ptr<DirectoryStub> StubFor(const std::string& address);
  // Applies pinning (logging and reporting refusals) and builds the resolution.
  absl::StatusOr<Resolution> MakeResolution(Directory directory, Source source,
                                            std::string address, absl::Time fetched_at,
                                            int rpc_attempts);
  absl::StatusOr<Resolution> FromCache(const DirectoryRequest& request,
                                       const absl::Status& last_error);
  absl::Duration NextBackoff(int retry);

  ClientOptions options_;
  std::unique_ptr<const DirectoryCache> cache_;  // null: no disk cache
  std::unique_ptr<RttStore> rtts_;
  std::mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<DirectoryStub>> stubs_ ABSL_GUARDED_BY(mu_);
  uint64_t rng_state_ ABSL_GUARDED_BY(mu_);
};

}  // namespace dcdir::client

#endif  // DCDIR_CLIENT_DIRECTORY_CLIENT_H_

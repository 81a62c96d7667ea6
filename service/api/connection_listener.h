#ifndef DCDIR_SERVICE_API_CONNECTION_LISTENER_H_
#define DCDIR_SERVICE_API_CONNECTION_LISTENER_H_

// The gRPC port's own accept loop. gRPC 1.51 (Debian bookworm) stops accepting for good after
// accept4() fails with EMFILE ("Failed accept4: Too many open files"): its listener is never
// re-armed, so one client opening connections faster than they close could take the port down
// until a restart. This listener owns the listening socket instead and hands every accepted
// connection to the gRPC server through its external-connection acceptor
// (ServerBuilder::experimental().AddExternalConnectionAcceptor), which runs the same TLS and
// HTTP/2 code as a port gRPC listens on itself.
//
// What it guarantees:
//   - it never stops accepting: EMFILE/ENFILE is answered with the reserved-descriptor trick
//     (close a spare descriptor, accept the pending connection, close it at once, take the spare
//     back: libev's and nginx's remedy), any other accept error with a short pause;
//   - a cap on concurrent connections (`max_connections`) and on connections from one peer
//     address (`max_connections_per_peer`); a connection over a cap is accepted and closed at
//     once (the client sees the connection close and retries with backoff);
//   - a heartbeat (the accept loop wakes at least every 250 ms) for the server's watchdog.
// Open connections are counted without owning them: each accepted descriptor is remembered
// with its socket's inode, and a sweep (every 250 ms, and at once when a cap is reached) drops
// the entries whose descriptor is closed or now names another file.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "grpcpp/server_builder.h"

namespace dcdir::api {

struct ListenerOptions {
  std::string host = "0.0.0.0";  // an IPv4 or IPv6 literal ("::" listens on both), or a name
  int port = 0;                  // 0: a free port (see port())
  size_t max_connections = 0;           // 0: no cap
  size_t max_connections_per_peer = 0;  // 0: no cap
  int backlog = 1024;
};

class ConnectionListener {
 public:
  // Counters since start (for metrics and tests).
  struct Stats {
    uint64_t accepted = 0;             // handed to gRPC
    uint64_t refused_limit = 0;        // over max_connections
    uint64_t refused_peer_limit = 0;   // over max_connections_per_peer
    uint64_t refused_descriptors = 0;  // the process was out of descriptors (EMFILE/ENFILE)
    size_t open = 0;                   // connections handed to gRPC and not closed yet
  };

  // Binds and listens. INVALID_ARGUMENT for a host that does not resolve, UNAVAILABLE when the
  // address cannot be bound (e.g. the port is in use).
  static absl::StatusOr<std::unique_ptr<ConnectionListener>> Bind(ListenerOptions options);
  ~ConnectionListener();  // Stop()
  ConnectionListener(const ConnectionListener&) = delete;
  ConnectionListener& operator=(const ConnectionListener&) = delete;

  int port() const { return port_; }

  // Starts the accept thread; connections go to `acceptor`, which must outlive Stop().
  void Start(grpc::experimental::ExternalConnectionAcceptor* acceptor);
  // Stops accepting and closes the listening socket; connections already handed over are the
  // gRPC server's. Idempotent.
  void Stop();

  Stats stats() const;
  // Steady-clock nanoseconds of the accept loop's last wake-up (0 before Start).
  int64_t heartbeat_nanos() const { return heartbeat_.load(std::memory_order_acquire); }

 private:
  struct Connection {
    int fd;
    uint64_t dev;
    uint64_t ino;
    std::string peer;
  };

  ConnectionListener(ListenerOptions options, int fd, int port);
  void Run();
  void HandleAccepted(int fd);
  void RefuseOnDescriptorShortage();
  void SweepLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const ListenerOptions options_;
  const int listen_fd_;
  const int port_;
  int stop_pipe_[2] = {-1, -1};
  int reserve_fd_ = -1;  // a spare descriptor for the EMFILE remedy
  grpc::experimental::ExternalConnectionAcceptor* acceptor_ = nullptr;
  std::thread thread_;
  std::atomic<bool> stopped_{false};
  std::atomic<int64_t> heartbeat_{0};

  mutable std::mutex mu_;
  std::vector<Connection> open_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, size_t> per_peer_ ABSL_GUARDED_BY(mu_);
  Stats stats_ ABSL_GUARDED_BY(mu_);
  int64_t last_sweep_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t last_shortage_log_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace dcdir::api

#endif  // DCDIR_SERVICE_API_CONNECTION_LISTENER_H_

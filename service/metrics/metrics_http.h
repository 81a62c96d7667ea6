#ifndef DCDIR_SERVICE_METRICS_METRICS_HTTP_H_
#define DCDIR_SERVICE_METRICS_METRICS_HTTP_H_

// The /metrics endpoint: GNU libmicrohttpd with one internal epoll thread, so idle or slow
// connections cost a connection slot and nothing else (prometheus-cpp's civetweb exposer gives
// each connection a worker thread: two idle connections blinded it for 30 s). Serves exactly
// `GET /metrics` (and HEAD) in the Prometheus text format 0.0.4; any other path is 404, any
// other method 405.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "prometheus/collectable.h"

struct MHD_Daemon;

namespace dcdir::metrics {

struct MetricsHttpOptions {
  std::string host = "0.0.0.0";
  int port = 9464;  // 0: a free port (see port())
  // A connection idle (or trickling) for this long is closed.
  absl::Duration connection_timeout = absl::Seconds(30);
  unsigned connection_limit = 1024;        // concurrent connections, all clients
  unsigned per_client_connection_limit = 32;  // concurrent connections from one address
};

class MetricsHttpServer {
 public:
  // Binds and starts serving the collectables (weak: a registry that is gone is skipped).
  // UNAVAILABLE when the address cannot be bound, with the reason.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      const MetricsHttpOptions& options,
      std::vector<std::weak_ptr<prometheus::Collectable>> collectables);
  ~MetricsHttpServer();  // stops the daemon and closes the socket
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  int port() const { return port_; }
  // The body GET /metrics answers.
  std::string Render() const;

 private:
  MetricsHttpServer() = default;
  std::vector<std::weak_ptr<prometheus::Collectable>> collectables_;
  MHD_Daemon* daemon_ = nullptr;
  int listen_fd_ = -1;
  int port_ = 0;
};

}  // namespace dcdir::metrics

#endif  // DCDIR_SERVICE_METRICS_METRICS_HTTP_H_

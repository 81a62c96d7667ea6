#include "service/metrics/metrics_http.h"

#include <microhttpd.h>
#include <unistd.h>

#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "prometheus/text_serializer.h"
#include "service/util/listen_socket.h"

namespace dcdir::metrics {
namespace {

constexpr char kContentType[] = "text/plain; version=0.0.4; charset=utf-8";

MHD_Result Reply(MHD_Connection* connection, unsigned status, const std::string& body,
                 const char* content_type) {
  MHD_Response* response = MHD_create_response_from_buffer(
      body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_MUST_COPY);
  if (response == nullptr) return MHD_NO;
  MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
  const MHD_Result result = MHD_queue_response(connection, status, response);
  MHD_destroy_response(response);
  return result;
}

MHD_Result Handle(void* cls, MHD_Connection* connection, const char* url, const char* method,
                  const char* /*version*/, const char* /*upload_data*/,
                  size_t* upload_data_size, void** state) {
  // The first call for a request carries only its headers: answer on it, ignore any body.
  if (*state == nullptr) {
    static int marker;
    *state = &marker;
  }
  *upload_data_size = 0;
  const auto* server = static_cast<const MetricsHttpServer*>(cls);
  const bool get = std::strcmp(method, MHD_HTTP_METHOD_GET) == 0;
  const bool head = std::strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
  if (std::strcmp(url, "/metrics") != 0) {
    return Reply(connection, MHD_HTTP_NOT_FOUND, "only /metrics is served\n",
                 "text/plain; charset=utf-8");
  }
  if (!get && !head) {
    return Reply(connection, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET\n", "text/plain; charset=utf-8");
  }
  return Reply(connection, MHD_HTTP_OK, server->Render(), kContentType);
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    const MetricsHttpOptions& options,
    std::vector<std::weak_ptr<prometheus::Collectable>> collectables) {
  absl::StatusOr<util::ListenSocket> socket =
      util::OpenListenSocket(options.host, options.port, /*backlog=*/256);
  if (!socket.ok()) return socket.status();
  std::unique_ptr<MetricsHttpServer> s(new MetricsHttpServer());
  s->collectables_ = std::move(collectables);
  s->listen_fd_ = socket->fd;
  s->port_ = socket->port;
  const unsigned timeout_seconds =
      static_cast<unsigned>(std::max<int64_t>(1, absl::ToInt64Seconds(options.connection_timeout)));
  // MHD_USE_ITC: MHD_quiesce_daemon (in the destructor) needs the inter-thread channel to wake
  // the internal thread; without it MHD refuses to quiesce, logs so, and then closes our
  // listening socket itself (which the destructor closed a second time).
  s->daemon_ = MHD_start_daemon(
      MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG, 0, nullptr, nullptr, &Handle, s.get(),
      MHD_OPTION_LISTEN_SOCKET, static_cast<MHD_socket>(s->listen_fd_),
      MHD_OPTION_CONNECTION_TIMEOUT, timeout_seconds,
      MHD_OPTION_CONNECTION_LIMIT, options.connection_limit,
      MHD_OPTION_PER_IP_CONNECTION_LIMIT, options.per_client_connection_limit,
      MHD_OPTION_END);
  if (s->daemon_ == nullptr) {
    ::close(s->listen_fd_);
    s->listen_fd_ = -1;
    return absl::UnavailableError(absl::StrCat("cannot start the metrics server on ",
                                               options.host, ":", s->port_));
  }
  return s;
}

MetricsHttpServer::~MetricsHttpServer() {
  if (daemon_ != nullptr) {
    // Quiesce first: MHD then leaves the listening socket to us to close (no double close).
    // Should it refuse (MHD_INVALID_SOCKET), MHD_stop_daemon closes the socket itself.
    const bool quiesced = MHD_quiesce_daemon(daemon_) != MHD_INVALID_SOCKET;
    MHD_stop_daemon(daemon_);
    if (!quiesced) listen_fd_ = -1;
  }
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

std::string MetricsHttpServer::Render() const {
  std::vector<prometheus::MetricFamily> families;
  for (const auto& weak : collectables_) {
    if (auto collectable = weak.lock()) {
      auto more = collectable->Collect();
      families.insert(families.end(), std::make_move_iterator(more.begin()),
                      std::make_move_iterator(more.end()));
    }
  }
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace dcdir::metrics

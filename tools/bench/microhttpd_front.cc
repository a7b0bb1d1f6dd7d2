// Copyright 2026 The Trainyard Authors.

#include "tools/bench/microhttpd_front.h"

#include <microhttpd.h>
#include <netinet/in.h>

#include <cstring>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace trainyard::bench {
namespace {

constexpr std::string_view kWebhookPrefix = "/v1/webhooks/runpod/";
constexpr unsigned kInactivitySeconds = 10;  // HttpServer's header_timeout
constexpr size_t kMaxBodyBytes = 1 << 20;    // HttpServer's max_body_bytes

MHD_Result Answer(MHD_Connection* connection, unsigned status) {
  MHD_Response* response =
      MHD_create_response_from_buffer(0, nullptr, MHD_RESPMEM_PERSISTENT);
  const MHD_Result queued = MHD_queue_response(connection, status, response);
  MHD_destroy_response(response);
  return queued;
}

// libmicrohttpd calls this once when the header is complete (*state null),
// then once per piece of body (*upload_data_size > 0), then once more to
// answer. The body is collected as HttpServer collects it for its handlers.
MHD_Result OnRequest(void*, MHD_Connection* connection, const char* url,
                     const char* method, const char*, const char* upload_data,
                     size_t* upload_data_size, void** state) {
  if (std::strcmp(method, MHD_HTTP_METHOD_POST) != 0 ||
      !std::string_view(url).starts_with(kWebhookPrefix)) {
    return Answer(connection, MHD_HTTP_NOT_FOUND);
  }
  auto* body = static_cast<std::string*>(*state);
  if (body == nullptr) {
    *state = new std::string();
    return MHD_YES;
  }
  if (*upload_data_size > 0) {
    if (body->size() + *upload_data_size > kMaxBodyBytes) {
      return Answer(connection, MHD_HTTP_CONTENT_TOO_LARGE);
    }
    body->append(upload_data, *upload_data_size);
    *upload_data_size = 0;
    return MHD_YES;
  }
  return Answer(connection, MHD_HTTP_NO_CONTENT);
}

void OnCompleted(void*, MHD_Connection*, void** state,
                 MHD_RequestTerminationCode) {
  delete static_cast<std::string*>(*state);
  *state = nullptr;
}

}  // namespace

absl::StatusOr<std::unique_ptr<MicrohttpdFront>> MicrohttpdFront::Start(
    int threads, int max_connections) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  MHD_Daemon* daemon = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, nullptr, nullptr,
      &OnRequest, nullptr, MHD_OPTION_SOCK_ADDR, &address,
      MHD_OPTION_THREAD_POOL_SIZE, static_cast<unsigned>(threads),
      MHD_OPTION_CONNECTION_TIMEOUT, kInactivitySeconds,
      MHD_OPTION_CONNECTION_LIMIT, static_cast<unsigned>(max_connections),
      MHD_OPTION_PER_IP_CONNECTION_LIMIT,
      static_cast<unsigned>(max_connections), MHD_OPTION_NOTIFY_COMPLETED,
      &OnCompleted, nullptr, MHD_OPTION_END);
  if (daemon == nullptr) {
    return absl::InternalError("MHD_start_daemon failed");
  }
  const MHD_DaemonInfo* info =
      MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
  return std::unique_ptr<MicrohttpdFront>(
      new MicrohttpdFront(daemon, info->port));
}

MicrohttpdFront::~MicrohttpdFront() { MHD_stop_daemon(daemon_); }

int64_t MicrohttpdFront::open_connections() const {
  const MHD_DaemonInfo* info =
      MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
  return info->num_connections;
}

}  // namespace trainyard::bench

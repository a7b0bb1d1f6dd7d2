// Copyright 2026 Trainyard authors.
//
// A lean HTTP/1.1 keep-alive client for load generation: one connection, one
// send() per request and reads into one buffer, no poll, no header map. It
// exists so that the generator spends its two cores' share on requests rather
// than on the client (common/http's cpp-httplib client costs ~65 us of CPU
// per request on this VM, which is what a 20K req/s goal cannot afford on
// the machine it measures). Knows just what the benchmarks send: a request
// with a body and a response with Content-Length.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace trainyard::bench {

class RawHttpConnection {
 public:
  // Connects to 127.0.0.1:`port` (TCP_NODELAY).
  static absl::StatusOr<RawHttpConnection> Connect(int port);
  RawHttpConnection(RawHttpConnection&& other) noexcept;
  RawHttpConnection& operator=(RawHttpConnection&&) = delete;
  ~RawHttpConnection();

  struct Response {
    int status = 0;
    std::string body;
  };
  // POST `path` with `headers` (name, value) and a JSON `body`. When the
  // server closed the kept-alive connection before answering (it may, to
  // give its thread to a waiting connection), reconnects and sends again
  // once, as an HTTP client library would.
  absl::StatusOr<Response> Post(
      std::string_view path,
      const std::vector<std::pair<std::string, std::string>>& headers,
      std::string_view body);

 private:
  RawHttpConnection(int fd, int port) : fd_(fd), port_(port) {}
  static absl::StatusOr<int> Open(int port);
  // One attempt; kUnavailable when the connection was found closed.
  absl::StatusOr<Response> Exchange();
  int fd_ = -1;
  int port_ = 0;
  std::string request_;
  std::string buffer_;  // received bytes not yet consumed
};

}  // namespace trainyard::bench

// Copyright 2026 The Trainyard Authors.
//
// File: common/http/server.h
// -----------------------------------------------------------------------------
// HttpServer: a small HTTP/1.1 server for admin endpoints (/metrics, /healthz)
// and webhook ingestion, with keep-alive, a request body limit and path
// routing with parameters.
//
//   HttpServer server(HttpServerOptions{.port = 7113});
//   server.Handle(Method::kPost, "/v1/webhooks/runpod/{job_id}",
//                 [&](const HttpRequest& request) {
//                   return webhooks.Handle(request);  // reads
//                 });                                 // PathParam("job_id")
//   absl::StatusOr<int> port = server.Start();
//   ...
//   server.Stop();
//
// Answers the server writes by itself, all with a JSON body
// {"error":"..."}:
//   404  no route matches the path
//   405  a route matches the path but not the method; with an Allow header
//   400  the request is malformed (RFC 9112 framing: e.g. two different
//        Content-Length values, a bad chunk size); the connection closes
//   408  the header did not arrive within header_timeout, or the body came
//        slower than min_body_bytes_per_second; the connection closes
//   413  the body is larger than max_body_bytes (a Content-Length at once, a
//        chunked body as soon as it passes the limit); the handler is not
//        called and the connection closes without reading the rest
//   431  the header block is larger than max_header_bytes
//   501  a Transfer-Encoding other than chunked
//   503  (with Retry-After) Stop() began while the request was arriving, or
//        the connection caps are reached
//   500  a handler threw (handlers must not throw)
// A request cut off by shutdown or a timeout is never answered 400, so a
// sender can retry it.
//
// Connection model: one epoll I/O thread owns every socket; a connection
// costs its buffers (at most max_header_bytes + max_body_bytes), never a
// thread, so slow and idle clients cannot starve others. Handlers run on
// worker_threads threads and may block.

#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/http/message.h"
#include "common/http/method.h"
#include "common/http/router.h"

namespace trainyard::http {

struct HttpServerOptions {
  // Address to listen on: "127.0.0.1", "::1", or "0.0.0.0" / "::" for every
  // interface. Host names are resolved once by Start().
  std::string host = "127.0.0.1";
  // TCP port; 0 lets the kernel pick a free one (Start() returns it).
  int port = 0;
  // Threads that run handlers (they may block, e.g. on storage).
  int worker_threads = 16;
  // Largest accepted request body; a larger one is answered 413.
  size_t max_body_bytes = 1 << 20;
  // Requests served on one connection before the server closes it.
  int keep_alive_max_requests = 100000;
  // How long an idle keep-alive connection is kept open.
  absl::Duration keep_alive_timeout = absl::Seconds(5);
  // Grace before the body rate is enforced (see min_body_bytes_per_second).
  absl::Duration read_timeout = absl::Seconds(5);
  // Longest wait for the peer to accept more of a response.
  absl::Duration write_timeout = absl::Seconds(5);
  // The whole request header must arrive within this time of its first byte.
  absl::Duration header_timeout = absl::Seconds(10);
  // A body must arrive at this average rate once read_timeout has passed.
  size_t min_body_bytes_per_second = 1024;
  // Largest request line plus header fields (and chunked trailers): 431.
  size_t max_header_bytes = 64 << 10;
  // Connections open at once, in total and from one client address; past
  // them a new connection gets 503 and is closed.
  int max_connections = 10000;
  int max_connections_per_address = 1000;
  // After an answer that closes the connection, bytes still arriving are
  // read and dropped for at most this long, so the client sees the answer
  // rather than a reset.
  absl::Duration linger_timeout = absl::Seconds(1);
};

// Thread-safety: Handle() must be called before Start() by one thread. Start()
// and Stop() may be called from any thread, but not from inside a handler.
// Handlers run concurrently on the worker threads.
class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options);
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  // Stops the server (see Stop()).
  ~HttpServer();

  // Routes requests for `method` on paths matching `pattern` (see router.h
  // for the pattern syntax and matching rules) to `handler`, which may be
  // called concurrently from several worker threads until Stop() returns.
  // A malformed or duplicate route makes Start() fail with the reason.
  // REQUIRES: Start() has not been called.
  void Handle(Method method, std::string pattern, Handler handler);

  // Binds the listening socket and serves on background threads. Returns the
  // bound port. Errors: kInvalidArgument for bad options or a malformed
  // route, kAlreadyExists for a duplicate route, kUnavailable naming
  // host:port if the address cannot be bound (in use, not local),
  // kFailedPrecondition if Start() or Stop() was called before (a server
  // starts at most once, even if its first Start() failed). The port is bound
  // exclusively: unlike cpp-httplib's default, no SO_REUSEPORT, so a second
  // server on a busy port fails instead of silently sharing it.
  absl::StatusOr<int> Start();

  // Stops accepting connections, closes idle and half-received ones at once,
  // lets handlers that are running finish and their responses be written,
  // and joins every thread; no handler runs after it returns. Idempotent.
  // REQUIRES: not called from a handler (it would wait for itself).
  void Stop();

  // The bound port after a successful Start(), else 0.
  int port() const;

  // Number of TCP connections accepted since Start() (including refused
  // ones), of those refused by the connection caps, and of those open now;
  // for tests and metrics.
  int64_t connections_accepted() const;
  int64_t connections_refused() const;
  int64_t open_connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace trainyard::http

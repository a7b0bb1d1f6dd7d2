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
//                   return ingest.Accept(request.PathParam("job_id"),
//                                        request);
//                 });
//   absl::StatusOr<int> port = server.Start();
//   ...
//   server.Stop();
//
// Answers the server writes by itself, all with a JSON body
// {"error":"..."}:
//   404  no route matches the path
//   405  a route matches the path but not the method; with an Allow header
//   413  the body is larger than max_body_bytes; the handler is not called
//   400  the request could not be parsed
//   500  a handler threw (handlers must not throw)
//
// Connection model (from cpp-httplib, which this wraps): each open connection
// is served by one worker thread for as long as it stays open. When every
// worker is busy and another connection is waiting, connections give way: a
// connection idle for ~100 ms is closed, and a busy one that has served 100
// requests gets "Connection: close" on its next response, so a waiting
// connection is not starved. Size worker_threads to the number of clients
// that keep connections open at once (Prometheus, yardctl, one per training
// pod) to avoid that churn.

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
  // Threads that serve connections; also the number of connections served at
  // the same time (see the connection model above).
  int worker_threads = 16;
  // Largest accepted request body; a larger one is answered 413.
  size_t max_body_bytes = 1 << 20;
  // Requests served on one connection before the server closes it. cpp-httplib
  // defaults to 5, which forces clients to reconnect constantly.
  int keep_alive_max_requests = 100000;
  // How long an idle keep-alive connection is kept open.
  absl::Duration keep_alive_timeout = absl::Seconds(5);
  // Longest wait for the next bytes of a request that has started, and for
  // the peer to accept more of a response.
  absl::Duration read_timeout = absl::Seconds(5);
  absl::Duration write_timeout = absl::Seconds(5);
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

  // Number of TCP connections accepted since Start(), for tests and metrics.
  int64_t connections_accepted() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace trainyard::http

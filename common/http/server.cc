// Copyright 2026 The Trainyard Authors.
//
// How this uses cpp-httplib 0.11.4 (Debian's split build: httplib.h holds
// declarations, libcpp-httplib.so the code):
//
//  * Connections. httplib's own per-connection loop waits for the next
//    keep-alive request in a poll that does not notice Server::stop(), so
//    stopping with an idle client connected took the whole keep-alive timeout
//    (measured: 5 s). NativeServer overrides the virtual
//    process_and_close_socket() with our loop over ConnectionStream, which
//    also polls an eventfd that Stop() makes readable, buffers reads (httplib
//    reads request lines one byte at a time) and sends each response in one
//    write. It still calls httplib's process_request() for the HTTP parsing.
//  * Routing. httplib routes by std::regex (about 0.8 us for even ".*" here),
//    and its pre-routing hook runs before the body is read. So we register no
//    httplib route at all: every well-formed request then ends in httplib's
//    "no route" path with status 404, after its body has been read (and 413
//    checked), and the error handler, which httplib calls for every status
//    >= 400, dispatches through our Router. Other statuses reaching the error
//    handler (400, 413, 414, 500) come from httplib itself and only get a JSON
//    body.
//  * Binding. httplib's default socket options set SO_REUSEPORT, with which a
//    second server binds a busy port and silently shares it. We set
//    SO_REUSEADDR only.
//  * Exceptions. httplib catches exceptions thrown while routing; our dispatch
//    catches everything itself (it runs where httplib does not), and the
//    connection loop catches the rest, so none escapes a worker thread.
//  * Listen backlog. httplib listens with a backlog of 5; bursts of connects
//    then wait for SYN retransmits (1 s). We listen() again with SOMAXCONN.
//
// Measured (2-core dev machine, shared with other builds; wrk -t1 on the same
// machine, keep-alive, POST of a 230-byte body with Standard Webhooks headers,
// handler deriving the job secret and verifying the signature, answer 204):
// 16 workers, 16 connections: 21-24K req/s, mean latency ~0.45 ms;
// 16 workers, 64 connections: ~24K req/s (connections take turns, see
// kRequestsBeforeGivingWay); 64 workers, 64 connections: ~24K req/s;
// 8 connections: ~26K req/s.

#include "common/http/server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace trainyard::http {
namespace {

// How often an idle keep-alive connection checks whether another connection
// waits for a worker thread.
constexpr int kIdleSliceMillis = 100;

// A busy connection gives way only after serving this many requests, so that
// under overload the reconnects cost ~1% instead of one per request
// (measured with 64 connections on 16 workers: 7.7K req/s when giving way
// after every request).
constexpr int kRequestsBeforeGivingWay = 100;

int ToMillis(absl::Duration duration) {
  const int64_t millis = absl::ToInt64Milliseconds(duration);
  return static_cast<int>(
      std::clamp<int64_t>(millis, 1, std::numeric_limits<int>::max()));
}

std::string HostPort(const std::string& host, int port) {
  if (host.find(':') != std::string::npos) {
    return absl::StrCat("[", host, "]:", port);
  }
  return absl::StrCat(host, ":", port);
}

// Counts worker threads against connections, to tell when an accepted
// connection waits because every worker is taken ("starved"); connections
// then give way (see server.h). A worker counts as taken from the moment it
// takes a connection until that connection is about to close: it is released
// before the last response is sent, so a client that reconnects at once
// never finds the budget spent by the very connection it just left.
class WorkerBudget {
 public:
  explicit WorkerBudget(int workers) : workers_(workers) {}

  // A connection was accepted and waits for a worker.
  void Queued() { Change(+1, 0); }
  // A worker took a waiting connection.
  void Started() { Change(-1, +1); }
  // The worker of a connection is about to be free: once per Started().
  void Finishing() { Change(0, -1); }

  bool Starved() const { return starved_.load(std::memory_order_relaxed); }

 private:
  void Change(int waiting, int busy) {
    std::lock_guard<std::mutex> lock(mu_);
    waiting_ += waiting;
    busy_ += busy;
    starved_.store(waiting_ > workers_ - busy_, std::memory_order_relaxed);
  }

  const int workers_;
  std::mutex mu_;
  int waiting_ = 0;  // Guarded by mu_.
  int busy_ = 0;     // Guarded by mu_.
  std::atomic<bool> starved_{false};
};

// What the connection threads share with HttpServer. Owned by
// HttpServer::Impl; outlives every connection thread.
struct ConnectionContext {
  explicit ConnectionContext(int worker_threads) : budget(worker_threads) {}

  int read_timeout_ms = 0;
  int write_timeout_ms = 0;
  int keep_alive_timeout_ms = 0;
  int keep_alive_max_requests = 0;
  // Readable once Stop() has begun; never drained.
  int wake_fd = -1;
  std::atomic<bool> stopping{false};
  WorkerBudget budget;
  std::atomic<int64_t> connections_accepted{0};
};

// True while some accepted connection waits with no worker thread free.
bool ShouldGiveWay(const ConnectionContext& context) {
  return context.budget.Starved();
}

// True if httplib will not read the request's body (it reads one only for
// POST, PUT, PATCH and DELETE), so the bytes left on the connection would be
// taken for the next request.
bool HasUnreadBody(const httplib::Request& request) {
  const std::string& method = request.method;
  if (method == "POST" || method == "PUT" || method == "PATCH" ||
      method == "DELETE") {
    return false;
  }
  return request.has_header("Transfer-Encoding") ||
         (request.has_header("Content-Length") &&
          request.get_header_value("Content-Length") != "0");
}

// Worker threads for accepted connections (httplib's TaskQueue interface:
// one task per connection), keeping ConnectionContext::budget informed.
class ConnectionPool final : public httplib::TaskQueue {
 public:
  explicit ConnectionPool(int threads, ConnectionContext* context)
      : context_(*context) {
    threads_.reserve(threads);
    try {
      for (int i = 0; i < threads; ++i) {
        threads_.emplace_back([this] { Work(); });
        pthread_setname_np(threads_.back().native_handle(), "http-worker");
      }
    } catch (...) {  // Out of threads; the listener thread catches it.
      shutdown();
      throw;
    }
  }
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;
  ~ConnectionPool() override { shutdown(); }

  void enqueue(std::function<void()> fn) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      jobs_.push_back(std::move(fn));
      context_.budget.Queued();
    }
    cv_.notify_one();
  }

  // Runs the jobs still queued, then joins the threads.
  void shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (shut_down_) return;
      shut_down_ = true;
    }
    cv_.notify_all();
    for (std::thread& thread : threads_) thread.join();
  }

 private:
  void Work() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return !jobs_.empty() || shut_down_; });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
        context_.budget.Started();
      }
      job();
    }
  }

  ConnectionContext& context_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;  // Guarded by mu_.
  bool shut_down_ = false;                  // Guarded by mu_.
  std::vector<std::thread> threads_;
};

// One accepted connection as an httplib::Stream: reads are buffered, writes
// are collected and sent when a read would block or the response is done
// (Flush()), waits are bounded by the timeouts and cut short by the wake fd.
class ConnectionStream final : public httplib::Stream {
 public:
  ConnectionStream(int fd, const ConnectionContext& context)
      : fd_(fd), context_(context), read_buffer_(kReadBufferSize) {
    ReadAddress(/*peer=*/true, &remote_ip_, &remote_port_);
    ReadAddress(/*peer=*/false, &local_ip_, &local_port_);
  }

  // Waits until the next request may start: true if bytes are buffered or
  // the socket is readable (or closed, which process_request then sees).
  // False on keep-alive timeout, on Stop(), or when an idle connection should
  // give its thread to a waiting one.
  bool WaitForRequest() {
    if (read_begin_ < read_end_) return true;
    int remaining_ms = context_.keep_alive_timeout_ms;
    while (remaining_ms > 0) {
      const int slice_ms = std::min(remaining_ms, kIdleSliceMillis);
      switch (Wait(POLLIN, slice_ms, /*wakeable=*/true)) {
        case WaitResult::kReady:
          return true;
        case WaitResult::kWoken:
        case WaitResult::kError:
          return false;
        case WaitResult::kTimeout:
          break;
      }
      remaining_ms -= slice_ms;
      if (ShouldGiveWay(context_)) return false;
    }
    return false;
  }

  // Sends everything written so far. False if the peer is gone or too slow.
  bool Flush() const {
    if (write_buffer_.empty()) return true;
    const bool ok = SendAll(write_buffer_.data(), write_buffer_.size());
    write_buffer_.clear();
    return ok;
  }

  // httplib::Stream. is_readable() flushes because a peer may wait for our
  // output (e.g. "100 Continue") before it sends more; that makes the write
  // buffer mutable.
  bool is_readable() const override {
    if (read_begin_ < read_end_) return true;
    return Flush() && Wait(POLLIN, context_.read_timeout_ms,
                           /*wakeable=*/true) == WaitResult::kReady;
  }

  bool is_writable() const override {
    return Wait(POLLOUT, context_.write_timeout_ms, /*wakeable=*/false) ==
           WaitResult::kReady;
  }

  ssize_t read(char* ptr, size_t size) override {
    if (read_begin_ == read_end_) {
      if (!Flush()) return -1;
      // Large reads (bodies) go straight to the caller's buffer.
      if (size >= read_buffer_.size()) return Receive(ptr, size);
      const ssize_t n = Receive(read_buffer_.data(), read_buffer_.size());
      if (n <= 0) return n;
      read_begin_ = 0;
      read_end_ = static_cast<size_t>(n);
    }
    const size_t n = std::min(size, read_end_ - read_begin_);
    std::memcpy(ptr, read_buffer_.data() + read_begin_, n);
    read_begin_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (write_buffer_.size() + size > kWriteBufferLimit) {
      if (!Flush()) return -1;
      if (size > kWriteBufferLimit) {
        return SendAll(ptr, size) ? static_cast<ssize_t>(size) : -1;
      }
    }
    write_buffer_.append(ptr, size);
    return static_cast<ssize_t>(size);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = remote_ip_;
    port = remote_port_;
  }

  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = local_ip_;
    port = local_port_;
  }

  socket_t socket() const override { return fd_; }

 private:
  static constexpr size_t kReadBufferSize = 16 * 1024;
  static constexpr size_t kWriteBufferLimit = 64 * 1024;

  enum class WaitResult { kReady, kTimeout, kWoken, kError };

  // Waits for `events` on the socket, and if `wakeable` for Stop().
  WaitResult Wait(short events, int timeout_ms, bool wakeable) const {
    pollfd fds[2] = {{fd_, events, 0}, {context_.wake_fd, POLLIN, 0}};
    for (;;) {
      const int n = ::poll(fds, wakeable ? 2 : 1, timeout_ms);
      if (n < 0) {
        if (errno == EINTR) continue;
        return WaitResult::kError;
      }
      if (n == 0) return WaitResult::kTimeout;
      if (wakeable && fds[1].revents != 0) return WaitResult::kWoken;
      return WaitResult::kReady;  // Includes POLLHUP/POLLERR: recv tells.
    }
  }

  ssize_t Receive(char* ptr, size_t size) const {
    for (;;) {
      const ssize_t n = ::recv(fd_, ptr, size, MSG_DONTWAIT);
      if (n >= 0) return n;
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
      if (Wait(POLLIN, context_.read_timeout_ms, /*wakeable=*/true) !=
          WaitResult::kReady) {
        return -1;
      }
    }
  }

  bool SendAll(const char* ptr, size_t size) const {
    while (size > 0) {
      const ssize_t n = ::send(fd_, ptr, size, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        ptr += n;
        size -= static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return false;
      // A response already computed is not cut short by Stop(): only the
      // write timeout bounds it.
      if (Wait(POLLOUT, context_.write_timeout_ms, /*wakeable=*/false) !=
          WaitResult::kReady) {
        return false;
      }
    }
    return true;
  }

  void ReadAddress(bool peer, std::string* ip, int* port) const {
    sockaddr_storage address{};
    socklen_t length = sizeof(address);
    auto* raw = reinterpret_cast<sockaddr*>(&address);
    const int rc = peer ? ::getpeername(fd_, raw, &length)
                        : ::getsockname(fd_, raw, &length);
    if (rc != 0) return;
    char text[INET6_ADDRSTRLEN] = {};
    if (address.ss_family == AF_INET) {
      const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
      ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof(text));
      *port = ntohs(v4->sin_port);
    } else if (address.ss_family == AF_INET6) {
      const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
      ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof(text));
      *port = ntohs(v6->sin6_port);
    }
    *ip = text;
  }

  const int fd_;
  const ConnectionContext& context_;
  std::vector<char> read_buffer_;
  size_t read_begin_ = 0;
  size_t read_end_ = 0;
  mutable std::string write_buffer_;
  std::string remote_ip_;
  int remote_port_ = 0;
  std::string local_ip_;
  int local_port_ = 0;
};

// httplib::Server with our connection loop (see the top of this file).
class NativeServer final : public httplib::Server {
 public:
  explicit NativeServer(ConnectionContext* context) : context_(*context) {}

  // httplib listens with a backlog of 5 (CPPHTTPLIB_LISTEN_BACKLOG, compiled
  // into the shared library): a burst of new connections then loses SYNs and
  // waits a 1 s retransmit. On Linux, listen() again on the bound socket sets
  // a new backlog. REQUIRES: bound.
  bool RaiseListenBacklog() { return ::listen(svr_sock_, SOMAXCONN) == 0; }

  // Closes the listening socket of a server that will not be started
  // (httplib's stop() does nothing before listen_after_bind()).
  void CloseUnstartedListener() {
    const socket_t sock = svr_sock_.exchange(INVALID_SOCKET);
    if (sock != INVALID_SOCKET) ::close(sock);
  }

 private:
  // Called by httplib on a pool thread for each accepted connection; owns
  // and closes `sock`. Overrides a private virtual of httplib::Server.
  bool process_and_close_socket(socket_t sock) override {
    context_.connections_accepted.fetch_add(1, std::memory_order_relaxed);
    const int one = 1;
    ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    bool finishing = false;
    try {
      ServeConnection(sock, &finishing);
    } catch (...) {
      // Only bad_alloc and the like can get here; drop the connection.
    }
    if (!finishing) context_.budget.Finishing();
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return true;
  }

  // Sets *finishing once it has called budget.Finishing().
  void ServeConnection(int sock, bool* finishing) {
    ConnectionStream stream(sock, context_);
    // httplib calls this once it has parsed the request line and headers.
    bool parsed = false;
    bool unread_body = false;
    const std::function<void(httplib::Request&)> setup =
        [&parsed, &unread_body](httplib::Request& request) {
          parsed = true;
          // We do not serve byte ranges; httplib would slice bodies by them.
          request.ranges.clear();
          if (HasUnreadBody(request)) {
            unread_body = true;
            // Makes httplib announce the close in the response.
            request.headers.erase("Connection");
            request.headers.emplace("Connection", "close");
          }
        };
    for (int served = 0; served < context_.keep_alive_max_requests; ++served) {
      if (context_.stopping.load(std::memory_order_relaxed) ||
          !stream.WaitForRequest()) {
        return;
      }
      // Give way if another connection waits for a thread (see server.h).
      const bool close_connection =
          served + 1 == context_.keep_alive_max_requests ||
          context_.stopping.load(std::memory_order_relaxed) ||
          (served + 1 >= kRequestsBeforeGivingWay && ShouldGiveWay(context_));
      bool closed_by_client = false;
      parsed = false;
      unread_body = false;
      const bool ok =
          process_request(stream, close_connection, closed_by_client, setup);
      // After a request httplib could not parse, or one whose body it left
      // unread, we no longer know where the next request starts.
      if (!ok || !parsed || unread_body || closed_by_client ||
          close_connection) {
        context_.budget.Finishing();  // Before the client sees the end.
        *finishing = true;
        stream.Flush();
        return;
      }
      if (!stream.Flush()) return;
    }
  }

  ConnectionContext& context_;
};

// Fields httplib adds to Request::headers that the client did not send.
bool IsHttplibPseudoHeader(const std::string& name) {
  return absl::EqualsIgnoreCase(name, "REMOTE_ADDR") ||
         absl::EqualsIgnoreCase(name, "REMOTE_PORT") ||
         absl::EqualsIgnoreCase(name, "LOCAL_ADDR") ||
         absl::EqualsIgnoreCase(name, "LOCAL_PORT");
}

void CopyResponse(HttpResponse response, httplib::Response& out) {
  out.status = response.status;
  out.body = std::move(response.body);
  if (!response.content_type.empty()) {
    out.set_header("Content-Type", response.content_type);
  }
  for (const auto& [name, value] : response.headers) {
    out.set_header(name, value);  // httplib drops fields containing CR/LF.
  }
}

std::string_view DefaultErrorMessage(int status) {
  switch (status) {
    case 400:
      return "bad request";
    case 413:
      return "request body too large";
    case 414:
      return "request URI too long";
    case 415:
      return "unsupported content encoding";
    case 500:
      return "internal error";
    default:
      return "error";
  }
}

}  // namespace

struct HttpServer::Impl {
  explicit Impl(HttpServerOptions server_options)
      : options(std::move(server_options)),
        context(std::max(options.worker_threads, 1)) {}

  ~Impl() {
    if (context.wake_fd >= 0) ::close(context.wake_fd);
  }

  absl::Status ValidateOptions() const {
    if (options.port < 0 || options.port > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat("port out of range: ", options.port));
    }
    if (options.worker_threads < 1) {
      return absl::InvalidArgumentError("worker_threads must be at least 1");
    }
    if (options.keep_alive_max_requests < 1) {
      return absl::InvalidArgumentError(
          "keep_alive_max_requests must be at least 1");
    }
    if (options.keep_alive_timeout <= absl::ZeroDuration() ||
        options.read_timeout <= absl::ZeroDuration() ||
        options.write_timeout <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError("timeouts must be positive");
    }
    return absl::OkStatus();
  }

  void Configure() {
    context.read_timeout_ms = ToMillis(options.read_timeout);
    context.write_timeout_ms = ToMillis(options.write_timeout);
    context.keep_alive_timeout_ms = ToMillis(options.keep_alive_timeout);
    context.keep_alive_max_requests = options.keep_alive_max_requests;

    native = std::make_unique<NativeServer>(&context);
    native->set_socket_options([](socket_t sock) {
      const int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });
    native->set_tcp_nodelay(true);
    native->set_payload_max_length(options.max_body_bytes);
    // Our connection loop enforces these; httplib only prints them in the
    // Keep-Alive response header, and applies the timeouts to the socket.
    native->set_keep_alive_max_count(
        static_cast<size_t>(options.keep_alive_max_requests));
    native->set_keep_alive_timeout(static_cast<time_t>(absl::ToInt64Seconds(
        absl::Ceil(options.keep_alive_timeout, absl::Seconds(1)))));
    native->set_read_timeout(
        std::chrono::milliseconds(context.read_timeout_ms));
    native->set_write_timeout(
        std::chrono::milliseconds(context.write_timeout_ms));
    native->new_task_queue = [this]() -> httplib::TaskQueue* {
      return new ConnectionPool(options.worker_threads, &context);
    };
    native->set_error_handler(httplib::Server::HandlerWithResponse(
        [this](const httplib::Request& request, httplib::Response& response) {
          if (response.status == 404) {
            Dispatch(request, response);
          } else if (response.body.empty()) {
            CopyResponse(JsonError(response.status,
                                   DefaultErrorMessage(response.status)),
                         response);
          }
          return httplib::Server::HandlerResponse::Handled;
        }));
    native->set_exception_handler([](const httplib::Request&,
                                     httplib::Response& response,
                                     std::exception_ptr) {
      CopyResponse(JsonError(500, "internal error"), response);
    });
  }

  // Serves one request that httplib has read completely. Never throws.
  void Dispatch(const httplib::Request& native_request,
                httplib::Response& native_response) const noexcept {
    HttpResponse response;
    try {
      HttpRequest request;
      const std::optional<Method> method = ParseMethod(native_request.method);
      Router::Lookup lookup;
      if (method.has_value()) {
        lookup =
            router.Find(*method, native_request.path, &request.path_params);
      }
      switch (lookup.result) {
        case Router::Lookup::Result::kNotFound:
          response = JsonError(404, "not found");
          break;
        case Router::Lookup::Result::kMethodNotAllowed:
          response = JsonError(405, "method not allowed");
          response.headers.emplace_back("Allow", std::move(lookup.allow));
          break;
        case Router::Lookup::Result::kFound:
          request.method = *method;
          request.path = native_request.path;
          // For a form-encoded body httplib adds its fields to these too.
          request.query_params.assign(native_request.params.begin(),
                                      native_request.params.end());
          request.headers.reserve(native_request.headers.size());
          for (const auto& [name, value] : native_request.headers) {
            if (!IsHttplibPseudoHeader(name)) {
              request.headers.emplace_back(name, value);
            }
          }
          request.body = native_request.body;
          request.remote_addr = native_request.remote_addr;
          request.remote_port = native_request.remote_port;
          response = (*lookup.handler)(request);
          // Stop() began while the handler ran: the connection ends after
          // this response.
          if (context.stopping.load(std::memory_order_relaxed)) {
            response.SetHeader("Connection", "close");
          }
          break;
      }
    } catch (...) {
      response = HttpResponse();
      response.status = 500;
      response.content_type = "application/json";
      response.body = R"({"error":"internal error"})";
    }
    try {
      CopyResponse(std::move(response), native_response);
    } catch (...) {
      native_response.status = 500;
    }
  }

  const HttpServerOptions options;
  Router router;
  absl::Status route_error;  // The first error from Handle().
  ConnectionContext context;
  std::unique_ptr<NativeServer> native;
  std::thread listener;
  std::atomic<bool> listener_done{false};
  std::atomic<int> port{0};

  enum class State { kNew, kRunning, kStopped };
  std::mutex lifecycle_mu;    // Serializes Start() and Stop().
  State state = State::kNew;  // Guarded by lifecycle_mu.
};

HttpServer::HttpServer(HttpServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Handle(Method method, std::string pattern, Handler handler) {
  std::lock_guard<std::mutex> lock(impl_->lifecycle_mu);
  if (impl_->state != Impl::State::kNew) {
    if (impl_->route_error.ok()) {
      impl_->route_error = absl::FailedPreconditionError(
          absl::StrCat("route ", pattern, " added after Start()"));
    }
    return;
  }
  absl::Status status = impl_->router.Add(method, pattern, std::move(handler));
  if (!status.ok() && impl_->route_error.ok()) {
    impl_->route_error = std::move(status);
  }
}

absl::StatusOr<int> HttpServer::Start() {
  Impl& impl = *impl_;
  std::lock_guard<std::mutex> lock(impl.lifecycle_mu);
  if (impl.state != Impl::State::kNew) {
    return absl::FailedPreconditionError("HttpServer::Start called twice");
  }
  if (!impl.route_error.ok()) return impl.route_error;
  if (absl::Status status = impl.ValidateOptions(); !status.ok()) {
    return status;
  }
  impl.context.wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (impl.context.wake_fd < 0) {
    return absl::InternalError(
        absl::StrCat("eventfd failed: ", std::strerror(errno)));
  }
  impl.Configure();

  const std::string& host = impl.options.host;
  int port = impl.options.port;
  errno = 0;
  if (port == 0) {
    port = impl.native->bind_to_any_port(host);
  } else if (!impl.native->bind_to_port(host, port)) {
    port = -1;
  }
  if (port < 0) {
    const int error = errno;
    impl.state = Impl::State::kStopped;
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", HostPort(host, impl.options.port), ": ",
        error != 0 ? std::strerror(error) : "address not usable"));
  }

  if (!impl.native->RaiseListenBacklog()) {
    const int error = errno;
    impl.native->CloseUnstartedListener();
    impl.state = Impl::State::kStopped;
    return absl::InternalError(absl::StrCat(
        "cannot listen on ", HostPort(host, port), ": ", std::strerror(error)));
  }

  impl.listener = std::thread([&impl] {
    try {
      impl.native->listen_after_bind();
    } catch (...) {
      // Thread creation failed inside httplib; Stop() still joins us.
    }
    impl.listener_done.store(true);
  });
  pthread_setname_np(impl.listener.native_handle(), "http-listen");
  // httplib's stop() is a no-op until the accept loop has started, so wait
  // for it here; Stop() may come right after Start().
  while (!impl.native->is_running() && !impl.listener_done.load()) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  impl.port.store(port);
  impl.state = Impl::State::kRunning;
  return port;
}

void HttpServer::Stop() {
  Impl& impl = *impl_;
  std::lock_guard<std::mutex> lock(impl.lifecycle_mu);
  if (impl.state != Impl::State::kRunning) {
    impl.state = Impl::State::kStopped;
    return;
  }
  impl.context.stopping.store(true);
  const uint64_t one = 1;
  // Makes every connection's poll return; the eventfd stays readable.
  [[maybe_unused]] ssize_t ignored =
      ::write(impl.context.wake_fd, &one, sizeof(one));
  impl.native->stop();
  impl.listener.join();
  impl.state = Impl::State::kStopped;
}

int HttpServer::port() const { return impl_->port.load(); }

int64_t HttpServer::connections_accepted() const {
  return impl_->context.connections_accepted.load(std::memory_order_relaxed);
}

}  // namespace trainyard::http

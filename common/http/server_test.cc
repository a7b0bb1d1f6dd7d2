// Copyright 2026 The Trainyard Authors.
//
// Real HTTP over loopback, on ports the kernel picks. No test depends on
// timing: a server that failed to stop promptly would hang the test (its
// timeouts are an hour) and CTest's timeout would report it.

#include "common/http/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/http/client.h"
#include "gtest/gtest.h"

namespace trainyard::http {
namespace {

// Options for tests: timeouts long enough that only Stop() or the test can
// end a connection.
HttpServerOptions TestOptions() {
  HttpServerOptions options;
  options.keep_alive_timeout = absl::Hours(1);
  options.read_timeout = absl::Hours(1);
  options.write_timeout = absl::Hours(1);
  return options;
}

std::string BaseUrl(int port) {
  return absl::StrCat("http://127.0.0.1:", port);
}

HttpResponse Text(std::string body) {
  HttpResponse response;
  response.content_type = "text/plain";
  response.body = std::move(body);
  return response;
}

// A raw TCP connection, for what HttpClient does not do on purpose:
// pipelining, Expect: 100-continue, malformed requests.
class RawConnection {
 public:
  explicit RawConnection(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // A broken server fails the test rather than hanging it.
    timeval timeout{30, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address),
                           sizeof(address)) == 0;
  }
  ~RawConnection() { ::close(fd_); }

  bool connected() const { return connected_; }
  int fd() const { return fd_; }

  bool Send(std::string_view data) {
    return ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(data.size());
  }

  // Reads until `text` has arrived (true) or the peer closed (false).
  bool ReadUntil(const std::string& text) {
    while (!absl::StrContains(received_, text)) {
      if (!ReadSome()) return false;
    }
    return true;
  }

  // Reads until the peer closes the connection.
  void ReadToEnd() {
    while (ReadSome()) {
    }
  }

  const std::string& received() const { return received_; }

 private:
  bool ReadSome() {
    char buffer[4096];
    const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
    if (n <= 0) return false;
    received_.append(buffer, static_cast<size_t>(n));
    return true;
  }

  int fd_;
  bool connected_ = false;
  std::string received_;
};

int CountOccurrences(std::string_view haystack, std::string_view needle) {
  int count = 0;
  for (size_t at = haystack.find(needle); at != std::string_view::npos;
       at = haystack.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

TEST(HttpServerTest, RoutesWithPathAndQueryParams) {
  HttpServer server(TestOptions());
  server.Handle(
      Method::kPost, "/v1/webhooks/runpod/{job_id}",
      [](const HttpRequest& request) {
        const std::string* attempt = request.FindQueryParam("attempt");
        HttpResponse response = Text(absl::StrCat(
            std::string(MethodName(request.method)), " ", request.path,
            " job=", std::string(request.PathParam("job_id")),
            " attempt=", attempt ? *attempt : "-",
            " id=", std::string(request.Header("WEBHOOK-ID")),
            " remote=", request.remote_addr, " body=", request.body));
        response.status = 202;
        response.SetHeader("X-Seen", "yes");
        return response;
      });
  absl::StatusOr<int> port = server.Start();
  ASSERT_TRUE(port.ok()) << port.status();
  EXPECT_EQ(server.port(), *port);
  EXPECT_GT(*port, 0);

  HttpClient client(BaseUrl(*port));
  absl::StatusOr<HttpResponse> response = client.Send(
      Method::kPost, "/v1/webhooks/runpod/job-7f3a?attempt=2",
      {{"webhook-id", "evt_2_1"}}, R"({"type":"info"})", "application/json");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 202);
  EXPECT_EQ(response->content_type, "text/plain");
  EXPECT_EQ(response->body,
            "POST /v1/webhooks/runpod/job-7f3a job=job-7f3a attempt=2 "
            "id=evt_2_1 remote=127.0.0.1 body={\"type\":\"info\"}");
  ASSERT_NE(response->FindHeader("x-seen"), nullptr);
  EXPECT_EQ(*response->FindHeader("x-seen"), "yes");
}

// The handler gets the headers the client sent and nothing the server made up
// (no peer or local address entries among them).
TEST(HttpServerTest, HandlerSeesTheClientsHeadersAndNoAddedOnes) {
  HttpServer server(TestOptions());
  server.Handle(Method::kGet, "/headers", [](const HttpRequest& request) {
    std::string names;
    for (const auto& [name, value] : request.headers) {
      absl::StrAppend(&names, name, ";");
    }
    return Text(names);
  });
  absl::StatusOr<int> port = server.Start();
  ASSERT_TRUE(port.ok()) << port.status();
  absl::StatusOr<HttpResponse> response =
      HttpClient(BaseUrl(*port)).Send(Method::kGet, "/headers");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_FALSE(absl::StrContains(response->body, "REMOTE_ADDR"));
  EXPECT_FALSE(absl::StrContains(response->body, "LOCAL_PORT"));
  EXPECT_TRUE(absl::StrContains(response->body, "Host;"));
}

TEST(HttpServerTest, UnknownPathIs404Json) {
  HttpServer server(TestOptions());
  server.Handle(Method::kGet, "/healthz",
                [](const HttpRequest&) { return Text("ok"); });
  absl::StatusOr<int> port = server.Start();
  ASSERT_TRUE(port.ok()) << port.status();
  HttpClient client(BaseUrl(*port));
  for (Method method : {Method::kGet, Method::kPost}) {
    absl::StatusOr<HttpResponse> response =
        client.Send(method, "/nope", {}, method == Method::kPost ? "{}" : "");
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, 404);
    EXPECT_EQ(response->content_type, "application/json");
    EXPECT_EQ(response->body, R"({"error":"not found"})");
  }
}

TEST(HttpServerTest, WrongMethodIs405WithAllow) {
  HttpServer server(TestOptions());
  std::atomic<int> calls{0};
  server.Handle(Method::kGet, "/v1/jobs/{id}", [&](const HttpRequest&) {
    ++calls;
    return Text("job");
  });
  server.Handle(Method::kDelete, "/v1/jobs/{id}", [&](const HttpRequest&) {
    ++calls;
    return Text("deleted");
  });
  absl::StatusOr<int> port = server.Start();
  ASSERT_TRUE(port.ok()) << port.status();
  absl::StatusOr<HttpResponse> response =
      HttpClient(BaseUrl(*port))
          .Send(Method::kPost, "/v1/jobs/j-1", {}, "{}", "application/json");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 405);
  EXPECT_EQ(response->body, R"({"error":"method not allowed"})");
  ASSERT_NE(response->FindHeader("Allow"), nullptr);
  EXPECT_EQ(*response->FindHeader("Allow"), "GET, HEAD, DELETE");
  EXPECT_EQ(calls.load(), 0);
}

TEST(HttpServerTest, HeadUsesGetHandlerWithoutBody) {
  HttpServer server(TestOptions());
  server.Handle(Method::kGet, "/metrics",
                [](const HttpRequest&) { return Text("up 1\n"); });
  absl::StatusOr<int> port = server.Start();
  ASSERT_TRUE(port.ok()) << port.status();
  HttpClient client(BaseUrl(*port));
  absl::StatusOr<HttpResponse> response =
      client.Send(Method::kHead, "/metrics");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "");
  // The connection is still in step afterwards.
  response = client.Send(Method::kGet, "/metrics");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->body, "up 1\n");
}

TEST(HttpServerTest, BodyOverLimitIs413AndHandlerIsNotCalled) {
  HttpServerOptions options = TestOptions();
  options.max_body_bytes = 1024;
  HttpServer server(options);
  std::atomic<int> calls{0};
  server.Handle(Method::kPost, "/ingest", [&](const HttpRequest& request) {
    ++calls;
    return Text(absl::StrCat(request.body.size()));
  });
  absl::StatusOr<int> port = server.Start();
  ASSERT_TRUE(port.ok()) << port.status();
  HttpClient client(BaseUrl(*port));

  absl::StatusOr<HttpResponse> response = client.Send(
      Method::kPost, "/ingest", {}, std::string(1025, 'x'), "text/plain");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(response->body, R"({"error":"request body too large"})");
  EXPECT_EQ(calls.load(), 0);

  // Exactly at the limit is fine, and the client can go on.
  response = client.Send(Method::kPost, "/ingest", {}, std::string(1024, 'x'),
                         "text/plain");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "1024");
  EXPECT_EQ(calls.load(), 1);
}

TEST(HttpServerTest, HandlerExceptionIs500) {
  HttpServer server(TestOptions());
  server.Handle(Method::kGet, "/boom", [](const HttpRequest&) -> HttpResponse {
    throw std::runtime_error("boom");
  });
  absl::StatusOr<int> port = server.Start();
  ASSERT_TRUE(port.ok()) << port.status();
  HttpClient client(BaseUrl(*port));
  absl::StatusOr<HttpResponse> response = client.Send(Method::kGet, "/boom");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 500);
  EXPECT_EQ(response->body, R"({"error":"internal error"})");
}

TEST(HttpServerTest, JsonErrorWithRetryAfterOverTheWire) {
  HttpServer server(TestOptions());
  server.Handle(Method::kPost, "/busy", [](const HttpRequest&) {
    HttpResponse response = JsonError(503, "draining \"soon\"");
    response.SetRetryAfter(absl::Seconds(2));
    return response;
  });
  absl::StatusOr<int> port = server.Start();
  ASSERT_TRUE(port.ok()) << port.status();
  absl::StatusOr<HttpResponse> response =
      HttpClient(BaseUrl(*port)).Send(Method::kPost, "/busy", {}, "{}");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 503);
  EXPECT_EQ(response->content_type, "application/json");
  EXPECT_EQ(response->body, R"({"error":"draining \"soon\""})");
  ASSERT_NE(response->FindHeader("retry-after"), nullptr);
  EXPECT_EQ(*response->FindHeader("retry-after"), "2");
}

TEST(HttpServerTest, ConcurrentClients) {
  constexpr int kThreads = 8;
  constexpr int kRequestsPerThread = 100;
  HttpServerOptions options = TestOptions();
  options.worker_threads = kThreads;
  HttpServer server(options);
  std::atomic<int> calls{0};
  server.Handle(Method::kPost, "/echo/{n}", [&](const HttpRequest& request) {
    ++calls;
    return Text(
        absl::StrCat(std::string(request.PathParam("n")), ":", request.body));
  });
  absl::StatusOr<int> port = server.Start();
  ASSERT_TRUE(port.ok()) << port.status();

  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      HttpClient client(BaseUrl(*port));
      for (int i = 0; i < kRequestsPerThread; ++i) {
        const std::string n = absl::StrCat(t, "-", i);
        absl::StatusOr<HttpResponse> response = client.Send(
            Method::kPost, absl::StrCat("/echo/", n), {}, n, "text/plain");
        if (response.ok() && response->status == 200 &&
            response->body == absl::StrCat(n, ":", n)) {
          ++good;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(good.load(), kThreads * kRequestsPerThread);
  EXPECT_EQ(calls.load(), kThreads * kRequestsPerThread);
  // Every client kept its one connection.
  EXPECT_EQ(server.connections_accepted(), kThreads);
}

TEST(HttpServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  HttpServer server(TestOptions());
  absl::Mutex mu;
  std::set<int> remote_ports;
  server.Handle(Method::kPost, "/ping", [&](const HttpRequest& request) {
    absl::MutexLock lock(&mu);
    remote_ports.insert(request.remote_port);
    return Text("pong");
  });
  absl::StatusOr<int> port = server.Start();
  ASSERT_TRUE(port.ok()) << port.status();
  HttpClient client(BaseUrl(*port));
  // Far more than httplib's compiled-in default of 5 requests per connection.
  for (int i = 0; i < 50; ++i) {
    absl::StatusOr<HttpResponse> response =
        client.Send(Method::kPost, "/ping", {}, "{}", "application/json");
    ASSERT_TRUE(response.ok()) << i << ": " << response.status();
    ASSERT_EQ(response->status, 200) << i;
    EXPECT_EQ(response->FindHeader("Connection"), nullptr) << i;
  }
  EXPECT_EQ(server.connections_accepted(), 1);
  absl::MutexLock lock(&mu);
  EXPECT_EQ(remote_ports.size(), 1u);
}

TEST(HttpServerTest, KeepAliveMaxRequestsClosesConnection) {
  HttpServerOptions options = TestOptions();
  options.keep_alive_max_requests = 3;
  HttpServer server(options);
  server.Handle(Method::kGet, "/x",
                [](const HttpRequest&) { return Text("x"); });
  absl::StatusOr<int> port = server.Start();
  ASSERT_TRUE(port.ok()) << port.status();
  HttpClient client(BaseUrl(*port));
  for (int i = 0; i < 7; ++i) {
    absl::StatusOr<HttpResponse> response = client.Send(Method::kGet, "/x");
    ASSERT_TRUE(response.ok()) << i << ": " << response.status();
    const std::string* connection = response->FindHeader("Connection");
    EXPECT_EQ(connection != nullptr && *connection == "close", i % 3 == 2) << i;
  }
  EXPECT_EQ(server.connections_accepted(), 3);
}

TEST(HttpServerTest, PipelinedRequestsOnRawConnection) {
  HttpServer server(TestOptions());
  server.Handle(Method::kPost, "/echo",
                [](const HttpRequest& request) { return Text(request.body); });
  absl::StatusOr<int> port = server.Start();
  ASSERT_TRUE(port.ok()) << port.status();
  RawConnection connection(*port);
  ASSERT_TRUE(connection.connected());
  ASSERT_TRUE(connection.Send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nfirst"
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nsecond"
      "GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  connection.ReadToEnd();
  const std::string& received = connection.received();
  EXPECT_EQ(CountOccurrences(received, "HTTP/1.1 200 OK\r\n"), 2) << received;
  EXPECT_EQ(CountOccurrences(received, "HTTP/1.1 405 "), 1) << received;
  EXPECT_LT(received.find("first"), received.find("second"));
}

TEST(HttpServerTest, ExpectContinue) {
  HttpServer server(TestOptions());
  server.Handle(Method::kPost, "/echo",
                [](const HttpRequest& request) { return Text(request.body); });
  absl::StatusOr<int> port = server.Start();
  ASSERT_TRUE(port.ok()) << port.status();
  RawConnection connection(*port);
  ASSERT_TRUE(connection.connected());
  ASSERT_TRUE(
      connection.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                      "Expect: 100-continue\r\n\r\n"));
  // The server must send 100 Continue before it waits for the body.
  ASSERT_TRUE(connection.ReadUntil("HTTP/1.1 100 Continue\r\n\r\n"));
  ASSERT_TRUE(connection.Send("body"));
  ASSERT_TRUE(connection.ReadUntil("\r\n\r\nbody"));
  EXPECT_TRUE(absl::StrContains(connection.received(), "HTTP/1.1 200 OK"));
}

TEST(HttpServerTest, MalformedRequestIs400Json) {
  HttpServer server(TestOptions());
  absl::StatusOr<int> port = server.Start();
  ASSERT_TRUE(port.ok()) << port.status();
  RawConnection connection(*port);
  ASSERT_TRUE(connection.connected());
  ASSERT_TRUE(connection.Send("NONSENSE\r\n\r\n"));
  connection.ReadToEnd();
  EXPECT_TRUE(absl::StartsWith(connection.received(), "HTTP/1.1 400 "))
      << connection.received();
  EXPECT_TRUE(
      absl::EndsWith(connection.received(), R"({"error":"bad request"})"))
      << connection.received();
}

TEST(HttpServerTest, MalformedRequestClosesConnection) {
  HttpServer server(TestOptions());
  server.Handle(Method::kGet, "/x",
                [](const HttpRequest&) { return Text("x"); });
  absl::StatusOr<int> port = server.Start();
  ASSERT_TRUE(port.ok()) << port.status();
  RawConnection connection(*port);
  ASSERT_TRUE(connection.connected());
  // The second request is never answered: after garbage the server cannot
  // tell where it starts.
  ASSERT_TRUE(
      connection.Send("GET /x HTTP/1.1 extra\r\nHost: x\r\n\r\n"
                      "GET /x HTTP/1.1\r\nHost: x\r\n\r\n"));
  connection.ReadToEnd();
  EXPECT_EQ(CountOccurrences(connection.received(), "HTTP/1.1 "), 1)
      << connection.received();
  EXPECT_TRUE(absl::StartsWith(connection.received(), "HTTP/1.1 400 "));
}

TEST(HttpServerTest, GetWithBodyClosesConnectionInsteadOfMisreadingIt) {
  HttpServer server(TestOptions());
  std::atomic<int> calls{0};
  server.Handle(Method::kGet, "/x", [&](const HttpRequest&) {
    ++calls;
    return Text("x");
  });
  absl::StatusOr<int> port = server.Start();
  ASSERT_TRUE(port.ok()) << port.status();
  HttpClient client(BaseUrl(*port));
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<HttpResponse> response =
        client.Send(Method::kGet, "/x", {}, "GET /x HTTP/1.1\r\n\r\n");
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, 200);
    ASSERT_NE(response->FindHeader("Connection"), nullptr);
    EXPECT_EQ(*response->FindHeader("Connection"), "close");
  }
  // The bodies were not taken for requests.
  EXPECT_EQ(calls.load(), 3);
  EXPECT_EQ(server.connections_accepted(), 3);
}

TEST(HttpServerTest, StartOnBusyPortFailsUnavailable) {
  HttpServer first(TestOptions());
  first.Handle(Method::kGet, "/who",
               [](const HttpRequest&) { return Text("first"); });
  absl::StatusOr<int> port = first.Start();
  ASSERT_TRUE(port.ok()) << port.status();

  HttpServerOptions options = TestOptions();
  options.port = *port;
  HttpServer second(options);
  absl::StatusOr<int> second_port = second.Start();
  ASSERT_FALSE(second_port.ok());
  EXPECT_EQ(second_port.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(second_port.status().message(),
                                absl::StrCat("127.0.0.1:", *port)))
      << second_port.status();
  second.Stop();

  // The first server still owns the port.
  absl::StatusOr<HttpResponse> response =
      HttpClient(BaseUrl(*port)).Send(Method::kGet, "/who");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->body, "first");
}

TEST(HttpServerTest, StartTwiceFails) {
  HttpServer server(TestOptions());
  ASSERT_TRUE(server.Start().ok());
  EXPECT_EQ(server.Start().status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(HttpServerTest, BadRoutesFailStart) {
  {
    HttpServer server(TestOptions());
    server.Handle(Method::kGet, "no-slash",
                  [](const HttpRequest&) { return Text(""); });
    EXPECT_EQ(server.Start().status().code(),
              absl::StatusCode::kInvalidArgument);
  }
  {
    HttpServer server(TestOptions());
    server.Handle(Method::kGet, "/a/{x}",
                  [](const HttpRequest&) { return Text(""); });
    server.Handle(Method::kGet, "/a/{y}",
                  [](const HttpRequest&) { return Text(""); });
    EXPECT_EQ(server.Start().status().code(), absl::StatusCode::kAlreadyExists);
  }
}

TEST(HttpServerTest, BadOptionsFailStart) {
  HttpServerOptions options = TestOptions();
  options.worker_threads = 0;
  EXPECT_EQ(HttpServer(options).Start().status().code(),
            absl::StatusCode::kInvalidArgument);
  options = TestOptions();
  options.port = 70000;
  EXPECT_EQ(HttpServer(options).Start().status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(HttpServerTest, StopWithIdleKeepAliveClientReturnsPromptly) {
  HttpServer server(TestOptions());  // Keep-alive timeout: one hour.
  server.Handle(Method::kGet, "/x",
                [](const HttpRequest&) { return Text("x"); });
  absl::StatusOr<int> port = server.Start();
  ASSERT_TRUE(port.ok()) << port.status();
  HttpClient client(BaseUrl(*port));
  ASSERT_TRUE(client.Send(Method::kGet, "/x").ok());
  // A second client connected but silent: it has not sent a request yet.
  RawConnection silent(*port);
  ASSERT_TRUE(silent.connected());

  server.Stop();  // Would wait an hour with httplib's own connection loop.

  absl::StatusOr<HttpResponse> response = client.Send(Method::kGet, "/x");
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable)
      << response.status();
  silent.ReadToEnd();  // The server closed it.
  EXPECT_EQ(silent.received(), "");
}

TEST(HttpServerTest, StopLetsRunningHandlerFinishAndAnswer) {
  HttpServer server(TestOptions());
  absl::Notification entered;
  absl::Notification release;
  std::atomic<bool> finished{false};
  server.Handle(Method::kPost, "/slow", [&](const HttpRequest&) {
    entered.Notify();
    release.WaitForNotification();
    finished = true;
    return Text("done");
  });
  absl::StatusOr<int> port = server.Start();
  ASSERT_TRUE(port.ok()) << port.status();

  absl::StatusOr<HttpResponse> response;
  std::thread caller([&] {
    response =
        HttpClient(BaseUrl(*port)).Send(Method::kPost, "/slow", {}, "{}");
  });
  entered.WaitForNotification();
  std::thread stopper([&] { server.Stop(); });
  // Stop() has begun once the listener is gone.
  while (RawConnection(*port).connected()) std::this_thread::yield();
  release.Notify();
  stopper.join();
  EXPECT_TRUE(finished.load());  // Stop() returned only after the handler.
  caller.join();
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->body, "done");
  ASSERT_NE(response->FindHeader("Connection"), nullptr);
  EXPECT_EQ(*response->FindHeader("Connection"), "close");
}

TEST(HttpServerTest, StopRightAfterStartAndTwice) {
  HttpServer server(TestOptions());
  ASSERT_TRUE(server.Start().ok());
  server.Stop();
  server.Stop();
}

TEST(HttpServerTest, StopWithoutStart) {
  HttpServer server(TestOptions());
  server.Stop();
  EXPECT_EQ(server.Start().status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(HttpServerTest, IdleConnectionDoesNotHoldAWorker) {
  HttpServerOptions options = TestOptions();
  options.worker_threads = 1;
  HttpServer server(options);
  server.Handle(Method::kGet, "/x",
                [](const HttpRequest&) { return Text("x"); });
  absl::StatusOr<int> port = server.Start();
  ASSERT_TRUE(port.ok()) << port.status();
  HttpClient a(BaseUrl(*port));
  HttpClient b(BaseUrl(*port));
  // A stays connected and idle; B is served on the only worker anyway, and
  // neither connection is closed to make room.
  ASSERT_TRUE(a.Send(Method::kGet, "/x").ok());
  absl::StatusOr<HttpResponse> response = b.Send(Method::kGet, "/x");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->body, "x");
  response = a.Send(Method::kGet, "/x");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(server.connections_accepted(), 2);
}

// ---- Issue 11: deadlines, caps, framing, shutdown answers. ----

// The peak resident set size in KiB, after resetting it (clear_refs "5").
int64_t ResetPeakRssKib() {
  if (FILE* f = std::fopen("/proc/self/clear_refs", "w")) {
    std::fputs("5", f);
    std::fclose(f);
  }
  return 0;
}

int64_t PeakRssKib() {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return -1;
  char line[256];
  int64_t kib = -1;
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    if (std::sscanf(line, "VmHWM: %ld kB", &kib) == 1) break;
  }
  std::fclose(f);
  return kib;
}

// Sends `total` bytes made by `next` on a thread, ignoring the errors a
// server that stops reading causes.
class Flood {
 public:
  Flood(int fd, std::string head, std::string unit, int64_t units)
      : thread_([fd, head = std::move(head), unit = std::move(unit), units] {
          if (::send(fd, head.data(), head.size(), MSG_NOSIGNAL) < 0) return;
          for (int64_t i = 0; i < units; ++i) {
            if (::send(fd, unit.data(), unit.size(), MSG_NOSIGNAL) < 0) return;
          }
        }) {}
  ~Flood() { thread_.join(); }

 private:
  std::thread thread_;
};

TEST(HttpServerTest, R_ISSUE11_HeaderNotCompleteInTimeIs408AndClose) {
  HttpServerOptions options = TestOptions();
  options.header_timeout = absl::Milliseconds(200);
  HttpServer server(options);
  absl::StatusOr<int> port = server.Start();
  ASSERT_TRUE(port.ok()) << port.status();
  RawConnection connection(*port);
  ASSERT_TRUE(connection.Send("GET / HTTP/1.1\r\nHost: x\r\n"));
  connection.ReadToEnd();  // Ends when the server gives up on the header.
  EXPECT_TRUE(absl::StartsWith(connection.received(), "HTTP/1.1 408 "))
      << connection.received();
}

TEST(HttpServerTest, R_ISSUE11_SlowBodyIs408NotA400) {
  HttpServerOptions options = TestOptions();
  options.read_timeout = absl::Milliseconds(100);
  options.min_body_bytes_per_second = 1 << 20;
  HttpServer server(options);
  std::atomic<int> calls{0};
  server.Handle(Method::kPost, "/in", [&](const HttpRequest&) {
    ++calls;
    return Text("x");
  });
  absl::StatusOr<int> port = server.Start();
  ASSERT_TRUE(port.ok()) << port.status();
  RawConnection connection(*port);
  ASSERT_TRUE(connection.Send(
      "POST /in HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab"));
  connection.ReadToEnd();
  EXPECT_TRUE(absl::StartsWith(connection.received(), "HTTP/1.1 408 "))
      << connection.received();
  EXPECT_TRUE(absl::StrContains(connection.received(), "Connection: close"));
  EXPECT_EQ(calls.load(), 0);
}

TEST(HttpServerTest, R_ISSUE11_IdleKeepAliveConnectionClosesSilently) {
  HttpServerOptions options = TestOptions();
  options.keep_alive_timeout = absl::Milliseconds(100);
  HttpServer server(options);
  server.Handle(Method::kGet, "/x",
                [](const HttpRequest&) { return Text("x"); });
  absl::StatusOr<int> port = server.Start();
  ASSERT_TRUE(port.ok()) << port.status();
  RawConnection connection(*port);
  ASSERT_TRUE(connection.Send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n"));
  connection.ReadToEnd();  // Ends at the keep-alive timeout.
  EXPECT_EQ(CountOccurrences(connection.received(), "HTTP/1.1 "), 1)
      << connection.received();
  EXPECT_TRUE(absl::StartsWith(connection.received(), "HTTP/1.1 200 "));
}

TEST(HttpServerTest, R_ISSUE11_ConnectionCapsAnswer503) {
  for (const bool per_address : {false, true}) {
    HttpServerOptions options = TestOptions();
    if (per_address) {
      options.max_connections_per_address = 2;
    } else {
      options.max_connections = 2;
    }
    HttpServer server(options);
    server.Handle(Method::kGet, "/x",
                  [](const HttpRequest&) { return Text("x"); });
    absl::StatusOr<int> port = server.Start();
    ASSERT_TRUE(port.ok()) << port.status();
    RawConnection a(*port);
    RawConnection b(*port);
    ASSERT_TRUE(a.Send("GET /x HTTP/1.1\r\n\r\n"));
    ASSERT_TRUE(b.Send("GET /x HTTP/1.1\r\n\r\n"));
    ASSERT_TRUE(a.ReadUntil("\r\n\r\nx"));
    ASSERT_TRUE(b.ReadUntil("\r\n\r\nx"));
    RawConnection c(*port);
    c.ReadToEnd();
    EXPECT_TRUE(absl::StartsWith(c.received(), "HTTP/1.1 503 "))
        << c.received();
    EXPECT_TRUE(absl::StrContains(c.received(), "Retry-After: 1"));
    EXPECT_EQ(server.connections_refused(), 1);
  }
}

TEST(HttpServerTest, R_ISSUE11_ConflictingContentLengthIs400AndOneAnswer) {
  HttpServer server(TestOptions());
  server.Handle(Method::kPost, "/echo",
                [](const HttpRequest& request) { return Text(request.body); });
  absl::StatusOr<int> port = server.Start();
  ASSERT_TRUE(port.ok()) << port.status();
  RawConnection connection(*port);
  ASSERT_TRUE(connection.Send(
      "POST /echo HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 34\r\n\r\n"
      "POST /echo HTTP/1.1\r\nContent-Length: 1\r\n\r\nx"));
  connection.ReadToEnd();
  EXPECT_EQ(CountOccurrences(connection.received(), "HTTP/1.1 "), 1)
      << connection.received();
  EXPECT_TRUE(absl::StartsWith(connection.received(), "HTTP/1.1 400 "));
}

TEST(HttpServerTest, R_ISSUE11_MalformedChunkSizeIs400AndOneAnswer) {
  HttpServer server(TestOptions());
  std::atomic<int> calls{0};
  server.Handle(Method::kPost, "/echo", [&](const HttpRequest& request) {
    ++calls;
    return Text(request.body);
  });
  absl::StatusOr<int> port = server.Start();
  ASSERT_TRUE(port.ok()) << port.status();
  RawConnection connection(*port);
  // The "chunk" is a smuggled request; it must never be answered.
  ASSERT_TRUE(connection.Send(
      "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5x\r\nPOST /echo HTTP/1.1\r\nContent-Length: 1\r\n\r\nx"));
  connection.ReadToEnd();
  EXPECT_EQ(CountOccurrences(connection.received(), "HTTP/1.1 "), 1)
      << connection.received();
  EXPECT_TRUE(absl::StartsWith(connection.received(), "HTTP/1.1 400 "));
  EXPECT_EQ(calls.load(), 0);
}

TEST(HttpServerTest, R_ISSUE11_ContentLengthOverLimitAnsweredAtOnce) {
  HttpServer server(TestOptions());  // 1 MiB limit.
  absl::StatusOr<int> port = server.Start();
  ASSERT_TRUE(port.ok()) << port.status();
  RawConnection connection(*port);
  // No body byte is sent: the answer cannot wait for it.
  ASSERT_TRUE(connection.Send(
      "POST /in HTTP/1.1\r\nContent-Length: 1073741824\r\n\r\n"));
  connection.ReadToEnd();
  EXPECT_TRUE(absl::StartsWith(connection.received(), "HTTP/1.1 413 "))
      << connection.received();
}

TEST(HttpServerTest, R_ISSUE11_HugeChunkedBodyAndHeaderRefusedWithoutMemory) {
  HttpServer server(TestOptions());  // 1 MiB body, 64 KiB header limits.
  std::atomic<int> calls{0};
  server.Handle(Method::kPost, "/in", [&](const HttpRequest&) {
    ++calls;
    return Text("x");
  });
  absl::StatusOr<int> port = server.Start();
  ASSERT_TRUE(port.ok()) << port.status();
  ResetPeakRssKib();
  const int64_t before_kib = PeakRssKib();
  {
    // 64 MiB chunked: 64 chunks of 1 MiB.
    RawConnection connection(*port);
    std::string chunk = "100000\r\n" + std::string(1 << 20, 'a') + "\r\n";
    Flood flood(connection.fd(),
                "POST /in HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
                std::move(chunk), 64);
    connection.ReadToEnd();
    EXPECT_TRUE(absl::StartsWith(connection.received(), "HTTP/1.1 413 "))
        << connection.received().substr(0, 200);
  }
  {
    // A 16 MB header block: 16,384 fields of 1 KiB.
    RawConnection connection(*port);
    std::string field = "X-Pad: " + std::string(1015, 'b') + "\r\n";
    Flood flood(connection.fd(), "GET /in HTTP/1.1\r\n", std::move(field),
                16384);
    connection.ReadToEnd();
    EXPECT_TRUE(absl::StartsWith(connection.received(), "HTTP/1.1 431 "))
        << connection.received().substr(0, 200);
  }
  EXPECT_EQ(calls.load(), 0);
  const int64_t after_kib = PeakRssKib();
  // The two 1 MiB send buffers of the test and the server's limits fit in
  // 16 MiB; holding either request would not.
  if (before_kib > 0 && after_kib > 0) {
    EXPECT_LT(after_kib - before_kib, 16 * 1024);
  }
}

TEST(HttpServerTest, R_ISSUE11_RequestCutByStopIs503WithRetryAfter) {
  HttpServer server(TestOptions());
  server.Handle(Method::kPost, "/in",
                [](const HttpRequest&) { return Text("x"); });
  absl::StatusOr<int> port = server.Start();
  ASSERT_TRUE(port.ok()) << port.status();
  RawConnection body(*port);
  RawConnection header(*port);
  ASSERT_TRUE(body.Send("POST /in HTTP/1.1\r\nContent-Length: 10\r\n\r\nhalf"));
  ASSERT_TRUE(header.Send("POST /in HTTP/1.1\r\nContent-Le"));
  std::thread stopper([&server] { server.Stop(); });
  body.ReadToEnd();
  header.ReadToEnd();
  stopper.join();
  for (const RawConnection* c : {&body, &header}) {
    EXPECT_TRUE(absl::StartsWith(c->received(), "HTTP/1.1 503 "))
        << c->received();
    EXPECT_TRUE(absl::StrContains(c->received(), "Retry-After: 1"));
  }
}

TEST(HttpServerTest, R_ISSUE11_ThousandSlowConnectionsDoNotStarveAClient) {
  HttpServerOptions options = TestOptions();
  options.max_connections_per_address = 2000;
  options.worker_threads = 4;
  HttpServer server(options);
  std::atomic<int> calls{0};
  server.Handle(Method::kPost, "/v1/webhooks/{job_id}",
                [&](const HttpRequest& request) {
                  ++calls;
                  return Text(request.body);
                });
  absl::StatusOr<int> port = server.Start();
  ASSERT_TRUE(port.ok()) << port.status();
  // 500 trickle their header, 500 their body; none ever completes.
  constexpr int kSlow = 1000;
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < kSlow; ++i) {
    slow.push_back(std::make_unique<RawConnection>(*port));
    ASSERT_TRUE(slow.back()->connected());
    ASSERT_TRUE(slow.back()->Send(
        i % 2 == 0 ? "POST /v1/webhooks/j HTTP/1.1\r\nHost: x\r\n"
                   : "POST /v1/webhooks/j HTTP/1.1\r\nContent-Length: "
                     "100000\r\n\r\n{"));
  }
  HttpClient client(BaseUrl(*port));
  constexpr int kRequests = 200;
  for (int i = 0; i < kRequests; ++i) {
    // Every slow connection sends one more byte between two requests.
    for (int j = 0; j < kSlow; j += 50) {
      ASSERT_TRUE(slow[j]->Send(j % 2 == 0 ? "X" : " "));
    }
    absl::StatusOr<HttpResponse> response =
        client.Send(Method::kPost, absl::StrCat("/v1/webhooks/j-", i), {}, "{}",
                    "application/json");
    ASSERT_TRUE(response.ok()) << i << ": " << response.status();
    ASSERT_EQ(response->status, 200);
  }
  EXPECT_EQ(calls.load(), kRequests);
  // All of them were open all along.
  EXPECT_GE(server.open_connections(), kSlow + 1);
  EXPECT_EQ(server.connections_refused(), 0);
}

}  // namespace
}  // namespace trainyard::http

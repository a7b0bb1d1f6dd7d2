// Copyright 2026 The Trainyard Authors.

#include "common/http/client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/http/server.h"
#include "gtest/gtest.h"

namespace trainyard::http {
namespace {

// A port on which nothing listens: bound (so nobody else gets it during the
// test) but not listening, so connecting is refused at once.
class RefusingPort {
 public:
  RefusingPort() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    socklen_t length = sizeof(address);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~RefusingPort() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_;
  int port_ = 0;
};

// Answers every request with what it received.
class EchoServer {
 public:
  EchoServer() : server_(HttpServerOptions()) {
    for (Method method : {Method::kGet, Method::kPost, Method::kPut,
                          Method::kPatch, Method::kDelete}) {
      server_.Handle(method, "/{a}", Echo);
      server_.Handle(method, "/{a}/{b}", Echo);
      server_.Handle(method, "/{a}/{b}/{c}", Echo);
    }
  }
  int Start() { return server_.Start().value_or(0); }

 private:
  static HttpResponse Echo(const HttpRequest& request) {
    HttpResponse response;
    response.status = request.path == "/status/418" ? 418 : 200;
    response.content_type = "text/plain";
    response.body =
        absl::StrCat(std::string(MethodName(request.method)), " ", request.path,
                     " auth=", std::string(request.Header("Authorization")),
                     " agent=", std::string(request.Header("X-Agent")),
                     " extra=", std::string(request.Header("X-Extra")),
                     " type=", std::string(request.Header("Content-Type")),
                     " body=", request.body);
    return response;
  }

  HttpServer server_;
};

TEST(HttpClientTest, SendsMethodPathHeadersAndBody) {
  EchoServer server;
  const int port = server.Start();
  ASSERT_GT(port, 0);
  HttpClientOptions options;
  options.bearer_token = "tok-123";
  options.default_headers = {{"X-Agent", "gpusim/1"}};
  HttpClient client(absl::StrCat("http://127.0.0.1:", port), options);
  absl::StatusOr<HttpResponse> response =
      client.Send(Method::kPatch, "/v1/pods", {{"X-Extra", "e"}}, "{\"a\":1}",
                  "application/json");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->content_type, "text/plain");
  EXPECT_EQ(response->body,
            "PATCH /v1/pods auth=Bearer tok-123 agent=gpusim/1 extra=e "
            "type=application/json body={\"a\":1}");
}

TEST(HttpClientTest, BodiesOfEveryMethodArrive) {
  EchoServer server;
  const int port = server.Start();
  ASSERT_GT(port, 0);
  HttpClient client(absl::StrCat("http://127.0.0.1:", port));
  for (Method method :
       {Method::kPost, Method::kPut, Method::kPatch, Method::kDelete}) {
    SCOPED_TRACE(MethodName(method));
    absl::StatusOr<HttpResponse> response =
        client.Send(method, "/x", {}, "payload", "text/plain");
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_TRUE(absl::EndsWith(response->body, "body=payload"))
        << response->body;
  }
}

TEST(HttpClientTest, BaseUrlPathPrefix) {
  EchoServer server;
  const int port = server.Start();
  ASSERT_GT(port, 0);
  HttpClient client(absl::StrCat("http://localhost:", port, "/api/"));
  absl::StatusOr<HttpResponse> response = client.Send(Method::kGet, "/v1/pods");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_TRUE(absl::StartsWith(response->body, "GET /api/v1/pods "))
      << response->body;
}

TEST(HttpClientTest, ErrorStatusIsAnOkResult) {
  EchoServer server;
  const int port = server.Start();
  ASSERT_GT(port, 0);
  HttpClient client(absl::StrCat("http://127.0.0.1:", port));
  absl::StatusOr<HttpResponse> response =
      client.Send(Method::kGet, "/status/418");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 418);
  response = client.Send(Method::kGet, "/a/b/c/d");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 404);
}

TEST(HttpClientTest, ConnectionRefusedIsUnavailableWithAddress) {
  RefusingPort refusing;
  const std::string base = absl::StrCat("http://127.0.0.1:", refusing.port());
  HttpClient client(base);
  absl::StatusOr<HttpResponse> response =
      client.Send(Method::kPost, "/v1/webhooks/runpod/j", {}, "{}");
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(response.status().message(), base))
      << response.status();
}

TEST(HttpClientTest, MalformedBaseUrlOrPathIsInvalidArgument) {
  for (const char* url :
       {"", "127.0.0.1:80", "ftp://host", "http://", "http://:80",
        "http://host:", "http://host:0", "http://host:70000", "http://host:8a",
        "http://user@host", "http://host/x?y=1", "http://[::1"}) {
    SCOPED_TRACE(url);
    HttpClient client(url);
    EXPECT_EQ(client.Send(Method::kGet, "/").status().code(),
              absl::StatusCode::kInvalidArgument);
  }
  HttpClient client("http://127.0.0.1:1");
  EXPECT_EQ(client.Send(Method::kGet, "relative").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client.base_url(), "http://127.0.0.1:1");
}

TEST(HttpClientTest, ConcurrentSendsOnOneClientAreSerialized) {
  EchoServer server;
  const int port = server.Start();
  ASSERT_GT(port, 0);
  HttpClient client(absl::StrCat("http://127.0.0.1:", port));
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        const std::string body = absl::StrCat(t, "/", i);
        absl::StatusOr<HttpResponse> response =
            client.Send(Method::kPut, "/x", {}, body, "text/plain");
        if (response.ok() && absl::EndsWith(response->body, "body=" + body)) {
          ++good;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(good.load(), 200);
}

}  // namespace
}  // namespace trainyard::http

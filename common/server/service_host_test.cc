// Copyright 2026 Trainyard authors.
#include "common/server/service_host.h"

#include <cstdio>
#include <fstream>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/http/client.h"
#include "common/server/testdata/echo_service.h"
#include "common/status/errors.h"
#include "common/status/grpc_status.h"
#include "common/testing/raw_call.h"
#include "common/testing/status_matchers.h"
#include "common/testing/test_server.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"

namespace trainyard::server {
namespace {

using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using ::testing::HasSubstr;
using ::trainyard::testing::StatusIs;
using ::trainyard::testing::TestServer;
using ::trainyard::testing::v1::EchoRequest;
using ::trainyard::testing::v1::EchoResponse;
using ::trainyard::testing::v1::EchoService;
using ::trainyard::testing::v1::HoldRequest;
using ::trainyard::testing::v1::HoldResponse;

class ServiceHostTest : public ::testing::Test {
 protected:
  explicit ServiceHostTest(std::function<void(ServerConfig&)> tweak = nullptr)
      : server_({}, std::move(tweak)),
        rpc_(server_.host().MakeRpc(EchoPolicy())),
        echo_(*rpc_) {
    EXPECT_OK(
        server_.host().AddService(&echo_, "trainyard.testing.v1.EchoService"));
  }

  void StartServing() {
    ASSERT_OK(server_.Start());
    server_.host().MarkServing();
    stub_ = EchoService::NewStub(server_.Channel());
    health_ = Health::NewStub(server_.Channel());
  }

  grpc::Status Echo(std::optional<auth::Role> role, EchoRequest req = {},
                    EchoResponse* out = nullptr) {
    grpc::ClientContext ctx;
    if (role) TestServer::Authorize(ctx, *role);
    EchoResponse resp;
    return stub_->Echo(&ctx, req, out != nullptr ? out : &resp);
  }

  HealthCheckResponse::ServingStatus Check(const std::string& service,
                                           grpc::Status* status = nullptr) {
    grpc::ClientContext ctx;
    HealthCheckRequest req;
    req.set_service(service);
    HealthCheckResponse resp;
    grpc::Status s = health_->Check(&ctx, req, &resp);
    if (status != nullptr) *status = s;
    return resp.status();
  }

  std::string Scrape(const std::string& path = "/metrics") {
    http::HttpClient client(server_.AdminUrl());
    absl::StatusOr<http::HttpResponse> r =
        client.Send(http::Method::kGet, path);
    EXPECT_OK(r.status());
    return r.ok() ? r->body : "";
  }

  TestServer server_;
  std::unique_ptr<Rpc> rpc_;
  EchoServiceImpl echo_;
  std::unique_ptr<EchoService::Stub> stub_;
  std::unique_ptr<Health::Stub> health_;
};

TEST_F(ServiceHostTest, HealthIsNotServingWhileStartingThenServing) {
  EXPECT_EQ(server_.host().phase(), ServicePhase::kStarting);
  ASSERT_OK(server_.Start());
  EXPECT_EQ(server_.host().phase(), ServicePhase::kStarting);
  health_ = Health::NewStub(server_.Channel());
  EXPECT_EQ(Check(""), HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(Check("trainyard.testing.v1.EchoService"),
            HealthCheckResponse::NOT_SERVING);
  http::HttpClient admin(server_.AdminUrl());
  absl::StatusOr<http::HttpResponse> readyz =
      admin.Send(http::Method::kGet, "/readyz");
  ASSERT_OK(readyz.status());
  EXPECT_EQ(readyz->status, 503);
  EXPECT_EQ(readyz->body, "not ready: starting\n");
  EXPECT_EQ(admin.Send(http::Method::kGet, "/healthz")->status, 200);

  server_.host().MarkServing();
  EXPECT_EQ(server_.host().phase(), ServicePhase::kServing);
  EXPECT_EQ(Check(""), HealthCheckResponse::SERVING);
  EXPECT_EQ(Check("trainyard.testing.v1.EchoService"),
            HealthCheckResponse::SERVING);
  EXPECT_EQ(admin.Send(http::Method::kGet, "/readyz")->status, 200);
  grpc::Status status;
  Check("no.such.Service", &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);

  // Draining from Shutdown on; a late MarkServing does not undo it.
  server_.host().Shutdown();
  EXPECT_EQ(server_.host().phase(), ServicePhase::kDraining);
  server_.host().MarkServing();
  EXPECT_EQ(server_.host().phase(), ServicePhase::kDraining);
  EXPECT_FALSE(server_.host().serving());
}

TEST_F(ServiceHostTest, ReadyzSaysWhyAReadinessCheckFails) {
  absl::Status storage = absl::OkStatus();
  server_.host().AddReadinessCheck([&storage] { return storage; });
  ASSERT_OK(server_.Start());
  server_.host().MarkServing();
  http::HttpClient admin(server_.AdminUrl());
  EXPECT_EQ(admin.Send(http::Method::kGet, "/readyz")->status, 200);

  storage = WithReason(absl::ResourceExhaustedError("Put: disk full"),
                       "STORAGE_FULL");
  absl::StatusOr<http::HttpResponse> r =
      admin.Send(http::Method::kGet, "/readyz");
  ASSERT_OK(r.status());
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->body, "not ready: STORAGE_FULL: Put: disk full\n");

  storage = absl::OkStatus();
  EXPECT_EQ(admin.Send(http::Method::kGet, "/readyz")->status, 200);
}

TEST_F(ServiceHostTest, HealthWatchSeesNotServingOnShutdownThenEnds) {
  StartServing();
  grpc::ClientContext ctx;
  HealthCheckRequest req;
  auto reader = health_->Watch(&ctx, req);
  HealthCheckResponse resp;
  ASSERT_TRUE(reader->Read(&resp));
  EXPECT_EQ(resp.status(), HealthCheckResponse::SERVING);
  std::thread shutdown([&] { server_.Shutdown(); });
  ASSERT_TRUE(reader->Read(&resp));
  EXPECT_EQ(resp.status(), HealthCheckResponse::NOT_SERVING);
  EXPECT_FALSE(reader->Read(&resp));
  EXPECT_TRUE(reader->Finish().ok());
  shutdown.join();
}

TEST_F(ServiceHostTest, EveryRunsFromServingUntilShutdownWithoutOverlap) {
  absl::Mutex mu;
  int runs = 0;
  int running = 0;
  int max_running = 0;
  bool served = false;
  bool ran_before_serving = false;
  server_.host().Every(absl::Milliseconds(1), [&] {
    {
      absl::MutexLock lock(&mu);
      ran_before_serving |= !served;
      max_running = std::max(max_running, ++running);
    }
    absl::SleepFor(absl::Milliseconds(2));  // widen any overlap window
    absl::MutexLock lock(&mu);
    --running;
    ++runs;
  });
  ASSERT_OK(server_.Start());
  {
    absl::MutexLock lock(&mu);
    served = true;
  }
  server_.host().MarkServing();
  {
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(
        +[](int* n) { return *n >= 5; }, &runs));
  }
  server_.Shutdown();
  absl::MutexLock lock(&mu);
  EXPECT_FALSE(ran_before_serving);
  EXPECT_EQ(max_running, 1);
  EXPECT_EQ(running, 0);  // Shutdown waited for the run in progress
}

TEST_F(ServiceHostTest, ShutdownWaitsForAPeriodicRunInProgress) {
  absl::Notification started;
  absl::Notification release;
  std::atomic<bool> finished{false};
  server_.host().Every(absl::Milliseconds(1), [&] {
    if (started.HasBeenNotified()) return;
    started.Notify();
    release.WaitForNotification();
    finished = true;
  });
  StartServing();
  started.WaitForNotification();
  std::atomic<bool> finished_when_shutdown_returned{false};
  std::thread shutdown([&] {
    server_.Shutdown();
    finished_when_shutdown_returned = finished.load();
  });
  while (server_.host().serving()) std::this_thread::yield();
  // Shutdown has begun; a Shutdown that did not wait would return now.
  absl::SleepFor(absl::Milliseconds(50));
  release.Notify();
  shutdown.join();
  EXPECT_TRUE(finished_when_shutdown_returned.load());
}

TEST_F(ServiceHostTest, ShutdownDrainsInFlightCallsAndRefusesNewOnes) {
  StartServing();
  grpc::ClientContext hold_ctx;
  TestServer::Authorize(hold_ctx, auth::Role::kEngineer);
  HoldResponse hold_resp;
  grpc::Status hold_status;
  std::thread caller(
      [&] { hold_status = stub_->Hold(&hold_ctx, HoldRequest(), &hold_resp); });
  echo_.entered.WaitForNotification();

  std::thread shutdown([&] { server_.Shutdown(); });
  // serving() turns false just before the gRPC server stops accepting, so a
  // call may still slip in; once the server drains (held open by Hold), every
  // new call is refused. Retry until the first refusal, bounded by a deadline.
  auto late = EchoService::NewStub(server_.Channel());
  const auto give_up =
      std::chrono::system_clock::now() + std::chrono::seconds(10);
  grpc::Status late_status;
  do {
    grpc::ClientContext late_ctx;
    late_ctx.set_deadline(give_up);
    TestServer::Authorize(late_ctx, auth::Role::kViewer);
    EchoResponse late_resp;
    late_status = late->Echo(&late_ctx, EchoRequest(), &late_resp);
  } while (late_status.ok() && std::chrono::system_clock::now() < give_up);
  // gRPC refuses it as UNAVAILABLE, or CANCELLED when the call reached the
  // server just as it stopped matching new calls.
  EXPECT_THAT(late_status.error_code(),
              ::testing::AnyOf(grpc::StatusCode::UNAVAILABLE,
                               grpc::StatusCode::CANCELLED))
      << late_status.error_message();

  echo_.release.Notify();
  caller.join();
  shutdown.join();
  EXPECT_TRUE(hold_status.ok()) << hold_status.error_message();
}

TEST_F(ServiceHostTest, AuthCodesAreExactWithErrorInfo) {
  StartServing();
  EXPECT_EQ(Echo(std::nullopt).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer wrong");
    EchoResponse resp;
    grpc::Status s = stub_->Echo(&ctx, EchoRequest(), &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    google::rpc::Status details;
    ASSERT_TRUE(details.ParseFromString(s.error_details()));
    google::rpc::ErrorInfo info;
    ASSERT_TRUE(details.details(0).UnpackTo(&info));
    EXPECT_EQ(info.reason(), "UNAUTHENTICATED");
    EXPECT_EQ(info.domain(), "trainyard.dev");
  }
  {
    grpc::ClientContext ctx;
    TestServer::Authorize(ctx, auth::Role::kViewer);
    HoldResponse resp;
    grpc::Status s = stub_->Hold(&ctx, HoldRequest(), &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_THAT(s.error_message(), HasSubstr("needs role engineer"));
  }
  EchoRequest req;
  req.set_text("hi");
  EchoResponse out;
  ASSERT_TRUE(Echo(auth::Role::kViewer, req, &out).ok());
  EXPECT_EQ(out.text(), "hi");
  EXPECT_EQ(out.user(), "viewer");
}

TEST_F(ServiceHostTest, InterceptorCountsByCode) {
  StartServing();
  EchoRequest ok;
  EchoRequest not_found;
  not_found.set_fail_code(static_cast<int>(absl::StatusCode::kNotFound));
  ASSERT_TRUE(Echo(auth::Role::kViewer, ok).ok());
  ASSERT_TRUE(Echo(auth::Role::kViewer, ok).ok());
  EXPECT_EQ(Echo(auth::Role::kViewer, not_found).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Echo(std::nullopt).error_code(), grpc::StatusCode::UNAUTHENTICATED);

  std::string text = Scrape();
  const std::string labels =
      "grpc_method=\"Echo\",grpc_service=\"trainyard.testing.v1.EchoService\","
      "grpc_type=\"unary\"";
  EXPECT_THAT(text, HasSubstr("grpc_server_handled_total{grpc_code=\"OK\"," +
                              labels + "} 2"));
  EXPECT_THAT(text,
              HasSubstr("grpc_server_handled_total{grpc_code=\"NOT_FOUND\"," +
                        labels + "} 1"));
  EXPECT_THAT(text, HasSubstr("grpc_server_handled_total{grpc_code="
                              "\"UNAUTHENTICATED\"," +
                              labels + "} 1"));
  EXPECT_THAT(text, HasSubstr("grpc_server_started_total{" + labels + "} 4"));
  EXPECT_THAT(
      text, HasSubstr("grpc_server_handling_seconds_count{" + labels + "} 4"));

  // One log line per call, with the caller.
  bool logged = false;
  for (const std::string& line : server_.LogLines()) {
    if (line.find("rpc method=/trainyard.testing.v1.EchoService/Echo "
                  "code=NOT_FOUND") != std::string::npos &&
        line.find("user=viewer") != std::string::npos) {
      logged = true;
    }
  }
  EXPECT_TRUE(logged);
}

// gRPC 1.51's callback API answers bytes that do not parse as the method's
// request with UNIMPLEMENTED and no message, before any handler runs; a
// client must learn that its request is bad, and which message it broke.
TEST_F(ServiceHostTest, UndecodableRequestIsInvalidArgumentNamingTheMessage) {
  StartServing();
  auto call = [&](bool stream, std::string_view method,
                  std::string_view bytes) {
    grpc::ClientContext ctx;
    TestServer::Authorize(ctx, auth::Role::kAdmin);
    return FromGrpcStatus(
        stream ? testing::RawServerStreamCall(server_.Channel(), method, bytes,
                                              ctx)
               : testing::RawUnaryCall(server_.Channel(), method, bytes, ctx));
  };
  const std::string echo = "/trainyard.testing.v1.EchoService/Echo";
  const std::string beat = "/trainyard.testing.v1.EchoService/Beat";
  // A truncated varint tag; field 1 (string text) holding "\xc3\x28".
  const std::string garbage = "\xff\xff\xff";
  const std::string bad_utf8 = std::string("\x0a\x02\xc3\x28", 4);

  for (const auto& [stream, method, bytes] :
       {std::tuple{false, echo, garbage}, std::tuple{false, echo, bad_utf8},
        std::tuple{true, beat, garbage}}) {
    absl::Status s = call(stream, method, bytes);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument)) << method;
    EXPECT_EQ(ErrorReason(s), "MALFORMED_REQUEST") << method;
    EXPECT_THAT(s.message(),
                HasSubstr(stream ? "trainyard.testing.v1.BeatRequest"
                                 : "trainyard.testing.v1.EchoRequest"));
  }
  // Well-formed bytes still reach the handler; an unimplemented method and
  // an unknown one are still UNIMPLEMENTED.
  EXPECT_OK(call(false, echo, std::string("\x0a\x02ok", 4)));
  EXPECT_THAT(call(true, beat, ""), StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_THAT(call(false, "/trainyard.testing.v1.EchoService/Nope", ""),
              StatusIs(absl::StatusCode::kUnimplemented));

  const std::string labels =
      "grpc_method=\"Echo\",grpc_service=\"trainyard.testing.v1.EchoService\","
      "grpc_type=\"unary\"";
  EXPECT_THAT(Scrape(), HasSubstr("grpc_server_handled_total{grpc_code="
                                  "\"INVALID_ARGUMENT\"," +
                                  labels + "} 2"));
}

TEST_F(ServiceHostTest, MetricsPassPromtool) {
  StartServing();
  ASSERT_TRUE(Echo(auth::Role::kViewer).ok());
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "promtool not installed";
  }
  std::string path = server_.dir().Sub("metrics.txt");
  std::ofstream(path) << Scrape();
  std::string out_path = server_.dir().Sub("promtool.out");
  int rc = std::system(
      ("promtool check metrics < " + path + " > " + out_path + " 2>&1")
          .c_str());
  std::ifstream in(out_path);
  std::string out((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "");
}

class SmallMessageHostTest : public ServiceHostTest {
 protected:
  SmallMessageHostTest()
      : ServiceHostTest([](ServerConfig& c) { c.max_message_bytes = 1024; }) {}
};

TEST_F(SmallMessageHostTest, MessageOverLimitIsResourceExhausted) {
  StartServing();
  EchoRequest big;
  big.set_padding(std::string(4096, 'x'));
  EXPECT_EQ(Echo(auth::Role::kViewer, big).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EchoRequest small;
  small.set_padding(std::string(100, 'x'));
  EXPECT_TRUE(Echo(auth::Role::kViewer, small).ok());
}

}  // namespace
}  // namespace trainyard::server

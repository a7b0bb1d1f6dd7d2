// Copyright 2026 Trainyard authors.
#include "common/server/rpc.h"

#include <thread>

#include "common/server/testdata/echo_service.h"
#include "common/testing/status_matchers.h"
#include "common/testing/test_server.h"
#include "gtest/gtest.h"

namespace trainyard::server {
namespace {

using ::trainyard::testing::TestServer;
using ::trainyard::testing::v1::EchoService;
using ::trainyard::testing::v1::HoldRequest;
using ::trainyard::testing::v1::HoldResponse;

// A server whose EchoService runs through an Rpc of its own executors (the
// interactive one with `threads`) and a fake clock for the unary bound.
class RpcTestBase : public ::testing::Test {
 protected:
  RpcTestBase(int threads, Rpc::Lane echo_lane)
      : executor_(threads),
        bulk_executor_(1),
        timer_(clock_),
        rpc_(server_.authenticator(), EchoPolicy(), executor_, bulk_executor_,
             timer_, clock_, absl::Seconds(30)),
        echo_(rpc_, echo_lane) {
    EXPECT_OK(
        server_.host().AddService(&echo_, "trainyard.testing.v1.EchoService"));
    EXPECT_OK(server_.Start());
    server_.host().MarkServing();
    stub_ = EchoService::NewStub(server_.Channel());
  }
  ~RpcTestBase() override {
    if (!echo_.release.HasBeenNotified()) echo_.release.Notify();
    server_.Shutdown();
  }

  TestServer server_;
  FakeClock clock_;
  Executor executor_;
  Executor bulk_executor_;
  DeadlineTimer timer_;
  Rpc rpc_;
  EchoServiceImpl echo_;
  std::unique_ptr<EchoService::Stub> stub_;
};

// The unary bound, driven by a fake clock instead of waiting 30 s.
class RpcBoundTest : public RpcTestBase {
 protected:
  RpcBoundTest() : RpcTestBase(2, Rpc::Lane::kInteractive) {}
};

TEST_F(RpcBoundTest, CallWithoutDeadlineIsBounded) {
  grpc::ClientContext ctx;
  TestServer::Authorize(ctx, auth::Role::kEngineer);
  HoldResponse resp;
  grpc::Status status;
  std::thread caller([&] { status = stub_->Hold(&ctx, HoldRequest(), &resp); });
  echo_.entered.WaitForNotification();
  clock_.Advance(absl::Seconds(31));
  timer_.Kick();
  caller.join();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  // The handler finishes later (in the fixture's teardown); its result is
  // dropped without harm.
}

TEST_F(RpcBoundTest, CallWithItsOwnDeadlineIsNotTimedByTheServer) {
  grpc::ClientContext ctx;
  TestServer::Authorize(ctx, auth::Role::kEngineer);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::hours(1));
  HoldResponse resp;
  grpc::Status status;
  std::thread caller([&] { status = stub_->Hold(&ctx, HoldRequest(), &resp); });
  echo_.entered.WaitForNotification();
  clock_.Advance(absl::Seconds(31));
  timer_.Kick();
  echo_.release.Notify();
  caller.join();
  EXPECT_TRUE(status.ok()) << status.error_message();
}

// With every interactive executor thread held, calls on the bulk lane are
// still answered, on the bulk executor's threads.
class RpcLaneTest : public RpcTestBase,
                    public ::testing::WithParamInterface<Rpc::Lane> {
 protected:
  RpcLaneTest() : RpcTestBase(1, GetParam()) {}
};

TEST_P(RpcLaneTest, AnswersWhileTheInteractiveExecutorIsBusy) {
  grpc::ClientContext hold_ctx;
  TestServer::Authorize(hold_ctx, auth::Role::kEngineer);
  HoldResponse hold_resp;
  std::thread holder(
      [&] { (void)stub_->Hold(&hold_ctx, HoldRequest(), &hold_resp); });
  echo_.entered.WaitForNotification();  // the one interactive thread is taken

  grpc::ClientContext ctx;
  TestServer::Authorize(ctx, auth::Role::kViewer);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  trainyard::testing::v1::EchoRequest req;
  req.set_text("hi");
  trainyard::testing::v1::EchoResponse resp;
  grpc::Status status = stub_->Echo(&ctx, req, &resp);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(resp.text(), "hi");
  echo_.release.Notify();
  holder.join();
}

INSTANTIATE_TEST_SUITE_P(BulkLane, RpcLaneTest,
                         ::testing::Values(Rpc::Lane::kBulk));

}  // namespace
}  // namespace trainyard::server

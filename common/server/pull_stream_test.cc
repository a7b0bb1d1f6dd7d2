// Copyright 2026 Trainyard authors.
#include "common/server/pull_stream.h"

#include <memory>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/testing/test_server.h"
#include "gtest/gtest.h"
#include "trainyard/testing/v1/echo.grpc.pb.h"

namespace trainyard::server {
namespace {

using ::trainyard::testing::TestServer;
using ::trainyard::testing::v1::BeatRequest;
using ::trainyard::testing::v1::BeatResponse;
using ::trainyard::testing::v1::EchoService;

// Sends a heartbeat first, then each value given to Send, heartbeats between.
class BeatStream final : public PullStream<BeatResponse> {
 public:
  using PullStream::PullStream;

  void Send(int data) {
    {
      absl::MutexLock lock(&data_mu_);
      pending_ = data;
    }
    Wake();
  }

 protected:
  Step Next(bool heartbeat_due) override {
    absl::MutexLock lock(&data_mu_);
    Step step;
    if (pending_ != 0) {
      step.message.emplace().set_data(pending_);
      pending_ = 0;
    } else if (heartbeat_due || !started_) {
      step.message.emplace().set_heartbeat(true);
    }
    started_ = true;
    return step;
  }

 private:
  absl::Mutex data_mu_;
  int pending_ ABSL_GUARDED_BY(data_mu_) = 0;
  bool started_ ABSL_GUARDED_BY(data_mu_) = false;
};

class BeatService final : public EchoService::CallbackService {
 public:
  BeatService(Executor& executor, DeadlineTimer& timer, const Clock& clock)
      : executor_(executor), timer_(timer), clock_(clock) {}

  grpc::ServerWriteReactor<BeatResponse>* Beat(grpc::CallbackServerContext*,
                                               const BeatRequest*) override {
    auto stream = std::make_shared<BeatStream>(
        executor_, timer_, clock_,
        BeatStream::Timing{absl::Seconds(1), absl::Seconds(15)});
    stream_ = stream;
    started_.Notify();
    return stream->Begin();
  }

  BeatStream& stream() {
    started_.WaitForNotification();
    return *stream_;
  }

 private:
  Executor& executor_;
  DeadlineTimer& timer_;
  const Clock& clock_;
  std::shared_ptr<BeatStream> stream_;
  absl::Notification started_;
};

class PullStreamTest : public ::testing::Test {
 protected:
  PullStreamTest()
      : executor_(2), timer_(clock_), beat_(executor_, timer_, clock_) {
    EXPECT_TRUE(server_.host()
                    .AddService(&beat_, "trainyard.testing.v1.EchoService")
                    .ok());
    EXPECT_TRUE(server_.Start().ok());
    server_.host().MarkServing();
    stub_ = EchoService::NewStub(server_.Channel());
  }
  ~PullStreamTest() override { server_.Shutdown(); }

  // Advances the suite's clock and lets the timer see it.
  void Advance(absl::Duration d) {
    clock_.Advance(d);
    timer_.KickAndWait();
  }

  TestServer server_;
  FakeClock clock_;
  Executor executor_;
  DeadlineTimer timer_;
  BeatService beat_;
  std::unique_ptr<EchoService::Stub> stub_;
};

// The heartbeat comes one interval after the last message of any kind, not
// on a fixed schedule from the stream's start (which let silences reach
// almost two intervals).
TEST_F(PullStreamTest, HeartbeatFollowsTheLastMessageByTheInterval) {
  grpc::ClientContext ctx;
  // Only bounds a failing test; a passing one never waits on wall time.
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto reader = stub_->Beat(&ctx, BeatRequest());
  BeatResponse msg;
  ASSERT_TRUE(reader->Read(&msg));  // t = 0
  EXPECT_TRUE(msg.heartbeat());

  Advance(absl::Seconds(10));
  beat_.stream().Send(7);
  ASSERT_TRUE(reader->Read(&msg));  // t = 10
  EXPECT_EQ(msg.data(), 7);

  Advance(absl::Seconds(5));   // t = 15: silent for 5 s only
  Advance(absl::Seconds(10));  // t = 25: silent for 15 s
  ASSERT_TRUE(reader->Read(&msg));
  EXPECT_TRUE(msg.heartbeat());

  Advance(absl::Seconds(15));  // t = 40
  ASSERT_TRUE(reader->Read(&msg));
  EXPECT_TRUE(msg.heartbeat());
  ctx.TryCancel();
  reader->Finish().IgnoreError();
}

}  // namespace
}  // namespace trainyard::server

// Copyright 2026 Trainyard authors.
#include "common/server/pull_stream.h"

#include <deque>
#include <initializer_list>
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

  // Values to send, one per message.
  void Send(std::initializer_list<int> data) {
    {
      absl::MutexLock lock(&data_mu_);
      pending_.insert(pending_.end(), data);
    }
    Wake();
  }

 protected:
  Step Next(bool heartbeat_due) override {
    absl::MutexLock lock(&data_mu_);
    Step step;
    if (!pending_.empty()) {
      step.message.emplace().set_data(pending_.front());
      pending_.pop_front();
      step.more = !pending_.empty();
    } else if (heartbeat_due || !started_) {
      step.message.emplace().set_heartbeat(true);
    }
    started_ = true;
    return step;
  }

 private:
  absl::Mutex data_mu_;
  std::deque<int> pending_ ABSL_GUARDED_BY(data_mu_);
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
  beat_.stream().Send({7});
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

// A backlog (Step::more) is sent message after message; min_interval only
// spaces out a trickle. Before, a reader that had fallen behind got one batch
// per interval and never caught up (job-control's event stream at 1,000 jobs).
TEST_F(PullStreamTest, BacklogIsSentWithoutWaitingForTheInterval) {
  grpc::ClientContext ctx;
  // Only bounds a failing test; a passing one never waits on wall time.
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto reader = stub_->Beat(&ctx, BeatRequest());
  BeatResponse msg;
  ASSERT_TRUE(reader->Read(&msg));  // t = 0: the first heartbeat
  beat_.stream().Send({1, 2, 3});
  Advance(absl::Seconds(1));    // 1 goes one interval after the heartbeat,
  for (int want : {1, 2, 3}) {  // 2 and 3 at once: the clock stays at 1 s

    ASSERT_TRUE(reader->Read(&msg));
    EXPECT_EQ(msg.data(), want);
  }
  // Without a backlog the interval holds again.
  beat_.stream().Send({4});
  Advance(absl::Seconds(1));
  ASSERT_TRUE(reader->Read(&msg));
  EXPECT_EQ(msg.data(), 4);
  ctx.TryCancel();
  reader->Finish().IgnoreError();
}

}  // namespace
}  // namespace trainyard::server

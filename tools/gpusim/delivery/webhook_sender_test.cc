// Copyright 2026 Trainyard authors.
//
// The sender against a scripted transport (answers and connection errors on
// demand) and against a real HTTP receiver that is down for a while. Time is
// a FakeClock: retries wait on the Scheduler and run when the test moves the
// clock and calls RunDue(); the test waits for the sender threads with
// WaitIdle(), a condition, never a sleep.
#include "tools/gpusim/delivery/webhook_sender.h"

#include <atomic>
#include <map>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/http/server.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/gpusim/delivery/scripted_transport.h"

namespace trainyard::gpusim {
namespace {

using ::testing::ElementsAre;
using testing::Request;
using testing::ScriptedTransport;
using testing::Status;

constexpr absl::Duration kWait = absl::Seconds(60);  // catches hangs only

using testing::TestSecret;

class WebhookSenderTest : public ::testing::Test {
 protected:
  WebhookSenderTest() : scheduler_(clock_) {}
  void StartSender(SenderOptions options = {}) {
    sender_ = std::make_unique<WebhookSender>(clock_, wall_, scheduler_,
                                              transport_, options);
    sender_->Start();
  }
  // Moves the clock, runs due retries and lets the senders finish.
  void Advance(absl::Duration d) {
    clock_.Advance(d);
    wall_.Advance(d);
    scheduler_.RunDue();
    ASSERT_TRUE(sender_->WaitIdle(kWait));
  }
  void Enqueue(WebhookSender::OutboxId box, std::string id) {
    sender_->Enqueue(box, id, absl::StrCat("{\"id\":\"", id, "\"}"),
                     clock_.Now());
  }

  FakeClock clock_;  // Suite time.
  // Real time, a year away from the suite's: signatures use this one.
  FakeClock wall_{absl::FromUnixSeconds(1796000000)};
  Scheduler scheduler_;
  ScriptedTransport transport_;
  std::unique_ptr<WebhookSender> sender_;
};

TEST_F(WebhookSenderTest, DeliversInOrderSignedAtSendTime) {
  StartSender();
  std::atomic<int> drained{0};
  auto box = sender_->Open("http://h:1/v1/webhooks/runpod/j1", TestSecret(),
                           [&] { ++drained; });
  std::vector<std::string> want;
  for (int i = 1; i <= 50; ++i) {
    want.push_back(absl::StrCat("evt_1_", i));
    Enqueue(box, want.back());
  }
  ASSERT_TRUE(sender_->WaitIdle(kWait));
  EXPECT_EQ(transport_.ids(), want);
  for (const Request& r : transport_.requests()) {
    EXPECT_EQ(r.url, "http://h:1/v1/webhooks/runpod/j1");
    EXPECT_OK(webhook::Verify(TestSecret(), r.id, absl::StrCat(r.timestamp),
                              r.signature, r.body, wall_.Now()));
  }
  EXPECT_GE(drained.load(), 1);
  EXPECT_EQ(sender_->Pending(box), 0u);
  SenderStats stats = sender_->Stats();
  EXPECT_EQ(stats.delivered, 50);
  EXPECT_EQ(stats.enqueued, 50);
  EXPECT_EQ(stats.queued, 0);
  EXPECT_EQ(stats.delivery_lag.count(), 50);
}

// webhooks.md: webhook-timestamp is real wall-clock time, never the suite's
// scaled time, so processes with different time origins still agree.
TEST_F(WebhookSenderTest, SignsWithWallClockTimeNotSuiteTime) {
  StartSender();
  auto box = sender_->Open("http://h:1/x", TestSecret());
  Enqueue(box, "evt_1_1");
  ASSERT_TRUE(sender_->WaitIdle(kWait));
  std::vector<Request> requests = transport_.requests();
  ASSERT_EQ(requests.size(), 1u);
  const Request& r = requests[0];
  EXPECT_EQ(r.timestamp, absl::ToUnixSeconds(wall_.Now()));
  EXPECT_OK(webhook::Verify(TestSecret(), r.id, absl::StrCat(r.timestamp),
                            r.signature, r.body, wall_.Now()));
  EXPECT_FALSE(webhook::Verify(TestSecret(), r.id, absl::StrCat(r.timestamp),
                               r.signature, r.body, clock_.Now())
                   .ok());
}

TEST_F(WebhookSenderTest, RetriesKeepTheIdAndBodyAndSignAgain) {
  transport_.SetAnswer([](const Request&, int n) {
    return n <= 3 ? Status(503, /*retry_after=*/7) : Status(200);
  });
  StartSender();
  auto box = sender_->Open("http://h:1/x", TestSecret());
  Enqueue(box, "evt_1_1");
  Enqueue(box, "evt_1_2");
  ASSERT_TRUE(sender_->WaitIdle(kWait));
  EXPECT_THAT(transport_.ids(), ElementsAre("evt_1_1"));
  // Retry-After (7 s) is longer than the backoff: nothing before it.
  EXPECT_EQ(scheduler_.NextDue(), clock_.Now() + absl::Seconds(7));
  Advance(absl::Seconds(6));
  EXPECT_EQ(transport_.requests().size(), 1u);
  Advance(absl::Seconds(1));
  Advance(absl::Seconds(7));
  Advance(absl::Seconds(7));
  EXPECT_THAT(transport_.ids(), ElementsAre("evt_1_1", "evt_1_1", "evt_1_1",
                                            "evt_1_1", "evt_1_2"));
  std::vector<Request> r = transport_.requests();
  for (int i = 1; i < 4; ++i) {
    EXPECT_EQ(r[i].body, r[0].body);
    EXPECT_EQ(r[i].timestamp, r[i - 1].timestamp + 7);  // re-signed
    EXPECT_NE(r[i].signature, r[i - 1].signature);
    EXPECT_OK(webhook::Verify(TestSecret(), r[i].id,
                              absl::StrCat(r[i].timestamp), r[i].signature,
                              r[i].body, wall_.Now()));
  }
  SenderStats stats = sender_->Stats();
  EXPECT_EQ(stats.retries, 3);
  EXPECT_EQ(stats.delivered, 2);
  EXPECT_EQ(stats.attempts, 5);
}

TEST_F(WebhookSenderTest, ConnectionErrorsBackOffExponentially) {
  transport_.SetAnswer(
      [](const Request&, int n) -> absl::StatusOr<http::HttpResponse> {
        if (n <= 5) return absl::UnavailableError("connection refused");
        return Status(200);
      });
  StartSender();
  auto box = sender_->Open("http://h:1/x", TestSecret());
  Enqueue(box, "evt_1_1");
  ASSERT_TRUE(sender_->WaitIdle(kWait));
  for (int failures = 1; failures <= 5; ++failures) {
    absl::Duration ceiling = absl::Seconds(1 << (failures - 1));
    absl::Duration delay = scheduler_.NextDue() - clock_.Now();
    EXPECT_GE(delay, ceiling / 2) << failures;
    EXPECT_LE(delay, ceiling) << failures;
    Advance(delay);
  }
  EXPECT_EQ(transport_.requests().size(), 6u);
  EXPECT_EQ(sender_->Stats().connection_errors, 5);
  EXPECT_EQ(sender_->Stats().delivered, 1);
}

TEST_F(WebhookSenderTest, FinalAnswersAreNeverRetried) {
  transport_.SetAnswer([](const Request& r, int) {
    std::map<std::string, int> answers = {
        {"evt_1_1", 400}, {"evt_1_2", 401}, {"evt_1_3", 413}, {"evt_1_4", 415}};
    auto it = answers.find(r.id);
    return Status(it == answers.end() ? 204 : it->second);
  });
  StartSender();
  auto box = sender_->Open("http://h:1/x", TestSecret());
  for (int i = 1; i <= 5; ++i) Enqueue(box, absl::StrCat("evt_1_", i));
  ASSERT_TRUE(sender_->WaitIdle(kWait));
  Advance(absl::Hours(1));
  EXPECT_THAT(transport_.ids(), ElementsAre("evt_1_1", "evt_1_2", "evt_1_3",
                                            "evt_1_4", "evt_1_5"));
  EXPECT_EQ(sender_->Stats().rejected, 4);
  EXPECT_EQ(sender_->Stats().delivered, 1);
  EXPECT_EQ(sender_->Stats().retries, 0);
}

TEST_F(WebhookSenderTest, CloseDropsWhatIsLeft) {
  transport_.SetAnswer([](const Request&, int) { return Status(503); });
  StartSender();
  auto box = sender_->Open("http://h:1/x", TestSecret());
  for (int i = 1; i <= 3; ++i) Enqueue(box, absl::StrCat("evt_1_", i));
  ASSERT_TRUE(sender_->WaitIdle(kWait));
  EXPECT_EQ(sender_->Pending(box), 3u);
  sender_->Close(box);
  EXPECT_EQ(sender_->Pending(box), 0u);
  Advance(absl::Hours(1));
  EXPECT_EQ(transport_.requests().size(), 1u);
  EXPECT_EQ(sender_->Stats().dropped, 3);
  Enqueue(box, "evt_1_4");  // ignored once closed
  EXPECT_EQ(sender_->Stats().enqueued, 3);
}

TEST_F(WebhookSenderTest, GivesUpAfterTheLimitAndMovesOn) {
  transport_.SetAnswer([](const Request& r, int) {
    return r.id == "evt_1_1" ? Status(500) : Status(200);
  });
  StartSender({.backoff = {.max = absl::Seconds(10),
                           .give_up_after = absl::Minutes(1)}});
  auto box = sender_->Open("http://h:1/x", TestSecret());
  Enqueue(box, "evt_1_1");
  Enqueue(box, "evt_1_2");
  ASSERT_TRUE(sender_->WaitIdle(kWait));
  for (int i = 0; i < 20 && sender_->Stats().delivered == 0; ++i) {
    Advance(absl::Seconds(10));
  }
  EXPECT_EQ(sender_->Stats().dropped, 1);
  EXPECT_EQ(sender_->Stats().delivered, 1);
  EXPECT_EQ(transport_.ids().back(), "evt_1_2");
}

TEST_F(WebhookSenderTest, ManyPodsEachKeepTheirOrder) {
  // Every third answer fails once, to mix retries into the traffic.
  transport_.SetAnswer([](const Request&, int n) {
    return n % 3 == 0 ? Status(503, 0) : Status(200);
  });
  StartSender({.threads = 4});
  constexpr int kPods = 20, kEvents = 30;
  std::vector<WebhookSender::OutboxId> boxes;
  for (int p = 0; p < kPods; ++p) {
    boxes.push_back(
        sender_->Open(absl::StrCat("http://h:1/pod", p), TestSecret()));
  }
  for (int i = 1; i <= kEvents; ++i) {
    for (int p = 0; p < kPods; ++p) Enqueue(boxes[p], absl::StrCat(i));
  }
  for (int round = 0;
       round < 1000 && sender_->Stats().delivered < kPods * kEvents; ++round) {
    Advance(absl::Seconds(1));
  }
  ASSERT_EQ(sender_->Stats().delivered, kPods * kEvents);
  // Per pod: each id is delivered after all before it succeeded, i.e. the
  // sequence of ids seen is non-decreasing.
  std::map<std::string, int> last;
  for (const Request& r : transport_.requests()) {
    int id = std::stoi(r.id);
    EXPECT_GE(id, last[r.url]) << r.url;
    last[r.url] = id;
  }
}

// A real receiver over loopback that answers 503 while "down" and verifies
// signatures against the same clock.
TEST_F(WebhookSenderTest, RealReceiverDownThenUpLosesAndDuplicatesNothing) {
  std::atomic<bool> down{true};
  absl::Mutex mu;
  std::vector<std::string> stored;
  std::atomic<int> refused{0};
  http::HttpServer server(http::HttpServerOptions{});
  server.Handle(http::Method::kPost, "/v1/webhooks/runpod/{job}",
                [&](const http::HttpRequest& req) {
                  if (down) {
                    ++refused;
                    http::HttpResponse r = http::JsonError(503, "draining");
                    r.SetRetryAfter(absl::Seconds(5));
                    return r;
                  }
                  absl::Status ok = webhook::Verify(
                      TestSecret(), req.Header("webhook-id"),
                      req.Header("webhook-timestamp"),
                      req.Header("webhook-signature"), req.body, wall_.Now());
                  if (!ok.ok()) return http::JsonError(401, "bad signature");
                  absl::MutexLock lock(&mu);
                  stored.emplace_back(req.Header("webhook-id"));
                  return http::HttpResponse{.status = 200};
                });
  ASSERT_OK_AND_ASSIGN(int port, server.Start());
  HttpTransport transport;
  WebhookSender sender(clock_, wall_, scheduler_, transport, {.threads = 2});
  sender.Start();
  auto box = sender.Open(
      absl::StrCat("http://127.0.0.1:", port, "/v1/webhooks/runpod/j1"),
      TestSecret());
  std::vector<std::string> want;
  for (int i = 1; i <= 10; ++i) {
    want.push_back(absl::StrCat("evt_1_", i));
    sender.Enqueue(box, want.back(), absl::StrCat("{\"seq\":", i, "}"),
                   clock_.Now());
  }
  ASSERT_TRUE(sender.WaitIdle(kWait));
  for (int i = 0; i < 3; ++i) {  // down for a while: retries keep failing
    clock_.Advance(absl::Minutes(1));
    scheduler_.RunDue();
    ASSERT_TRUE(sender.WaitIdle(kWait));
  }
  EXPECT_EQ(refused.load(), 4);
  down = false;
  clock_.Advance(absl::Minutes(5));
  scheduler_.RunDue();
  ASSERT_TRUE(sender.WaitIdle(kWait));
  absl::MutexLock lock(&mu);
  EXPECT_EQ(stored, want);
  EXPECT_EQ(sender.Stats().delivered, 10);
  sender.Stop();
  server.Stop();
}

}  // namespace
}  // namespace trainyard::gpusim

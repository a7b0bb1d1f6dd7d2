// Copyright 2026 Trainyard authors.
//
// The Notifier against a real local HTTP receiver and a real file.
#include "common/notify/notifier.h"

#include <atomic>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/http/server.h"
#include "common/notify/sinks.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace trainyard::notify {
namespace {

using ::testing::HasSubstr;

// A Slack-like receiver that fails the first `failures` posts with 503.
class Receiver {
 public:
  explicit Receiver(int failures) : failures_(failures) {
    server_.Handle(http::Method::kPost, "/hooks/{team}",
                   [this](const http::HttpRequest& r) {
                     http::HttpResponse out;
                     absl::MutexLock lock(&mu_);
                     if (failures_ > 0) {
                       --failures_;
                       out.status = 503;
                       return out;
                     }
                     bodies_.push_back(r.path + " " + r.body);
                     out.body = "ok";
                     return out;
                   });
    port_ = *server_.Start();
  }
  ~Receiver() { server_.Stop(); }
  std::string Url(std::string team) const {
    return absl::StrCat("http://127.0.0.1:", port_, "/hooks/", team);
  }
  std::vector<std::string> bodies() {
    absl::MutexLock lock(&mu_);
    return bodies_;
  }

 private:
  http::HttpServer server_{http::HttpServerOptions{}};
  int port_ = 0;
  absl::Mutex mu_;
  int failures_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> bodies_ ABSL_GUARDED_BY(mu_);
};

Notification Note(std::string destination = "") {
  return {"QUEUE_POSITION_ONE",
          "j-1",
          "ana",
          "Your job is \"next\"!",
          absl::FromUnixSeconds(1764385200),
          std::move(destination)};
}

RetryPolicy Fast() {
  RetryPolicy p;
  p.initial_backoff = absl::Milliseconds(1);
  p.max_attempts = 3;
  return p;
}

TEST(Notifier, R_Q_07_WebhookRetriesTransientFailuresAndRecordsStatus) {
  Receiver receiver(/*failures=*/2);
  std::vector<std::unique_ptr<Sink>> sinks;
  sinks.push_back(std::make_unique<WebhookSink>(receiver.Url("default")));
  Notifier notifier(std::move(sinks), Fast());
  notifier.Send(Note());
  notifier.Flush();
  ASSERT_EQ(receiver.bodies().size(), 1u);
  EXPECT_EQ(receiver.bodies()[0],
            "/hooks/default {\"text\":\"Your job is \\\"next\\\"!\"}");
  auto records = notifier.Deliveries();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_TRUE(records[0].delivered);
  EXPECT_EQ(records[0].attempts, 3);
  EXPECT_THAT(records[0].last_error, HasSubstr("503"));
  EXPECT_EQ(notifier.delivered(), 1);
}

TEST(Notifier, R_Q_07_GivesUpAfterMaxAttemptsAndUsesTheUsersOwnUrl) {
  Receiver receiver(/*failures=*/5);
  std::vector<std::unique_ptr<Sink>> sinks;
  sinks.push_back(std::make_unique<WebhookSink>(""));
  Notifier notifier(std::move(sinks), Fast());
  notifier.Send(Note(receiver.Url("ana")));
  notifier.Flush();
  auto records = notifier.Deliveries();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_FALSE(records[0].delivered);
  EXPECT_EQ(records[0].attempts, 3);
  EXPECT_EQ(notifier.failed(), 1);
  // Two failures left; the next one gets through on its third try.
  notifier.Send(Note(receiver.Url("ana")));
  notifier.Flush();
  ASSERT_EQ(receiver.bodies().size(), 1u);
  EXPECT_THAT(receiver.bodies()[0], HasSubstr("/hooks/ana "));
}

TEST(Notifier, NoUrlIsAFinalFailure) {
  std::vector<std::unique_ptr<Sink>> sinks;
  sinks.push_back(std::make_unique<WebhookSink>(""));
  Notifier notifier(std::move(sinks), Fast());
  DeliveryOutcome outcome;
  notifier.Send(Note(), [&](const DeliveryOutcome& o) { outcome = o; });
  notifier.Flush();
  ASSERT_EQ(notifier.Deliveries().size(), 1u);
  EXPECT_EQ(notifier.Deliveries()[0].attempts, 1);
  EXPECT_FALSE(notifier.Deliveries()[0].delivered);
  // The sender's outcome says so, naming the sink.
  EXPECT_FALSE(outcome.delivered);
  EXPECT_EQ(outcome.attempts, 1);
  EXPECT_THAT(outcome.error, HasSubstr("webhook: "));
}

TEST(Notifier, R_Q_07_JsonlFileGetsOneLinePerNotification) {
  testing::TempDir dir;
  std::vector<std::unique_ptr<Sink>> sinks;
  sinks.push_back(std::make_unique<JsonlFileSink>(dir.Sub("n.jsonl")));
  Notifier notifier(std::move(sinks), Fast());
  notifier.Send(Note());
  notifier.Send(Note());
  notifier.Flush();
  std::ifstream in(dir.Sub("n.jsonl"));
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    EXPECT_EQ(line,
              "{\"time\":\"2025-11-29T03:00:00+00:00\",\"kind\":\"QUEUE_"
              "POSITION_ONE\",\"job_id\":\"j-1\",\"recipient\":\"ana\","
              "\"text\":\"Your job is \\\"next\\\"!\",\"destination\":\"\"}");
  }
  EXPECT_EQ(lines, 2);
}

// The sender learns when a notification is done with (job-control keeps its
// outbox entry until then); the id a sender gives is in the JSONL line.
TEST(Notifier, DoneIsCalledAfterDeliveryAndTheIdIsWritten) {
  testing::TempDir dir;
  std::vector<std::unique_ptr<Sink>> sinks;
  sinks.push_back(std::make_unique<JsonlFileSink>(dir.Sub("n.jsonl")));
  Notifier notifier(std::move(sinks), Fast());
  Notification n = Note();
  n.id = "job-1/1/notify/7/3";
  std::atomic<int> done = 0;
  notifier.Send(n, [&](const DeliveryOutcome& outcome) {
    std::ifstream in(dir.Sub("n.jsonl"));
    std::string line;
    if (std::getline(in, line) && absl::StrContains(line, n.id) &&
        outcome.delivered && outcome.attempts == 1 && outcome.error.empty()) {
      ++done;
    }
  });
  notifier.Flush();
  EXPECT_EQ(done.load(), 1);
  std::ifstream in(dir.Sub("n.jsonl"));
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_THAT(line, HasSubstr(",\"id\":\"job-1/1/notify/7/3\"}"));
}

}  // namespace
}  // namespace trainyard::notify

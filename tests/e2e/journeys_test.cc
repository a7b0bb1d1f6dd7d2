// Copyright 2026 Trainyard authors.
//
// End-to-end journeys (issue 16): the real suite as processes (tests/e2e/
// suite.h), driven through yardctl and the gRPC APIs, with faults injected in
// gpusim, at 300x suite time. Each journey starts its own suite and is
// bounded (yardctl runs under `timeout`).
//
// yardctl's --wait and watch follow the job with JobService.WatchJobs (see
// tools/yardctl/follow.cc); the journeys read the dashboard's parts from
// metrics and cost directly.
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/suite.h"
#include "trainyard/cost/v1/cost.grpc.pb.h"
#include "trainyard/jobs/v1/jobs.grpc.pb.h"
#include "trainyard/metrics/v1/metrics.grpc.pb.h"
#include "trainyard/scheduler/v1/scheduler.grpc.pb.h"

namespace trainyard::e2e {
namespace {

namespace v1 = ::trainyard::common::v1;
using ::testing::HasSubstr;
using ::testing::Not;

// The last `n` characters of the suite's logs, for failure messages.
std::string Tail(const Suite& suite, size_t n = 6000) {
  std::string logs = suite.Logs();
  return logs.size() > n ? logs.substr(logs.size() - n) : logs;
}

// A small job: 400 conversations, 1 epoch = 20 steps.
std::vector<std::string> Submit(const std::string& name,
                                std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {
      "submit",    "--name",           name,
      "--preset",  "balanced",         "--gpu",
      "h100_80gb", "--model",          "meta-llama/Meta-Llama-3-8B",
      "--dataset", "s3://e2e/x.jsonl", "--conversations",
      "400",       "--epochs",         "1"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// The job id yardctl submit printed (its first stdout line).
std::string JobId(const CliResult& r) {
  return std::string(
      absl::StripTrailingAsciiWhitespace(r.out.substr(0, r.out.find('\n'))));
}

jobs::v1::Job GetJob(Suite& suite, const std::string& id) {
  jobs::v1::GetJobRequest req;
  req.set_job_id(id);
  jobs::v1::GetJobResponse resp;
  grpc::ClientContext ctx;
  Suite::Authorize(ctx, "viewer");
  grpc::Status s = jobs::v1::JobService::NewStub(suite.Channel("jobs"))
                       ->GetJob(&ctx, req, &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return resp.job();
}

// Every event of a job, oldest first (all pages).
std::vector<metrics::v1::Event> AllEvents(Suite& suite, const std::string& id) {
  auto stub = metrics::v1::MetricsService::NewStub(suite.Channel("metrics"));
  metrics::v1::ListEventsRequest req;
  req.set_job_id(id);
  req.set_page_size(100);
  std::vector<metrics::v1::Event> out;
  do {
    metrics::v1::ListEventsResponse resp;
    grpc::ClientContext ctx;
    Suite::Authorize(ctx, "viewer");
    grpc::Status s = stub->ListEvents(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    if (!s.ok()) break;
    for (const auto& m : resp.events()) out.push_back(m.event());
    req.set_page_token(resp.next_page_token());
  } while (!req.page_token().empty());
  return out;
}

// Index of the first event whose message contains `text`, or -1.
int FindEvent(const std::vector<metrics::v1::Event>& events,
              const std::string& text, int from = 0) {
  for (int i = from; i < static_cast<int>(events.size()); ++i) {
    if (events[i].message().find(text) != std::string::npos) return i;
  }
  return -1;
}

// The pods gpusim has (its REST list), as "id status" strings.
std::vector<std::string> Pods(Suite& suite) {
  std::string body = suite.Gpusim("GET", "/v2/pods");
  std::vector<std::string> out;
  // A tiny scan of the JSON array: each pod has "id" then "status".
  size_t at = 0;
  while ((at = body.find("\"id\":\"", at)) != std::string::npos) {
    at += 6;
    std::string id = body.substr(at, body.find('"', at) - at);
    size_t st = body.find("\"status\":\"", at);
    if (st == std::string::npos) break;
    st += 10;
    out.push_back(id + " " + body.substr(st, body.find('"', st) - st));
  }
  return out;
}

// Waits (bounded) for the single pod gpusim rents, returns its id.
std::string WaitForPod(Suite& suite) {
  for (int i = 0; i < 2000; ++i) {
    std::vector<std::string> pods = Pods(suite);
    if (!pods.empty()) return pods[0].substr(0, pods[0].find(' '));
    absl::SleepFor(absl::Milliseconds(5));
  }
  return "";
}

// Polls GetJob (bounded) until `done`.
template <typename Pred>
jobs::v1::Job WaitForJob(Suite& suite, const std::string& id, Pred done) {
  jobs::v1::Job job;
  for (int i = 0; i < 1200; ++i) {
    job = GetJob(suite, id);
    if (done(job)) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return job;
}

// Sets the scheduler's concurrency limit (admin).
void SetConcurrency(Suite& suite, int limit) {
  auto sched =
      scheduler::v1::SchedulerService::NewStub(suite.Channel("scheduler"));
  scheduler::v1::GetQueueSettingsResponse settings;
  {
    grpc::ClientContext ctx;
    Suite::Authorize(ctx, "admin");
    ASSERT_TRUE(sched->GetQueueSettings(&ctx, {}, &settings).ok());
  }
  scheduler::v1::UpdateQueueSettingsRequest update;
  *update.mutable_settings() = settings.settings();
  update.mutable_settings()->set_concurrency_limit(limit);
  update.mutable_update_mask()->add_paths("concurrency_limit");
  grpc::ClientContext ctx;
  Suite::Authorize(ctx, "admin");
  scheduler::v1::UpdateQueueSettingsResponse resp;
  grpc::Status s = sched->UpdateQueueSettings(&ctx, update, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
}

scheduler::v1::QueueEntry QueueEntry(Suite& suite, const std::string& id) {
  scheduler::v1::GetQueueEntryRequest req;
  req.set_job_id(id);
  scheduler::v1::GetQueueEntryResponse resp;
  grpc::ClientContext ctx;
  Suite::Authorize(ctx, "viewer");
  grpc::Status s =
      scheduler::v1::SchedulerService::NewStub(suite.Channel("scheduler"))
          ->GetQueueEntry(&ctx, req, &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return resp.entry();
}

cost::v1::GetJobCostResponse JobCost(Suite& suite, const std::string& id) {
  cost::v1::GetJobCostRequest req;
  req.set_job_id(id);
  cost::v1::GetJobCostResponse resp;
  grpc::ClientContext ctx;
  Suite::Authorize(ctx, "viewer");
  grpc::Status s = cost::v1::CostService::NewStub(suite.Channel("cost"))
                       ->GetJobCost(&ctx, req, &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return resp;
}

// The job's cost once final: job-control finalizes it in an effect after the
// job reached its terminal state, so a reader right after may see it a
// moment before (bounded wait).
cost::v1::GetJobCostResponse FinalCost(Suite& suite, const std::string& id) {
  cost::v1::GetJobCostResponse cost;
  for (int i = 0; i < 200; ++i) {
    cost = JobCost(suite, id);
    if (cost.cost().final()) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return cost;
}

cost::v1::ListLedgerEntriesResponse Ledger(Suite& suite,
                                           const std::string& id) {
  cost::v1::ListLedgerEntriesRequest req;
  req.set_job_id(id);
  req.set_page_size(1000);
  cost::v1::ListLedgerEntriesResponse resp;
  grpc::ClientContext ctx;
  Suite::Authorize(ctx, "viewer");
  grpc::Status s = cost::v1::CostService::NewStub(suite.Channel("cost"))
                       ->ListLedgerEntries(&ctx, req, &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return resp;
}

bool HasPhase(const cost::v1::ListLedgerEntriesResponse& ledger,
              v1::CostPhase phase) {
  for (const auto& e : ledger.entries()) {
    if (e.phase() == phase) return true;
  }
  return false;
}

// Steps of the effective train_loss curve, from `yardctl curve --export csv`.
std::vector<int64_t> CurveSteps(Suite& suite, const std::string& id) {
  CliResult r = suite.Yardctl({"curve", id, "--export", "csv", "--series",
                               "train_loss", "--max-points", "10000"},
                              "viewer");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<int64_t> steps;
  std::vector<std::string> rows =
      absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  for (size_t i = 1; i < rows.size(); ++i) {
    int64_t step = 0;
    if (absl::SimpleAtoi(rows[i].substr(0, rows[i].find(',')), &step)) {
      steps.push_back(step);
    }
  }
  return steps;
}

// The job's current step, from metrics.
int64_t Step(Suite& suite, const std::string& id) {
  metrics::v1::GetProgressRequest req;
  req.set_job_id(id);
  metrics::v1::GetProgressResponse resp;
  grpc::ClientContext ctx;
  Suite::Authorize(ctx, "viewer");
  grpc::Status s =
      metrics::v1::MetricsService::NewStub(suite.Channel("metrics"))
          ->GetProgress(&ctx, req, &resp);
  return s.ok() ? resp.progress().step() : 0;
}

// Waits (bounded) until the job trains past `step`.
jobs::v1::Job WaitForTrainingStep(Suite& suite, const std::string& id,
                                  int64_t step) {
  return WaitForJob(suite, id, [&](const jobs::v1::Job& j) {
    return v1::JobState(j.state()) >= v1::JOB_STATE_COMPLETED ||
           (j.state() == v1::JOB_STATE_TRAINING && Step(suite, id) > step);
  });
}

// Journey 1 (R-X-08, R-STAGE-01, R-DASH-04, R-DASH-06, R-X-04, R-EVT-01): a CI
// pipeline's `submit --wait` exits 0; four stages completed, the curve, the
// final cost equal to the ledger's sum, the event log in order.
TEST(Journeys, R_X_08_J1_SubmitWaitCompletesWithStagesCurveCostAndStory) {
  Suite suite;
  ASSERT_OK(suite.status());
  CliResult r = suite.Yardctl(Submit("journey-1", {"--wait"}));
  ASSERT_EQ(r.exit_code, 0) << r.err << Tail(suite);
  const std::string id = JobId(r);
  ASSERT_THAT(id, HasSubstr("job-"));
  EXPECT_EQ(GetJob(suite, id).state(), v1::JOB_STATE_COMPLETED);

  // Stages: all four completed.
  metrics::v1::GetStagesRequest sreq;
  sreq.set_job_id(id);
  metrics::v1::GetStagesResponse stages;
  {
    grpc::ClientContext ctx;
    Suite::Authorize(ctx, "viewer");
    ASSERT_TRUE(metrics::v1::MetricsService::NewStub(suite.Channel("metrics"))
                    ->GetStages(&ctx, sreq, &stages)
                    .ok());
  }
  ASSERT_EQ(stages.stages().stages_size(), 4);
  for (const auto& s : stages.stages().stages()) {
    EXPECT_EQ(s.state(), v1::STAGE_STATE_COMPLETED) << s.ShortDebugString();
  }

  // The curve: one CSV row per step (20 steps, no downsampling).
  CliResult curve = suite.Yardctl({"curve", id, "--export", "csv"}, "viewer");
  ASSERT_EQ(curve.exit_code, 0) << curve.err;
  std::vector<std::string> rows =
      absl::StrSplit(curve.out, '\n', absl::SkipEmpty());
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows[0], "step,train_loss,val_loss");
  EXPECT_EQ(rows.size(), 21u) << curve.out;

  // Final cost = the ledger's sum, through yardctl and through the API.
  cost::v1::GetJobCostResponse cost = FinalCost(suite, id);
  cost::v1::ListLedgerEntriesResponse ledger = Ledger(suite, id);
  EXPECT_TRUE(cost.cost().final());
  EXPECT_GT(cost.cost().spend().micros(), 0);
  EXPECT_EQ(cost.cost().spend().micros(), ledger.total_amount().micros());
  int64_t sum = 0;
  for (const auto& e : ledger.entries()) sum += e.amount().micros();
  EXPECT_EQ(sum, ledger.total_amount().micros());
  CliResult c = suite.Yardctl({"cost", id}, "viewer");
  EXPECT_EQ(c.exit_code, 0) << c.err;
  EXPECT_THAT(c.out, HasSubstr(", final"));

  // R-LIST-01, R-LIST-07: job-control's copies. Right after --wait the job
  // shows every step done and the cost copied while it ran; then the final
  // figure, equal to cost's.
  CliResult got = suite.Yardctl({"get", id}, "viewer");
  EXPECT_EQ(got.exit_code, 0) << got.err;
  EXPECT_THAT(got.out, HasSubstr("step 20/20 (100.0%)"));
  EXPECT_THAT(got.out, Not(HasSubstr("spend -"))) << got.out;
  jobs::v1::Job copied = WaitForJob(
      suite, id, [](const jobs::v1::Job& j) { return j.cost().final(); });
  EXPECT_TRUE(copied.cost().final());
  EXPECT_EQ(copied.cost().spend().micros(), cost.cost().spend().micros());
  EXPECT_EQ(copied.cost().estimate().low().micros(),
            cost.cost().estimate().low().micros());
  EXPECT_DOUBLE_EQ(copied.progress().percent(), 100);
  CliResult list = suite.Yardctl({"list", "-o", "csv"}, "viewer");
  EXPECT_EQ(list.exit_code, 0) << list.err;
  std::vector<std::string> lines =
      absl::StrSplit(list.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << list.out;
  // ...,PROGRESS,COST: "100%,$0.42".
  std::vector<std::string> fields = absl::StrSplit(lines[1], ',');
  ASSERT_GE(fields.size(), 2u);
  EXPECT_EQ(fields[fields.size() - 2], "100%") << list.out;
  EXPECT_EQ(fields.back().substr(0, 1), "$") << list.out;

  // The story, in order, gapless.
  std::vector<metrics::v1::Event> events = AllEvents(suite, id);
  ASSERT_FALSE(events.empty());
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].job_seq(), i + 1);
  }
  int queued = FindEvent(events, "Queued");
  int provisioning = FindEvent(events, "Provisioning", queued);
  int preprocessing =
      FindEvent(events, "Downloading training file", provisioning);
  int training = FindEvent(events, "Training epoch", preprocessing);
  int complete = FindEvent(events, "Training complete", training);
  EXPECT_EQ(queued, 0);
  EXPECT_GT(provisioning, queued);
  EXPECT_GT(preprocessing, provisioning);
  EXPECT_GT(training, preprocessing);
  EXPECT_GT(complete, training);
  CliResult ev =
      suite.Yardctl({"events", id, "--type", "info", "--all"}, "viewer");
  EXPECT_EQ(ev.exit_code, 0) << ev.err;
  EXPECT_THAT(ev.out, HasSubstr("Training complete"));
}

// Journey 2 (R-Q-01, R-Q-03, R-X-03): four jobs, three slots. The fourth
// waits with a position, an ETA and a confidence, starts when a slot frees,
// and the estimate's error is in the analytics.
TEST(Journeys, R_Q_01_J2_FourthJobQueuesWithEtaAndStartsWhenSlotFrees) {
  Suite suite;
  ASSERT_OK(suite.status());
  std::vector<std::string> ids;
  for (int i = 1; i <= 4; ++i) {
    CliResult r = suite.Yardctl(Submit(absl::StrCat("journey-2-", i)));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ids.push_back(JobId(r));
  }
  auto sched =
      scheduler::v1::SchedulerService::NewStub(suite.Channel("scheduler"));
  scheduler::v1::GetQueueEntryRequest qreq;
  qreq.set_job_id(ids[3]);
  scheduler::v1::GetQueueEntryResponse entry;
  // job-control hands a new job to the scheduler through its outbox, after
  // the create is answered: poll (bounded) until the scheduler has it.
  grpc::Status s;
  for (int i = 0; i < 1200; ++i) {
    grpc::ClientContext ctx;
    Suite::Authorize(ctx, "viewer");
    s = sched->GetQueueEntry(&ctx, qreq, &entry);
    if (s.error_code() != grpc::StatusCode::NOT_FOUND) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(entry.entry().position(), 1);
  EXPECT_TRUE(entry.entry().has_estimated_start_time());
  EXPECT_NE(entry.entry().confidence(), scheduler::v1::CONFIDENCE_UNSPECIFIED);
  CliResult q = suite.Yardctl({"queue"}, "viewer");
  EXPECT_EQ(q.exit_code, 0) << q.err;
  EXPECT_THAT(q.out, HasSubstr("Slots 3 of 3 in use"));
  EXPECT_THAT(q.out, HasSubstr(ids[3]));

  CliResult w = suite.Yardctl({"watch", ids[3]}, "viewer");
  ASSERT_EQ(w.exit_code, 0) << w.err << Tail(suite);
  jobs::v1::Job fourth = GetJob(suite, ids[3]);
  absl::Time first_end = absl::InfiniteFuture();
  for (int i = 0; i < 3; ++i) {
    jobs::v1::Job j = GetJob(suite, ids[i]);
    if (j.has_end_time()) {
      first_end =
          std::min(first_end, absl::FromUnixSeconds(j.end_time().seconds()));
    }
  }
  EXPECT_GE(absl::FromUnixSeconds(fourth.start_time().seconds() + 1), first_end)
      << "the fourth job started before any slot freed";

  scheduler::v1::GetQueueAnalyticsResponse analytics;
  grpc::ClientContext ctx;
  Suite::Authorize(ctx, "viewer");
  ASSERT_TRUE(sched->GetQueueAnalytics(&ctx, {}, &analytics).ok());
  EXPECT_GE(analytics.estimate_accuracy().sample_count(), 1)
      << analytics.ShortDebugString();
}

// Journey 6 (R-STAGE-06, R-X-08): CUDA_OOM during training makes `submit
// --wait` exit 1 naming the failure; a retry from training completes.
TEST(Journeys, R_STAGE_06_J6_OomFailsWaitWithOneThenRetryCompletes) {
  Suite suite;
  ASSERT_OK(suite.status());
  CliResult r;
  std::thread submit(
      [&] { r = suite.Yardctl(Submit("journey-6", {"--wait"})); });
  std::string pod = WaitForPod(suite);
  ASSERT_FALSE(pod.empty());
  std::string answer = suite.Gpusim("POST", "/admin/pods/" + pod + "/faults",
                                    R"({"fail_at": "training:50"})");
  submit.join();
  ASSERT_THAT(answer, HasSubstr(pod));
  ASSERT_EQ(r.exit_code, 1) << r.out << r.err << Tail(suite);
  EXPECT_THAT(r.err, HasSubstr("CUDA_OOM"));
  EXPECT_THAT(r.err, HasSubstr("--from-stage"));
  const std::string id = JobId(r);
  jobs::v1::Job failed = GetJob(suite, id);
  EXPECT_EQ(failed.failure().stage(), v1::STAGE_TRAINING);

  CliResult retry =
      suite.Yardctl({"retry", id, "--from-stage", "training", "--wait"});
  EXPECT_EQ(retry.exit_code, 0) << retry.out << retry.err << Tail(suite);
  jobs::v1::Job done = GetJob(suite, id);
  EXPECT_EQ(done.state(), v1::JOB_STATE_COMPLETED);
  EXPECT_EQ(done.attempt(), 2);
}

// Journey 7 (R-CAN-01, R-CAN-02): cancel while queued, while provisioning and
// while training: each `cancel --wait` exits 2 and no pod is left running.
TEST(Journeys, R_CAN_02_J7_CancelQueuedProvisioningTrainingLeavesNoPod) {
  SuiteOptions options;
  // Provisioning lasts 10 suite minutes (2 s): long enough to cancel in it.
  options.flags["gpusim"] = {"--provision_delay=10m"};
  Suite suite(options);
  ASSERT_OK(suite.status());
  SetConcurrency(suite, 1);  // so the second job queues
  CliResult a = suite.Yardctl(Submit("journey-7-provisioning"));
  CliResult b = suite.Yardctl(Submit("journey-7-queued"));
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const std::string a_id = JobId(a), b_id = JobId(b);
  EXPECT_EQ(GetJob(suite, b_id).state(), v1::JOB_STATE_QUEUED);
  CliResult cb =
      suite.Yardctl({"cancel", b_id, "--reason", "testing", "--wait"});
  EXPECT_EQ(cb.exit_code, 2) << cb.out << cb.err;

  ASSERT_EQ(WaitForJob(suite, a_id,
                       [](const jobs::v1::Job& j) {
                         return j.state() == v1::JOB_STATE_PROVISIONING;
                       })
                .state(),
            v1::JOB_STATE_PROVISIONING);
  CliResult ca = suite.Yardctl(
      {"cancel", a_id, "--reason", "wrong_configuration", "--wait"});
  EXPECT_EQ(ca.exit_code, 2) << ca.out << ca.err << Tail(suite);

  // 100x the steps of the others: under load the 20 steps of 400
  // conversations could be over before a poll sees TRAINING.
  CliResult c =
      suite.Yardctl(Submit("journey-7-training", {"--conversations", "40000"}));
  ASSERT_EQ(c.exit_code, 0) << c.err;
  const std::string c_id = JobId(c);
  ASSERT_EQ(WaitForJob(suite, c_id,
                       [](const jobs::v1::Job& j) {
                         return j.state() == v1::JOB_STATE_TRAINING ||
                                j.state() == v1::JOB_STATE_COMPLETED;
                       })
                .state(),
            v1::JOB_STATE_TRAINING);
  CliResult cc = suite.Yardctl(
      {"cancel", c_id, "--reason", "other", "--reason-text", "e2e", "--wait"});
  EXPECT_EQ(cc.exit_code, 2) << cc.out << cc.err << Tail(suite);

  for (const std::string& pod : Pods(suite)) {
    EXPECT_THAT(pod, HasSubstr("TERMINATED")) << "a pod was left behind";
  }
  // A cancelled job cannot be cancelled again: one line naming the state.
  CliResult again = suite.Yardctl({"cancel", c_id, "--reason", "testing"});
  EXPECT_EQ(again.exit_code, 3);
  EXPECT_THAT(again.err, HasSubstr("FAILED_PRECONDITION"));
}

// Journey 3 (R-Q-05): a manager requests a promotion, cannot approve it
// himself, another manager approves; the job is #1 and starts next.
TEST(Journeys, R_Q_05_J3_PromotionRequestedApprovedByAnotherStartsNext) {
  SuiteOptions options;
  options.flags["gpusim"] = {"--provision_delay=10m"};
  Suite suite(options);
  ASSERT_OK(suite.status());
  SetConcurrency(suite, 1);
  std::vector<std::string> ids;
  for (const char* name :
       {"journey-3-running", "journey-3-first", "journey-3-vip"}) {
    CliResult r = suite.Yardctl(Submit(name, {"--conversations", "4000"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ids.push_back(JobId(r));
  }
  ASSERT_EQ(QueueEntry(suite, ids[2]).position(), 2);
  const std::string justification(120, 'x');
  CliResult p = suite.Yardctl({"promote", ids[2], "--reason", "client_deadline",
                               "--justification", justification, "-o", "json"},
                              "manager");
  ASSERT_EQ(p.exit_code, 0) << p.err;
  size_t at = p.out.find("\"promotionId\": \"");
  ASSERT_NE(at, std::string::npos) << p.out;
  at += 16;
  const std::string promotion = p.out.substr(at, p.out.find('"', at) - at);

  CliResult self = suite.Yardctl({"approve", promotion}, "manager");
  EXPECT_EQ(self.exit_code, 5) << self.out << self.err;
  EXPECT_THAT(self.err, HasSubstr("PERMISSION_DENIED"));
  CliResult engineer = suite.Yardctl({"approve", promotion}, "engineer");
  EXPECT_EQ(engineer.exit_code, 5) << engineer.err;

  CliResult ok =
      suite.Yardctl({"approve", promotion, "--comment", "go"}, "manager2");
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_THAT(ok.out, HasSubstr("is now #1"));
  scheduler::v1::QueueEntry vip = QueueEntry(suite, ids[2]);
  EXPECT_EQ(vip.position(), 1);
  EXPECT_TRUE(vip.promoted());

  // When the running job's slot frees, the promoted job starts, not the one
  // that was ahead of it.
  ASSERT_EQ(suite.Yardctl({"cancel", ids[0], "--reason", "testing", "--wait"})
                .exit_code,
            2);
  jobs::v1::Job started = WaitForJob(suite, ids[2], [](const jobs::v1::Job& j) {
    return j.state() != v1::JOB_STATE_QUEUED;
  });
  EXPECT_NE(started.state(), v1::JOB_STATE_QUEUED) << Tail(suite);
  EXPECT_EQ(GetJob(suite, ids[1]).state(), v1::JOB_STATE_QUEUED);
}

// Journey 4 (R-PAUSE-01..03, R-X-06): pause in training, resume on another
// GPU type and spot: the curve continues from the checkpoint step, the cost
// shows active compute and paused storage apart.
TEST(Journeys, R_PAUSE_02_J4_PauseResumeOnOtherGpuContinuesFromCheckpoint) {
  Suite suite;
  ASSERT_OK(suite.status());
  CliResult r = suite.Yardctl(
      Submit("journey-4", {"--on-demand", "--conversations", "8000"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string id = JobId(r);
  ASSERT_EQ(WaitForTrainingStep(suite, id, 20).state(), v1::JOB_STATE_TRAINING)
      << Tail(suite);
  CliResult p = suite.Yardctl({"pause", id, "--wait"});
  ASSERT_EQ(p.exit_code, 0) << p.out << p.err << Tail(suite);
  jobs::v1::Job paused = GetJob(suite, id);
  ASSERT_EQ(paused.state(), v1::JOB_STATE_PAUSED);
  const int64_t at = paused.pause().paused_at_step();
  EXPECT_GT(at, 0);

  CliResult resume =
      suite.Yardctl({"resume", id, "--gpu", "a100_80gb", "--spot", "--wait"});
  ASSERT_EQ(resume.exit_code, 0) << resume.out << resume.err << Tail(suite);
  EXPECT_THAT(resume.out, HasSubstr(absl::StrCat("from step ", at)));
  jobs::v1::Job done = GetJob(suite, id);
  EXPECT_EQ(done.spec().config().gpu_type(), v1::GPU_TYPE_A100_80GB);
  EXPECT_EQ(done.spec().config().pricing(), v1::PRICING_SPOT);

  // The effective curve: every step once, in order, through the pause.
  std::vector<int64_t> steps = CurveSteps(suite, id);
  ASSERT_FALSE(steps.empty());
  for (size_t i = 0; i < steps.size(); ++i) {
    ASSERT_EQ(steps[i], static_cast<int64_t>(i + 1)) << "at index " << i;
  }
  EXPECT_GE(
      FindEvent(AllEvents(suite, id), absl::StrCat("Resumed from step ", at)),
      0);

  cost::v1::GetJobCostResponse cost = JobCost(suite, id);
  EXPECT_GT(cost.paused_duration().seconds(), 0);
  cost::v1::ListLedgerEntriesResponse ledger = Ledger(suite, id);
  EXPECT_TRUE(HasPhase(ledger, v1::COST_PHASE_PAUSED_STORAGE))
      << ledger.ShortDebugString();
  bool h100 = false, a100 = false;
  for (const auto& e : ledger.entries()) {
    if (e.phase() != v1::COST_PHASE_ACTIVE_COMPUTE) continue;
    h100 |= e.gpu_type() == v1::GPU_TYPE_H100_80GB;
    a100 |= e.gpu_type() == v1::GPU_TYPE_A100_80GB;
  }
  EXPECT_TRUE(h100 && a100) << ledger.ShortDebugString();
  // Spend is compute only: paused storage is apart.
  int64_t compute = 0;
  for (const auto& e : ledger.entries()) {
    if (e.phase() != v1::COST_PHASE_PAUSED_STORAGE)
      compute += e.amount().micros();
  }
  EXPECT_EQ(cost.cost().spend().micros(), compute);
}

// Journey 5 (R-STAGE-05, R-X-04): a spot interruption injected in gpusim:
// RECOVERING, training resumes from the checkpoint, the cost has a recovery
// line.
TEST(Journeys, R_STAGE_05_J5_SpotInterruptionRecoversFromCheckpoint) {
  Suite suite;
  ASSERT_OK(suite.status());
  CliResult r = suite.Yardctl(Submit("journey-5", {"--conversations", "8000"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string id = JobId(r);
  std::string pod = WaitForPod(suite);
  ASSERT_FALSE(pod.empty());
  ASSERT_EQ(WaitForTrainingStep(suite, id, 110).state(), v1::JOB_STATE_TRAINING)
      << Tail(suite);
  ASSERT_THAT(suite.Gpusim("POST", "/admin/pods/" + pod + "/interrupt"),
              HasSubstr(pod));
  jobs::v1::Job recovering = WaitForJob(suite, id, [](const jobs::v1::Job& j) {
    return j.state() == v1::JOB_STATE_RECOVERING || j.attempt() > 1;
  });
  EXPECT_EQ(recovering.attempt(), 2) << Tail(suite);
  CliResult w = suite.Yardctl({"watch", id}, "viewer");
  ASSERT_EQ(w.exit_code, 0) << w.out << w.err << Tail(suite);
  EXPECT_THAT(w.out, HasSubstr("RECOVERING"));

  std::vector<metrics::v1::Event> events = AllEvents(suite, id);
  EXPECT_GE(FindEvent(events, "Resumed from step"), 0);
  cost::v1::ListLedgerEntriesResponse ledger = Ledger(suite, id);
  EXPECT_TRUE(HasPhase(ledger, v1::COST_PHASE_RECOVERY_OVERHEAD))
      << ledger.ShortDebugString();
}

// Journey 8 (R-X-05): a budget with action PAUSE pauses the job once spend
// reaches 100 % of it.
TEST(Journeys, R_X_05_J8_BudgetPausePausesAtLimit) {
  Suite suite;
  ASSERT_OK(suite.status());
  CliResult r =
      suite.Yardctl(Submit("journey-8", {"--conversations", "20000", "--budget",
                                         "1.50", "--budget-action", "pause"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string id = JobId(r);
  jobs::v1::Job j = WaitForJob(suite, id, [](const jobs::v1::Job& j) {
    return j.state() == v1::JOB_STATE_PAUSED ||
           (v1::JobState(j.state()) >= v1::JOB_STATE_COMPLETED &&
            j.state() != v1::JOB_STATE_PAUSING);
  });
  ASSERT_EQ(j.state(), v1::JOB_STATE_PAUSED) << Tail(suite);
  cost::v1::GetJobCostResponse cost = JobCost(suite, id);
  EXPECT_GE(cost.cost().spend().micros(), 1'500'000);
  EXPECT_EQ(cost.cost().budget().state(), v1::BUDGET_STATE_EXCEEDED);
}

// Journey 9 (R-X-01, R-X-02): SIGKILL of metrics and of job-control in the
// middle of journey 1: `submit --wait` still exits 0, the event log is
// gapless without duplicates, the cost equals the ledger.
TEST(Journeys, R_X_01_J9_KillMetricsAndJobsMidJourneyLosesNothing) {
  Suite suite;
  ASSERT_OK(suite.status());
  CliResult r;
  std::thread submit([&] {
    r = suite.Yardctl(
        Submit("journey-9", {"--conversations", "4000", "--wait"}));
  });
  std::string pod = WaitForPod(suite);
  std::string id;
  for (int i = 0; i < 200 && id.empty(); ++i) {
    std::string body = suite.Gpusim("GET", "/v2/pods/" + pod);
    size_t at = body.find("\"name\":\"");
    if (at != std::string::npos) {
      at += 8;
      std::string name = body.substr(at, body.find('"', at) - at);
      id = name.substr(0, name.rfind("-a"));
    }
  }
  ASSERT_FALSE(id.empty());
  WaitForTrainingStep(suite, id, 10);
  EXPECT_OK(suite.KillAndRestart("metrics"));
  WaitForTrainingStep(suite, id, 60);
  EXPECT_OK(suite.KillAndRestart("jobs"));
  submit.join();
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err << Tail(suite);
  EXPECT_EQ(JobId(r), id);

  std::vector<metrics::v1::Event> events = AllEvents(suite, id);
  std::set<std::string> event_ids;
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].job_seq(), i + 1);
    EXPECT_TRUE(event_ids.insert(events[i].event_id()).second)
        << "duplicate " << events[i].event_id();
  }
  // The container's events of attempt 1: seq 1..n without a gap.
  int64_t expected = 1;
  for (const auto& e : events) {
    if (e.source() != v1::EVENT_SOURCE_CONTAINER || e.attempt() != 1) continue;
    EXPECT_EQ(e.attempt_seq(), expected++);
  }
  cost::v1::GetJobCostResponse cost = FinalCost(suite, id);
  EXPECT_TRUE(cost.cost().final()) << Tail(suite);
  EXPECT_EQ(cost.cost().spend().micros(),
            Ledger(suite, id).total_amount().micros());
}

// A gpusim of the journey's own with --state_dir, on a port that stays the
// same across its restarts, on the suite's clock (scale 300, `origin`).
class StatefulGpusim {
 public:
  explicit StatefulGpusim(int64_t origin) : origin_(origin) {}

  absl::Status Start() {
    const std::string ports = dir_.Sub("gpusim.ports");
    std::remove(ports.c_str());
    auto p = testing::Subprocess::Start(
        {absl::StrCat(std::getenv("TRAINYARD_BINARY_DIR"),
                      "/tools/gpusim/gpusim"),
         absl::StrCat("--address=127.0.0.1:", port_), "--ports_file=" + ports,
         "--seed=7", "--time_scale=300",
         absl::StrCat("--time_origin=", origin_),
         "--state_dir=" + dir_.Sub("state")},
        dir_.Sub(absl::StrCat("gpusim-", starts_++, ".log")));
    if (!p.ok()) return p.status();
    process_ = std::make_unique<testing::Subprocess>(*std::move(p));
    for (int i = 0; i < 3000; ++i) {
      if (std::ifstream(ports) >> port_) return absl::OkStatus();
      if (process_->Wait(absl::ZeroDuration()).ok()) break;  // exited
      absl::SleepFor(absl::Milliseconds(5));
    }
    return absl::UnavailableError("gpusim did not start:\n" + process_->Log());
  }

  absl::Status KillAndRestart() {
    process_->Signal(SIGKILL);
    (void)process_->Wait(absl::Seconds(10));
    return Start();
  }

  std::string url() const { return absl::StrCat("http://127.0.0.1:", port_); }

 private:
  const int64_t origin_;
  testing::TempDir dir_;
  std::unique_ptr<testing::Subprocess> process_;
  int port_ = 0;
  int starts_ = 0;
};

// Journey 10 (issue 16, `make run` again): gpusim is killed in the middle of
// an on-demand job's training and started again on its state: the pod is
// back, its container continues the attempt from its checkpoint, the job
// completes (not PROVIDER_FAILURE), and the container's events of attempt 1
// are gapless.
TEST(Journeys, R_X_01_J10_GpusimRestartMidTrainingJobCompletes) {
  const int64_t origin = absl::ToUnixSeconds(absl::Now());
  StatefulGpusim gpusim(origin);
  ASSERT_OK(gpusim.Start());
  Suite suite({.time_origin = origin,
               .flags = {{"jobs", {"--provider_base_url=" + gpusim.url()}}}});
  ASSERT_OK(suite.status());
  CliResult r = suite.Yardctl(
      Submit("journey-10", {"--conversations", "4000", "--on-demand"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string id = JobId(r);
  ASSERT_EQ(WaitForTrainingStep(suite, id, 60).state(), v1::JOB_STATE_TRAINING)
      << Tail(suite);
  ASSERT_OK(gpusim.KillAndRestart());
  jobs::v1::Job done = WaitForJob(suite, id, [](const jobs::v1::Job& j) {
    return v1::JobState(j.state()) >= v1::JOB_STATE_COMPLETED;
  });
  ASSERT_EQ(done.state(), v1::JOB_STATE_COMPLETED)
      << done.ShortDebugString() << Tail(suite);
  EXPECT_EQ(done.attempt(), 1);

  std::vector<metrics::v1::Event> events = AllEvents(suite, id);
  EXPECT_GE(FindEvent(events, "Container restarted"), 0);
  int64_t expected = 1;
  for (const auto& e : events) {
    if (e.source() != v1::EVENT_SOURCE_CONTAINER || e.attempt() != 1) continue;
    EXPECT_EQ(e.attempt_seq(), expected++);
  }
  EXPECT_GE(FindEvent(events, "Training complete"), 0);
}

}  // namespace
}  // namespace trainyard::e2e

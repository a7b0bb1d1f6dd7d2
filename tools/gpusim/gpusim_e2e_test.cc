// Copyright 2026 Trainyard authors.
//
// gpusim against the real metrics-ingest, in process over loopback HTTP and
// gRPC with a real RocksDB (services/metrics/metrics_service_test.cc's
// pattern). Both share one FakeClock as suite time, so the test plays hours
// of training in milliseconds (the SimDriver jumps from timer to timer and
// waits for deliveries on a condition), while webhooks are signed and
// verified in real wall-clock time, as in production (webhooks.md).
//
// A "gate" HTTP server sits between the pods and metrics-ingest for the
// receiver-down test: while closed it answers 503 with Retry-After, as a
// draining metrics-ingest does.
#include <atomic>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/http/client.h"
#include "common/http/server.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "common/testing/test_server.h"
#include "common/time/proto_time.h"
#include "common/webhook/base64.h"
#include "common/webhook/signature.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/metrics/metrics_module.h"
#include "tools/gpusim/cloud/cloud.h"
#include "tools/gpusim/cloud/sim_driver.h"
#include "tools/gpusim/delivery/transport.h"
#include "tools/gpusim/delivery/webhook_sender.h"
#include "trainyard/metrics/v1/metrics.grpc.pb.h"

namespace trainyard::gpusim {
namespace {

using ::testing::HasSubstr;
using ::trainyard::testing::TempDir;
using ::trainyard::testing::TestServer;
namespace v1 = ::trainyard::metrics::v1;
namespace cv1 = ::trainyard::common::v1;

constexpr char kMasterKey[] =
    "dHJhaW55YXJkLXRlc3QtbWFzdGVyLWtleS0wMTIzNDU2Nzg5YWJjZGVm";

class GpusimE2eTest : public ::testing::Test {
 protected:
  GpusimE2eTest()
      : metrics_server_(metrics::MetricsColumnFamilies()),
        clock_(metrics_server_.clock()),
        scheduler_(clock_),
        sender_(clock_, wall_, scheduler_, transport_, {.threads = 4}),
        driver_(clock_, scheduler_, sender_) {}

  void SetUp() override {
    std::string key_file = key_dir_.Sub("master.key");
    std::ofstream(key_file) << kMasterKey << "\n";
    master_key_ = *webhook::Base64Decode(kMasterKey);
    metrics::MetricsConfig config;
    config.master_key_file = key_file;
    server::ServiceContext ctx = metrics_server_.Context();
    auto module = metrics::BuildMetrics(ctx, config);
    ASSERT_OK(module.status());
    metrics_module_ = *std::move(module);
    ASSERT_OK(metrics_server_.Start());
    metrics_server_.host().MarkServing();
    stub_ = v1::MetricsService::NewStub(metrics_server_.Channel());
    StartGate();
    sender_.Start();
    cloud_ =
        std::make_unique<Cloud>(clock_, scheduler_, sender_, CloudOptions{});
  }

  void TearDown() override {
    sender_.Stop();
    gate_->Stop();
  }

  // Forwards webhooks to metrics-ingest unless closed.
  void StartGate() {
    gate_ = std::make_unique<http::HttpServer>(http::HttpServerOptions{});
    gate_->Handle(http::Method::kPost, "/v1/webhooks/runpod/{job_id}",
                  [this](const http::HttpRequest& req) {
                    if (!gate_open_) {
                      ++gate_refused_;
                      http::HttpResponse r = http::JsonError(503, "draining");
                      r.SetRetryAfter(absl::Seconds(5));
                      return r;
                    }
                    http::HttpClient client(metrics_server_.AdminUrl());
                    http::HttpHeaders headers;
                    for (const char* h : {"webhook-id", "webhook-timestamp",
                                          "webhook-signature"}) {
                      headers.emplace_back(h, std::string(req.Header(h)));
                    }
                    absl::StatusOr<http::HttpResponse> r =
                        client.Send(http::Method::kPost, req.path, headers,
                                    req.body, req.Header("content-type"));
                    if (!r.ok())
                      return http::JsonError(502, "metrics unreachable");
                    ++gate_forwarded_;
                    return *r;
                  });
    absl::StatusOr<int> port = gate_->Start();
    ASSERT_OK(port.status());
    gate_url_ = absl::StrCat("http://127.0.0.1:", *port);
  }

  // A pod for `job` whose webhooks go to `base` (metrics or the gate).
  PodSpec Spec(const std::string& job, const std::string& base,
               Env extra = {}) {
    PodSpec spec;
    spec.name = job;
    spec.image = "trainyard/lora-trainer:1";
    spec.gpu_type_ids = {"NVIDIA H100 80GB HBM3"};
    spec.interruptible = true;
    spec.env = {{"TRAINYARD_JOB_ID", job},
                {"TRAINYARD_WEBHOOK_URL",
                 absl::StrCat(base, "/v1/webhooks/runpod/", job)},
                {"TRAINYARD_WEBHOOK_SECRET",
                 webhook::DeriveJobSecret(master_key_, job)},
                {"TRAINYARD_BASE_MODEL", "meta-llama/Meta-Llama-3-70B"},
                {"TRAINYARD_DATASET_CONVERSATIONS", "1000"},
                {"TRAINYARD_BATCH_SIZE", "4"},
                {"TRAINYARD_GRAD_ACCUM", "2"},
                {"TRAINYARD_EPOCHS", "2"},
                {"TRAINYARD_LORA_RANK", "16"},
                {"TRAINYARD_LEARNING_RATE", "0.0002"},
                {"TRAINYARD_LR_SCHEDULE", "cosine"}};
    for (auto& [k, v] : extra) spec.env[k] = v;
    return spec;
  }

  PodView RunToExit(const std::string& id) {
    EXPECT_TRUE(driver_.RunUntil(
        [&] { return cloud_->Get(id)->status == PodStatus::kExited; },
        absl::Hours(48)));
    return *cloud_->Get(id);
  }

  template <typename Req, typename Resp, typename Method>
  void Call(Method method, const Req& req, Resp* resp) {
    grpc::ClientContext ctx;
    TestServer::Authorize(ctx, auth::Role::kViewer);
    grpc::Status s = (stub_.get()->*method)(&ctx, req, resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  // Every event of the job, oldest first.
  std::vector<v1::Event> Events(const std::string& job,
                                const std::string& filter = "") {
    std::vector<v1::Event> out;
    v1::ListEventsRequest req;
    req.set_job_id(job);
    req.set_page_size(100);
    req.set_filter(filter);
    while (true) {
      v1::ListEventsResponse resp;
      Call(&v1::MetricsService::Stub::ListEvents, req, &resp);
      for (const auto& m : resp.events()) out.push_back(m.event());
      if (resp.next_page_token().empty()) return out;
      req.set_page_token(resp.next_page_token());
    }
  }

  cv1::Progress Progress(const std::string& job) {
    v1::GetProgressRequest req;
    req.set_job_id(job);
    v1::GetProgressResponse resp;
    Call(&v1::MetricsService::Stub::GetProgress, req, &resp);
    return resp.progress();
  }

  cv1::JobStages Stages(const std::string& job) {
    v1::GetStagesRequest req;
    req.set_job_id(job);
    v1::GetStagesResponse resp;
    Call(&v1::MetricsService::Stub::GetStages, req, &resp);
    return resp.stages();
  }

  TempDir key_dir_;
  RealClock wall_;  // The pods sign with it; metrics verifies with its own.
  TestServer metrics_server_;
  FakeClock& clock_;
  std::string master_key_;
  std::unique_ptr<server::ServiceModule> metrics_module_;
  std::unique_ptr<v1::MetricsService::Stub> stub_;
  std::unique_ptr<http::HttpServer> gate_;
  std::string gate_url_;
  std::atomic<bool> gate_open_{true};
  std::atomic<int> gate_refused_{0};
  std::atomic<int> gate_forwarded_{0};

  Scheduler scheduler_;
  HttpTransport transport_;
  WebhookSender sender_;
  testing::SimDriver driver_;
  std::unique_ptr<Cloud> cloud_;
};

TEST_F(GpusimE2eTest, FullRunIsReceivedVerifiedAndUnderstood) {
  const std::string job = "e2e-full";
  ASSERT_OK_AND_ASSIGN(PodView pod,
                       cloud_->Create(Spec(job, metrics_server_.AdminUrl())));
  PodView done = RunToExit(pod.id);
  ASSERT_EQ(done.exit_reason, ExitReason::kCompleted);
  SenderStats stats = sender_.Stats();
  EXPECT_EQ(stats.rejected, 0);
  EXPECT_EQ(stats.retries, 0);
  EXPECT_EQ(stats.delivered, done.progress->events);

  // Every event stored once, in order, as the container numbered it.
  std::vector<v1::Event> events = Events(job);
  ASSERT_EQ(static_cast<int64_t>(events.size()), done.progress->events);
  for (size_t i = 0; i < events.size(); ++i) {
    ASSERT_EQ(events[i].attempt(), 1);
    ASSERT_EQ(events[i].attempt_seq(), static_cast<int64_t>(i + 1));
    ASSERT_EQ(events[i].event_id(), absl::StrCat("evt_1_", i + 1));
  }
  int checkpoints = 0;
  for (const v1::Event& e : events) {
    if (e.type() == cv1::EVENT_TYPE_CHECKPOINT) ++checkpoints;
  }
  EXPECT_EQ(checkpoints, 2);  // steps 100 and 200

  cv1::Progress progress = Progress(job);
  EXPECT_EQ(progress.step(), 200);
  EXPECT_EQ(progress.total_steps(), 200);
  EXPECT_DOUBLE_EQ(progress.percent(), 100);
  EXPECT_EQ(progress.epoch(), 2);
  EXPECT_EQ(progress.total_epochs(), 2);
  EXPECT_EQ(progress.attempt(), 1);
  EXPECT_EQ(progress.stage(), cv1::STAGE_FINALIZATION);

  cv1::JobStages stages = Stages(job);
  ASSERT_EQ(stages.stages_size(), 4);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(stages.stages(i).state(), cv1::STAGE_STATE_COMPLETED) << i;
  }
  EXPECT_EQ(stages.stages(0).substatus(), "Validating dataset format...");
  EXPECT_FALSE(stages.stages(1).model_cache_hit());
  // The container's completion signal (finalization at 100%) closes the
  // last stage before job-control has seen the pod exit, and the finished
  // job is never flagged stalled however long it stays quiet.
  const cv1::StageInfo& fin = stages.stages(3);
  EXPECT_EQ(fin.state(), cv1::STAGE_STATE_COMPLETED);
  EXPECT_EQ(fin.substatus(), "Cleaning up temporary files...");
  EXPECT_DOUBLE_EQ(fin.progress_percent(), 100);
  EXPECT_GT(FromProto(fin.duration()), absl::ZeroDuration());
  clock_.Advance(absl::Hours(2));
  EXPECT_FALSE(Progress(job).stalled());
  EXPECT_FALSE(Progress(job).has_estimated_remaining());
  // The curve ends at the latest step, however few points are asked for.
  for (int max_points : {10, 1000}) {
    v1::GetLossCurveRequest creq;
    creq.set_job_id(job);
    creq.add_series("train_loss");
    creq.set_max_points(max_points);
    v1::GetLossCurveResponse cresp;
    Call(&v1::MetricsService::Stub::GetLossCurve, creq, &cresp);
    ASSERT_EQ(cresp.curve().series_size(), 1);
    const cv1::CurveSeries& series = cresp.curve().series(0);
    ASSERT_GT(series.points_size(), 0);
    EXPECT_EQ(series.points(0).step(), 1);
    EXPECT_EQ(series.points(series.points_size() - 1).step(), 200)
        << max_points;
  }

  v1::GetCurrentMetricsRequest mreq;
  mreq.set_job_id(job);
  v1::GetCurrentMetricsResponse mresp;
  Call(&v1::MetricsService::Stub::GetCurrentMetrics, mreq, &mresp);
  const cv1::CurrentMetrics& m = mresp.metrics();
  EXPECT_GT(m.val_loss().value(), 0);
  EXPECT_NEAR(m.perplexity().value(), std::exp(m.val_loss().value()), 1e-3);
  EXPECT_EQ(m.lr_schedule(), "cosine");
  EXPECT_GT(m.gpu_utilization().value(), 0.4);
  EXPECT_GT(m.tokens_per_second().value(), 500);
}

TEST_F(GpusimE2eTest, StopCheckpointsAndTheNextAttemptResumesThere) {
  const std::string job = "e2e-resume";
  ASSERT_OK_AND_ASSIGN(PodView first,
                       cloud_->Create(Spec(job, metrics_server_.AdminUrl())));
  ASSERT_TRUE(driver_.RunUntil(
      [&] {
        PodView p = *cloud_->Get(first.id);
        return p.progress && p.progress->step >= 123;
      },
      absl::Hours(24)));
  ASSERT_OK(cloud_->Stop(first.id).status());
  PodView stopped = RunToExit(first.id);
  ASSERT_EQ(stopped.exit_reason, ExitReason::kStopped);
  // The SIGTERM checkpoint is the last checkpoint metrics-ingest has.
  std::vector<v1::Event> checkpoints = Events(job, "attempt = 1");
  int64_t resume_step = -1;
  for (const v1::Event& e : checkpoints) {
    if (e.type() == cv1::EVENT_TYPE_CHECKPOINT) {
      resume_step = e.checkpoint().step();
    }
  }
  ASSERT_EQ(resume_step, 123);
  EXPECT_EQ(Progress(job).step(), 123);
  ASSERT_OK(cloud_->Terminate(first.id));

  // What job-control does on resume: a new pod, next attempt, that step.
  ASSERT_OK_AND_ASSIGN(
      PodView second,
      cloud_->Create(Spec(job, metrics_server_.AdminUrl(),
                          {{"TRAINYARD_RESUME_STEP", absl::StrCat(resume_step)},
                           {"TRAINYARD_ATTEMPT", "2"}})));
  PodView done = RunToExit(second.id);
  ASSERT_EQ(done.exit_reason, ExitReason::kCompleted);

  std::vector<v1::Event> resumed = Events(job, "attempt = 2");
  ASSERT_EQ(static_cast<int64_t>(resumed.size()), done.progress->events);
  EXPECT_EQ(resumed.front().attempt_seq(), 1);
  const v1::Event* first_metrics = nullptr;
  for (const v1::Event& e : resumed) {
    if (e.type() == cv1::EVENT_TYPE_METRICS) {
      first_metrics = &e;
      break;
    }
  }
  ASSERT_NE(first_metrics, nullptr);
  EXPECT_EQ(first_metrics->metrics().step(), 124);

  cv1::Progress progress = Progress(job);
  EXPECT_EQ(progress.attempt(), 2);
  EXPECT_EQ(progress.step(), 200);
  cv1::JobStages stages = Stages(job);
  ASSERT_EQ(stages.recoveries_size(), 1);
  EXPECT_EQ(stages.recoveries(0).resumed_from_step(), 123);
  EXPECT_EQ(stages.recoveries(0).recovery_attempt(), 2);
  EXPECT_FALSE(stages.recoveries(0).in_progress());
  EXPECT_TRUE(stages.stages(1).model_cache_hit());  // cached on attempt 2
}

TEST_F(GpusimE2eTest, ReceiverDownForAWhileLosesAndDuplicatesNothing) {
  const std::string job = "e2e-down";
  gate_open_ = false;
  ASSERT_OK_AND_ASSIGN(PodView pod, cloud_->Create(Spec(job, gate_url_)));
  // Half an hour of refusals: the pod keeps training, its webhooks wait.
  ASSERT_TRUE(driver_.RunFor(absl::Minutes(30)));
  EXPECT_GT(gate_refused_.load(), 5);
  EXPECT_EQ(gate_forwarded_.load(), 0);
  PodView waiting = *cloud_->Get(pod.id);
  EXPECT_EQ(waiting.status, PodStatus::kRunning);
  EXPECT_GT(waiting.webhooks_pending, 50u);

  gate_open_ = true;
  PodView done = RunToExit(pod.id);
  ASSERT_EQ(done.exit_reason, ExitReason::kCompleted);
  std::vector<v1::Event> events = Events(job);
  ASSERT_EQ(static_cast<int64_t>(events.size()), done.progress->events);
  for (size_t i = 0; i < events.size(); ++i) {
    ASSERT_EQ(events[i].attempt_seq(), static_cast<int64_t>(i + 1));
  }
  // One forwarded request per event: nothing was sent twice once the
  // receiver was back.
  EXPECT_EQ(gate_forwarded_.load(), done.progress->events);
  EXPECT_EQ(sender_.Stats().delivered, done.progress->events);
  EXPECT_EQ(Progress(job).step(), 200);
}

TEST_F(GpusimE2eTest, InjectedFailureReachesTheStageIndicator) {
  const std::string job = "e2e-oom";
  ASSERT_OK_AND_ASSIGN(
      PodView pod,
      cloud_->Create(Spec(job, metrics_server_.AdminUrl(),
                          {{"TRAINYARD_FAULT_FAIL_AT", "training:30"}})));
  PodView done = RunToExit(pod.id);
  ASSERT_EQ(done.exit_reason, ExitReason::kFailed);
  cv1::JobStages stages = Stages(job);
  const cv1::StageInfo& training = stages.stages(2);
  EXPECT_EQ(training.state(), cv1::STAGE_STATE_FAILED);
  EXPECT_EQ(training.error().code(), "CUDA_OOM");
  EXPECT_THAT(training.error().message(), HasSubstr("CUDA out of memory"));
  EXPECT_EQ(stages.stages(3).state(), cv1::STAGE_STATE_PENDING);
  EXPECT_EQ(Progress(job).step(), 59);
}

}  // namespace
}  // namespace trainyard::gpusim

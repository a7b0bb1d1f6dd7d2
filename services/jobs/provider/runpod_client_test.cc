// Copyright 2026 Trainyard authors.
//
// The RunPod REST v2 client against a real gpusim process, including its
// injected faults (5xx on terminate, 429 at capacity, 400 on a bad env value)
// and a server that never answers (deadlines).
#include "services/jobs/provider/runpod_client.h"

#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/status/errors.h"
#include "common/testing/silent_listener.h"
#include "common/testing/status_matchers.h"
#include "common/webhook/signature.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/jobs/provider/pod_env.h"
#include "services/jobs/testing/gpusim_process.h"

namespace trainyard::jobs {
namespace {

using testing::GpusimProcess;
using ::testing::HasSubstr;
using trainyard::testing::StatusIs;

// Time runs 600x in gpusim, so its 20 s provisioning takes ~33 ms.
const std::vector<std::string> kFast = {"--time_scale=600",
                                        "--flush_timeout=10s"};

PodRequest Request(std::string name,
                   std::map<std::string, std::string> extra = {}) {
  PodEnvInput in;
  in.job_id = "j1";
  in.webhook_base_url = "http://127.0.0.1:1";  // nobody: deliveries retry
  in.webhook_secret = webhook::DeriveJobSecret("master-key", "j1");
  in.config.set_base_model("meta-llama/Meta-Llama-3-8B");
  in.config.mutable_dataset()->set_conversations(1000);
  auto* h = in.config.mutable_hyperparameters();
  h->set_epochs(1);
  h->set_batch_size(4);
  h->set_gradient_accumulation_steps(4);
  h->set_lora_rank(16);
  h->set_lora_alpha(32);
  h->set_learning_rate(2e-4);
  h->set_lr_schedule(common::v1::LR_SCHEDULE_COSINE);
  h->set_warmup_ratio(0.03);
  PodRequest r;
  r.name = std::move(name);
  r.image = "trainyard/lora-trainer:1";
  r.gpu_type = common::v1::GPU_TYPE_A100_80GB;
  r.gpu_count = 1;
  r.interruptible = true;
  r.env = PodEnv(in);
  for (auto& [k, v] : extra) r.env[k] = v;
  return r;
}

RunPodOptions Options(const GpusimProcess& sim) {
  RunPodOptions o;
  o.base_url = sim.base_url();
  o.call_timeout = absl::Seconds(5);
  o.backoff_initial = absl::Milliseconds(5);
  o.backoff_max = absl::Milliseconds(20);
  return o;
}

// Polls the pod (a real process: bounded wall-clock polling) until `done`.
template <typename Pred>
Pod WaitFor(RunPodClient& client, const std::string& id, Pred done) {
  Pod pod;
  for (int i = 0; i < 1000; ++i) {
    auto p = client.GetPod(id);
    EXPECT_TRUE(p.ok()) << p.status();
    if (p.ok()) {
      pod = *p;
      if (done(pod)) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pod;
}

TEST(RunPodClient, CreateBodyIsRestV2) {
  PodRequest r;
  r.name = "j1-a1";
  r.image = "img";
  r.gpu_type = common::v1::GPU_TYPE_H100_80GB;
  r.gpu_count = 2;
  r.interruptible = true;
  r.env = {{"A", "b\"c"}};
  EXPECT_EQ(
      RunPodClient::CreateBody(r),
      R"({"name":"j1-a1","image":"img","gpu":{"id":"NVIDIA H100 80GB HBM3",)"
      R"("count":2},"interruptible":true,"env":{"A":"b\"c"}})");
}

TEST(RunPodClient, CreatesGetsAndAdoptsByNameNeverTwice) {
  auto sim = GpusimProcess::Start(kFast);
  ASSERT_OK(sim.status());
  RunPodClient client(Options(*sim));
  auto pod = client.CreatePod(Request("j1-a1"));
  ASSERT_OK(pod.status());
  EXPECT_FALSE(pod->id.empty());
  EXPECT_EQ(pod->name, "j1-a1");
  // A create whose answer was lost is retried: the same pod is adopted.
  auto again = client.CreatePod(Request("j1-a1"));
  ASSERT_OK(again.status());
  EXPECT_EQ(again->id, pod->id);
  auto found = client.FindPodByName("j1-a1");
  ASSERT_OK(found.status());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->id, pod->id);
  auto other = client.FindPodByName("j1-a2");
  ASSERT_OK(other.status());
  EXPECT_FALSE(other->has_value());
  Pod running = WaitFor(client, pod->id, [](const Pod& p) {
    return p.status == Pod::Status::kRunning;
  });
  EXPECT_EQ(running.status, Pod::Status::kRunning);
  EXPECT_THAT(client.GetPod("nope"), StatusIs(absl::StatusCode::kNotFound));
}

TEST(RunPodClient, StopExitsStoppedDeleteTerminatesIdempotently) {
  auto sim = GpusimProcess::Start(kFast);
  ASSERT_OK(sim.status());
  RunPodClient client(Options(*sim));
  auto pod = client.CreatePod(Request("j1-a1"));
  ASSERT_OK(pod.status());
  WaitFor(client, pod->id,
          [](const Pod& p) { return p.status == Pod::Status::kRunning; });
  ASSERT_OK(client.StopPod(pod->id));
  ASSERT_OK(client.StopPod(pod->id));  // idempotent
  Pod exited = WaitFor(client, pod->id, [](const Pod& p) {
    return p.status == Pod::Status::kExited;
  });
  EXPECT_EQ(exited.status, Pod::Status::kExited);
  EXPECT_EQ(exited.exit_reason, "stopped");
  ASSERT_OK(client.DeletePod(pod->id));
  ASSERT_OK(client.DeletePod(pod->id));
  ASSERT_OK(client.DeletePod("never-existed"));
  auto gone = client.GetPod(pod->id);
  ASSERT_OK(gone.status());
  EXPECT_EQ(gone->status, Pod::Status::kTerminated);
  // A terminated pod is never adopted.
  auto after = client.FindPodByName("j1-a1");
  ASSERT_OK(after.status());
  EXPECT_FALSE(after->has_value());
}

TEST(RunPodClient, ServerErrorsAreRetriedWithBackoff) {
  auto sim = GpusimProcess::Start(kFast);
  ASSERT_OK(sim.status());
  RunPodClient client(Options(*sim));
  // Two 500s, then success: within the 4 attempts.
  auto pod = client.CreatePod(
      Request("j1-a1", {{"TRAINYARD_FAULT_TERMINATE_FAILURES", "2"}}));
  ASSERT_OK(pod.status());
  EXPECT_OK(client.DeletePod(pod->id));
  // Ten 500s: the client gives up after max_attempts with UNAVAILABLE.
  auto stubborn = client.CreatePod(
      Request("j1-a2", {{"TRAINYARD_FAULT_TERMINATE_FAILURES", "10"}}));
  ASSERT_OK(stubborn.status());
  EXPECT_THAT(client.DeletePod(stubborn->id),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("500")));
}

TEST(RunPodClient, RateLimitIsReturnedWithRetryAfter) {
  auto flags = kFast;
  flags.push_back("--max_pods=1");
  auto sim = GpusimProcess::Start(flags);
  ASSERT_OK(sim.status());
  RunPodClient client(Options(*sim));
  ASSERT_OK(client.CreatePod(Request("j1-a1")).status());
  auto second = client.CreatePod(Request("j2-a1"));
  EXPECT_THAT(second.status(), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(RetryAfter(second.status()), absl::Seconds(30));
}

TEST(RunPodClient, BadRequestsAreNotRetriedAndNameTheField) {
  auto sim = GpusimProcess::Start(kFast);
  ASSERT_OK(sim.status());
  RunPodClient client(Options(*sim));
  auto bad = client.CreatePod(Request("j1-a1", {{"TRAINYARD_EPOCHS", "lots"}}));
  EXPECT_THAT(bad.status(), StatusIs(absl::StatusCode::kInvalidArgument,
                                     HasSubstr("env.TRAINYARD_EPOCHS")));
  EXPECT_EQ(ErrorReason(bad.status()), "PROVIDER_REJECTED");
}

TEST(RunPodClient, BearerKeyIsSent) {
  auto flags = kFast;
  flags.push_back("--api_key=sekrit");
  auto sim = GpusimProcess::Start(flags);
  ASSERT_OK(sim.status());
  RunPodClient anonymous(Options(*sim));
  EXPECT_THAT(anonymous.FindPodByName("x").status(),
              StatusIs(absl::StatusCode::kUnauthenticated));
  RunPodOptions o = Options(*sim);
  o.api_key = "sekrit";
  RunPodClient keyed(o);
  EXPECT_OK(keyed.FindPodByName("x").status());
}

TEST(RunPodClient, EveryCallHasADeadline) {
  // Connections open (the backlog takes them); no byte ever answers.
  trainyard::testing::SilentListener silent;
  RunPodOptions o;
  o.base_url = "http://" + silent.address();
  o.call_timeout = absl::Milliseconds(100);
  o.max_attempts = 2;
  o.backoff_initial = absl::Milliseconds(1);
  RunPodClient client(o);
  absl::Status s = client.GetPod("p").status();
  EXPECT_TRUE(s.code() == absl::StatusCode::kDeadlineExceeded ||
              s.code() == absl::StatusCode::kUnavailable)
      << s;
}

}  // namespace
}  // namespace trainyard::jobs

// Copyright 2026 Trainyard authors.
//
// The REST contract over real loopback HTTP: every route and every status
// code. Most tests run the cloud on a FakeClock; the last one runs it in real
// time at a high time scale, as `make run` does, and waits on conditions.
#include "tools/gpusim/api/pods_api.h"

#include <atomic>

#include "absl/strings/str_cat.h"
#include "common/http/client.h"
#include "common/http/server.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tools/gpusim/cloud/sim_driver.h"
#include "tools/gpusim/delivery/scripted_transport.h"

namespace trainyard::gpusim {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;
using http::Method;
using ::testing::HasSubstr;

constexpr char kKey[] = "gpusim-test-key";

Struct Json(const std::string& body) {
  Value v;
  auto s = google::protobuf::util::JsonStringToMessage(body, &v);
  EXPECT_TRUE(s.ok()) << body;
  if (v.kind_case() == Value::kListValue) {
    Struct wrapper;
    *(*wrapper.mutable_fields())["list"].mutable_list_value() = v.list_value();
    return wrapper;
  }
  return v.struct_value();
}

std::string Str(const Struct& s, const std::string& field) {
  auto it = s.fields().find(field);
  return it == s.fields().end() ? "<absent>" : it->second.string_value();
}

// A create body with `extra_env` added to env and `fields` in place of
// gpuCount and interruptible.
std::string CreateBody(
    const std::string& extra_env = "",
    const std::string& fields = R"("gpuCount":1,"interruptible":true,)") {
  return absl::StrCat(
      R"({"name":"job-1","imageName":"trainyard/lora-trainer:1",)",
      R"("gpuTypeIds":["NVIDIA H100 80GB HBM3"],"cloudType":"SECURE",)", fields,
      R"("env":{"TRAINYARD_JOB_ID":"job-1",)",
      R"("TRAINYARD_WEBHOOK_URL":"http://127.0.0.1:1/v1/webhooks/runpod/job-1",)",
      R"("TRAINYARD_WEBHOOK_SECRET":")", testing::TestSecret().ToString(),
      R"(","TRAINYARD_DATASET_CONVERSATIONS":"1000",)", extra_env,
      R"("TRAINYARD_SIM_STEP_SECONDS":"10","TRAINYARD_SIM_STAGE_SECONDS":"60"}})");
}

class PodsApiTest : public ::testing::Test {
 protected:
  PodsApiTest()
      : scheduler_(clock_),
        sender_(clock_, clock_, scheduler_, transport_, {.threads = 2}),
        driver_(clock_, scheduler_, sender_) {}

  void SetUp() override { Serve({}); }
  void TearDown() override {
    server_->Stop();
    sender_.Stop();
  }

  // Serves a new cloud; an earlier one stays alive since timers of its may
  // still be in the scheduler.
  void Serve(CloudOptions options) {
    if (server_) {
      server_->Stop();
      retired_.push_back(std::move(cloud_));
    } else {
      sender_.Start();
    }
    cloud_ = std::make_unique<Cloud>(clock_, scheduler_, sender_, options);
    api_ = std::make_unique<PodsApi>(*cloud_, sender_, scheduler_,
                                     ApiOptions{.api_keys = {kKey}});
    server_ = std::make_unique<http::HttpServer>(http::HttpServerOptions{});
    api_->Register(*server_);
    absl::StatusOr<int> port = server_->Start();
    ASSERT_OK(port.status());
    client_ = std::make_unique<http::HttpClient>(
        absl::StrCat("http://127.0.0.1:", *port),
        http::HttpClientOptions{.bearer_token = kKey});
    anonymous_ = std::make_unique<http::HttpClient>(
        absl::StrCat("http://127.0.0.1:", *port));
  }

  http::HttpResponse Call(Method method, const std::string& path,
                          const std::string& body = "",
                          http::HttpClient* client = nullptr) {
    absl::StatusOr<http::HttpResponse> r =
        (client ? client : client_.get())
            ->Send(method, path, {}, body,
                   method == Method::kPost ? "application/json" : "");
    EXPECT_OK(r.status());
    return r.ok() ? *r : http::HttpResponse{.status = -1};
  }

  std::string CreatePod(const std::string& body = CreateBody()) {
    http::HttpResponse r = Call(Method::kPost, "/v2/pods", body);
    EXPECT_EQ(r.status, 201) << r.body;
    return Str(Json(r.body), "id");
  }

  // The error's "field" of a 400 answer to creating `body`.
  std::string BadField(const std::string& body) {
    http::HttpResponse r = Call(Method::kPost, "/v2/pods", body);
    EXPECT_EQ(r.status, 400) << body;
    Struct s = Json(r.body);
    EXPECT_EQ(s.fields().at("status").number_value(), 400);
    EXPECT_FALSE(Str(s, "error").empty());
    return Str(s, "field");
  }

  Struct GetPod(const std::string& id) {
    http::HttpResponse r = Call(Method::kGet, "/v2/pods/" + id);
    EXPECT_EQ(r.status, 200) << r.body;
    return Json(r.body);
  }

  bool RunUntilStatus(const std::string& id, const std::string& status) {
    return driver_.RunUntil(
        [&] { return PodStatusName(cloud_->Get(id)->status) == status; },
        absl::Hours(10));
  }

  FakeClock clock_;
  Scheduler scheduler_;
  testing::ScriptedTransport transport_;
  WebhookSender sender_;
  testing::SimDriver driver_;
  std::vector<std::unique_ptr<Cloud>> retired_;
  std::unique_ptr<Cloud> cloud_;
  std::unique_ptr<PodsApi> api_;
  std::unique_ptr<http::HttpServer> server_;
  std::unique_ptr<http::HttpClient> client_;
  std::unique_ptr<http::HttpClient> anonymous_;
};

TEST_F(PodsApiTest, CreateGetListStopDelete) {
  http::HttpResponse created = Call(Method::kPost, "/v2/pods", CreateBody());
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.content_type, "application/json");
  Struct pod = Json(created.body);
  std::string id = Str(pod, "id");
  EXPECT_EQ(id.size(), 14u);
  EXPECT_EQ(Str(pod, "name"), "job-1");
  EXPECT_EQ(Str(pod, "imageName"), "trainyard/lora-trainer:1");
  EXPECT_EQ(Str(pod, "status"), "PROVISIONING");
  EXPECT_EQ(Str(pod, "desiredStatus"), "RUNNING");
  EXPECT_EQ(Str(pod, "gpuTypeId"), "NVIDIA H100 80GB HBM3");
  EXPECT_DOUBLE_EQ(pod.fields().at("costPerHr").number_value(), 2.49);
  EXPECT_TRUE(pod.fields().at("interruptible").bool_value());
  EXPECT_EQ(pod.fields()
                .at("gpu")
                .struct_value()
                .fields()
                .at("displayName")
                .string_value(),
            "H100 SXM");
  const Struct& env = pod.fields().at("env").struct_value();
  EXPECT_EQ(Str(env, "TRAINYARD_WEBHOOK_SECRET"), "<redacted>");
  EXPECT_EQ(Str(env, "TRAINYARD_JOB_ID"), "job-1");
  EXPECT_FALSE(Str(pod, "createdAt").empty());

  ASSERT_TRUE(RunUntilStatus(id, "RUNNING"));
  pod = GetPod(id);
  EXPECT_FALSE(Str(pod, "lastStartedAt").empty());
  const Struct& sim = pod.fields().at("simulation").struct_value();
  EXPECT_EQ(sim.fields().at("totalSteps").number_value(), 150);
  EXPECT_EQ(sim.fields().at("attempt").number_value(), 1);

  Struct list = Json(Call(Method::kGet, "/v2/pods").body);
  EXPECT_EQ(list.fields().at("list").list_value().values_size(), 1);
  list = Json(Call(Method::kGet, "/v2/pods?status=EXITED").body);
  EXPECT_EQ(list.fields().at("list").list_value().values_size(), 0);
  list = Json(Call(Method::kGet, "/v2/pods?status=RUNNING&name=job-1").body);
  EXPECT_EQ(list.fields().at("list").list_value().values_size(), 1);

  ASSERT_TRUE(driver_.RunFor(absl::Minutes(5)));
  http::HttpResponse stopped = Call(Method::kPost, "/v2/pods/" + id + "/stop");
  ASSERT_EQ(stopped.status, 200) << stopped.body;
  EXPECT_EQ(Str(Json(stopped.body), "desiredStatus"), "EXITED");
  ASSERT_TRUE(RunUntilStatus(id, "EXITED"));
  pod = GetPod(id);
  EXPECT_EQ(Str(pod, "exitReason"), "stopped");
  EXPECT_FALSE(Str(pod, "exitedAt").empty());

  http::HttpResponse deleted = Call(Method::kDelete, "/v2/pods/" + id);
  EXPECT_EQ(deleted.status, 204);
  EXPECT_TRUE(deleted.body.empty());
  pod = GetPod(id);
  EXPECT_EQ(Str(pod, "status"), "TERMINATED");
  EXPECT_EQ(Str(pod, "desiredStatus"), "TERMINATED");
  EXPECT_EQ(Call(Method::kDelete, "/v2/pods/" + id).status, 204);
}

// RunPod REST v2's CreatePodRequest: image, the gpu selector object and
// interruptible.
TEST_F(PodsApiTest, AcceptsTheRestV2CreateBody) {
  std::string body = CreateBody("", R"("interruptible":true,)");
  body.replace(body.find("\"imageName\""), 11, "\"image\"");
  body.replace(body.find("\"gpuTypeIds\":[\"NVIDIA H100 80GB HBM3\"]"), 38,
               "\"gpu\":{\"id\":\"NVIDIA L40S\",\"count\":2}");
  http::HttpResponse r = Call(Method::kPost, "/v2/pods", body);
  ASSERT_EQ(r.status, 201) << r.body;
  Struct pod = Json(r.body);
  EXPECT_EQ(Str(pod, "gpuTypeId"), "NVIDIA L40S");
  EXPECT_EQ(pod.fields().at("gpuCount").number_value(), 2);
  EXPECT_TRUE(pod.fields().at("interruptible").bool_value());
}

// The retired REST v1 names, kept as a leniency.
TEST_F(PodsApiTest, AcceptsRunPodFieldVariants) {
  std::string body = CreateBody();
  body.replace(body.find("\"imageName\""), 11, "\"image\"");
  body.replace(body.find("\"gpuTypeIds\":[\"NVIDIA H100 80GB HBM3\"]"), 38,
               "\"gpuTypeId\":\"NVIDIA L40S\"");
  http::HttpResponse r = Call(Method::kPost, "/v2/pods", body);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Str(Json(r.body), "gpuTypeId"), "NVIDIA L40S");
}

TEST_F(PodsApiTest, BadRequestsAre400NamingTheField) {
  EXPECT_EQ(BadField("{\"name\":"), "body");
  EXPECT_EQ(BadField("[1,2]"), "body");
  EXPECT_EQ(BadField(R"({"gpuTypeIds":["NVIDIA L40S"]})"), "image");
  EXPECT_EQ(BadField(R"({"image":7,"gpu":{"id":"NVIDIA L40S"}})"), "image");
  EXPECT_EQ(BadField(R"({"imageName":7,"gpuTypeIds":["NVIDIA L40S"]})"),
            "imageName");
  EXPECT_EQ(BadField(R"({"imageName":"x"})"), "gpu");
  EXPECT_EQ(BadField(R"({"image":"x","gpu":"NVIDIA L40S"})"), "gpu");
  EXPECT_EQ(BadField(R"({"image":"x","gpu":{"count":1}})"), "gpu.id");
  EXPECT_EQ(BadField(R"({"image":"x","gpu":{"id":"NVIDIA L40S","count":"2"}})"),
            "gpu.count");
  EXPECT_EQ(BadField(R"({"image":"x","cpu":{"flavor":"cpu3c"}})"), "cpu");
  EXPECT_EQ(BadField(R"({"imageName":"x","gpuTypeIds":"NVIDIA L40S"})"),
            "gpuTypeIds");
  std::string unknown_gpu = CreateBody();
  unknown_gpu.replace(unknown_gpu.find("NVIDIA H100 80GB HBM3"), 21, "TPU v5");
  EXPECT_EQ(BadField(unknown_gpu), "gpuTypeIds");
  EXPECT_EQ(BadField(CreateBody("", R"("gpuCount":"2",)")), "gpuCount");
  EXPECT_EQ(BadField(CreateBody("", R"("gpuCount":1.5,)")), "gpuCount");
  EXPECT_EQ(BadField(CreateBody("", R"("gpuCount":16,)")), "gpuCount");
  EXPECT_EQ(BadField(CreateBody("", R"("interruptible":"yes",)")),
            "interruptible");
  EXPECT_EQ(BadField(CreateBody(R"("TRAINYARD_EPOCHS":3,)")),
            "env.TRAINYARD_EPOCHS");
  EXPECT_EQ(BadField(CreateBody(R"("TRAINYARD_EPOCHS":"lots",)")),
            "env.TRAINYARD_EPOCHS");
  EXPECT_EQ(BadField(CreateBody(R"("TRAINYARD_FAULT_STALL_FOR":"ages",)")),
            "env.TRAINYARD_FAULT_STALL_FOR");
  std::string no_job = CreateBody();
  no_job.replace(no_job.find("TRAINYARD_JOB_ID"), 16, "TRAINYARD_JOB_XX");
  EXPECT_EQ(BadField(no_job), "env.TRAINYARD_JOB_ID");

  http::HttpResponse r = Call(Method::kGet, "/v2/pods?status=SLEEPING");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Str(Json(r.body), "field"), "status");
  std::string id = CreatePod();
  r = Call(Method::kPost, "/admin/pods/" + id + "/faults",
           R"({"fail_at":"whenever"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Str(Json(r.body), "field"), "fail_at");
  EXPECT_EQ(Call(Method::kPost, "/admin/pods/" + id + "/faults", "nope").status,
            400);
}

TEST_F(PodsApiTest, EveryRouteNeedsTheKey) {
  std::string id = CreatePod();
  http::HttpClient wrong(client_->base_url(),
                         http::HttpClientOptions{.bearer_token = "nope"});
  struct Route {
    Method method;
    std::string path;
  };
  for (const Route& route :
       std::vector<Route>{{Method::kPost, "/v2/pods"},
                          {Method::kGet, "/v2/pods"},
                          {Method::kGet, "/v2/pods/" + id},
                          {Method::kPost, "/v2/pods/" + id + "/stop"},
                          {Method::kDelete, "/v2/pods/" + id},
                          {Method::kPost, "/admin/pods/" + id + "/faults"},
                          {Method::kPost, "/admin/pods/" + id + "/interrupt"},
                          {Method::kGet, "/admin/stats"}}) {
    for (http::HttpClient* client : {anonymous_.get(), &wrong}) {
      http::HttpResponse r = Call(route.method, route.path, "{}", client);
      EXPECT_EQ(r.status, 401) << route.path;
      EXPECT_EQ(Json(r.body).fields().at("status").number_value(), 401);
    }
  }
  absl::StatusOr<http::HttpResponse> basic = anonymous_->Send(
      Method::kGet, "/v2/pods", {{"Authorization", "Basic Z3B1c2lt"}});
  EXPECT_EQ(basic->status, 401);
  EXPECT_EQ(Str(GetPod(id), "status"), "PROVISIONING");  // untouched
  EXPECT_EQ(Call(Method::kGet, "/healthz", "", anonymous_.get()).status, 200);
}

TEST_F(PodsApiTest, UnknownPodsAre404) {
  for (auto [method, path] : std::vector<std::pair<Method, std::string>>{
           {Method::kGet, "/v2/pods/nope"},
           {Method::kPost, "/v2/pods/nope/stop"},
           {Method::kDelete, "/v2/pods/nope"},
           {Method::kPost, "/admin/pods/nope/interrupt"}}) {
    http::HttpResponse r = Call(method, path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_THAT(Str(Json(r.body), "error"), HasSubstr("nope"));
  }
  EXPECT_EQ(Call(Method::kGet, "/v2/volumes").status, 404);
}

TEST_F(PodsApiTest, WrongStateIs409) {
  std::string id = CreatePod();
  ASSERT_EQ(Call(Method::kDelete, "/v2/pods/" + id).status, 204);
  http::HttpResponse r = Call(Method::kPost, "/v2/pods/" + id + "/stop");
  EXPECT_EQ(r.status, 409);
  EXPECT_THAT(Str(Json(r.body), "error"), HasSubstr("terminated"));
  EXPECT_EQ(Call(Method::kPost, "/admin/pods/" + id + "/interrupt").status,
            409);
}

TEST_F(PodsApiTest, OverThePodLimitIs429) {
  Serve({.max_pods = 1});
  CreatePod();
  http::HttpResponse r = Call(Method::kPost, "/v2/pods", CreateBody());
  EXPECT_EQ(r.status, 429);
  EXPECT_THAT(Str(Json(r.body), "error"), HasSubstr("pod limit"));
  EXPECT_NE(r.FindHeader("Retry-After"), nullptr);
}

TEST_F(PodsApiTest, InjectedTerminateFailureIs500ThenWorks) {
  std::string id =
      CreatePod(CreateBody(R"("TRAINYARD_FAULT_TERMINATE_FAILURES":"1",)"));
  http::HttpResponse r = Call(Method::kDelete, "/v2/pods/" + id);
  EXPECT_EQ(r.status, 500);
  EXPECT_THAT(Str(Json(r.body), "error"), HasSubstr("injected"));
  EXPECT_EQ(Call(Method::kDelete, "/v2/pods/" + id).status, 204);
}

TEST_F(PodsApiTest, AdminFaultsInterruptAndStats) {
  std::string id = CreatePod();
  ASSERT_TRUE(RunUntilStatus(id, "RUNNING"));
  http::HttpResponse r =
      Call(Method::kPost, "/admin/pods/" + id + "/faults",
           R"({"terminate_failures":2,"stall_for":"10m","spot_per_hour":0})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(cloud_->Get(id)->faults.terminate_failures, 2);
  EXPECT_EQ(cloud_->Get(id)->faults.stall_for, absl::Minutes(10));
  r = Call(Method::kPost, "/admin/pods/" + id + "/interrupt");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(RunUntilStatus(id, "EXITED"));
  EXPECT_EQ(Str(GetPod(id), "exitReason"), "interrupted");
  Struct stats = Json(Call(Method::kGet, "/admin/stats").body);
  const Struct& pods = stats.fields().at("pods").struct_value();
  EXPECT_EQ(pods.fields().at("EXITED").number_value(), 1);
  const Struct& webhooks = stats.fields().at("webhooks").struct_value();
  EXPECT_GT(webhooks.fields().at("delivered").number_value(), 0);
  EXPECT_EQ(webhooks.fields().at("queued").number_value(), 0);
}

// Real threads and time: the scheduler loop and sender pool run a whole job
// at 5,000x against a real HTTP receiver that checks every signature.
TEST(PodsApiRealTimeTest, FullRunAtHighTimeScale) {
  constexpr double kScale = 5000;
  RealClock wall;
  ScaledClock clock(wall, wall.Now(), kScale);
  absl::Mutex mu;
  std::vector<std::string> received;
  std::atomic<int> bad{0};
  http::HttpServer sink(http::HttpServerOptions{});
  sink.Handle(Method::kPost, "/v1/webhooks/runpod/{job}",
              [&](const http::HttpRequest& req) {
                if (!webhook::Verify(
                         testing::TestSecret(), req.Header("webhook-id"),
                         req.Header("webhook-timestamp"),
                         req.Header("webhook-signature"), req.body, wall.Now(),
                         // At 5,000x a 60 ms stall of a loaded machine is 5
                         // simulated minutes: freshness is tested elsewhere,
                         // here only that every delivery is signed right.
                         absl::Hours(24))
                         .ok()) {
                  ++bad;
                  return http::JsonError(401, "bad signature");
                }
                absl::MutexLock lock(&mu);
                received.emplace_back(req.Header("webhook-id"));
                return http::HttpResponse{.status = 204};
              });
  ASSERT_OK_AND_ASSIGN(int sink_port, sink.Start());

  Scheduler scheduler(clock);
  HttpTransport transport;
  WebhookSender sender(clock, wall, scheduler, transport, {.threads = 2});
  Cloud cloud(clock, scheduler, sender, CloudOptions{});
  PodsApi api(cloud, sender, scheduler, ApiOptions{.time_scale = kScale});
  http::HttpServer server(http::HttpServerOptions{});
  api.Register(server);
  ASSERT_OK_AND_ASSIGN(int port, server.Start());
  sender.Start();
  scheduler.Start(kScale);

  http::HttpClient client(absl::StrCat("http://127.0.0.1:", port));
  std::string body = CreateBody();
  body.replace(body.find("127.0.0.1:1/"), 12,
               absl::StrCat("127.0.0.1:", sink_port, "/"));
  absl::StatusOr<http::HttpResponse> created =
      client.Send(Method::kPost, "/v2/pods", {}, body, "application/json");
  ASSERT_OK(created.status());
  ASSERT_EQ(created->status, 201) << created->body;
  std::string id = Str(Json(created->body), "id");
  // ~45 simulated minutes: about half a second of wall time. Poll the
  // condition; the deadline only catches a hang.
  Struct pod;
  for (int i = 0; i < 6000 && Str(pod, "status") != "EXITED"; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
    absl::StatusOr<http::HttpResponse> r =
        client.Send(Method::kGet, "/v2/pods/" + id);
    ASSERT_OK(r.status());
    pod = Json(r->body);
  }
  ASSERT_EQ(Str(pod, "status"), "EXITED");
  EXPECT_EQ(Str(pod, "exitReason"), "completed");
  int64_t events = static_cast<int64_t>(pod.fields()
                                            .at("simulation")
                                            .struct_value()
                                            .fields()
                                            .at("events")
                                            .number_value());
  scheduler.Stop();
  sender.Stop();
  server.Stop();
  sink.Stop();
  EXPECT_EQ(bad.load(), 0);
  absl::MutexLock lock(&mu);
  ASSERT_EQ(static_cast<int64_t>(received.size()), events);
  for (int64_t i = 0; i < events; ++i) {
    ASSERT_EQ(received[i], absl::StrCat("evt_1_", i + 1));
  }
}

}  // namespace
}  // namespace trainyard::gpusim

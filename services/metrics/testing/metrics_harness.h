// Copyright 2026 Trainyard authors.
//
// For tests: metrics-ingest in process over real loopback HTTP and gRPC with
// a real RocksDB (TestServer + BuildMetrics), with helpers to post signed
// webhooks and call the gRPC API.
#pragma once

#include <fstream>
#include <functional>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/http/client.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "common/testing/test_server.h"
#include "common/time/clock.h"
#include "common/webhook/base64.h"
#include "common/webhook/signature.h"
#include "gtest/gtest.h"
#include "services/metrics/metrics_module.h"
#include "trainyard/metrics/v1/metrics.grpc.pb.h"

namespace trainyard::metrics {

// The "chained" vector of webhook-vectors.json: computed outside our code.
inline constexpr char kVectorMasterKey[] =
    "dHJhaW55YXJkLXRlc3QtbWFzdGVyLWtleS0wMTIzNDU2Nzg5YWJjZGVm";
inline constexpr char kVectorJob[] = "job-7f3a";
inline constexpr char kVectorId[] = "evt_1_99";
constexpr int64_t kVectorTimestamp = 1764385800;
inline constexpr char kVectorBody[] =
    "{\"type\":\"checkpoint\",\"attempt\":1,\"seq\":99,\"time\":\"2026-11-"
    "29T03:"
    "10:00Z\",\"checkpoint\":{\"step\":800,\"uri\":\"s3://ckpt/job-7f3a/"
    "800\",\"sizeBytes\":167772160}}";

// The service on a temp (or given) data dir, with helpers to post signed
// webhooks and call the gRPC API. `serve` false leaves it started but not
// marked serving, as it is while RunService warms up.
class Harness {
 public:
  explicit Harness(std::string data_dir = "",
                   std::function<void(MetricsConfig&)> tweak = nullptr,
                   bool serve = true)
      : server_(MetricsColumnFamilies(), [&](server::ServerConfig& c) {
          if (!data_dir.empty()) c.data_dir = data_dir;
        }) {
    key_file_ = key_dir_.Sub("master.key");
    std::ofstream(key_file_) << kVectorMasterKey << "\n";
    master_key_ = *webhook::Base64Decode(kVectorMasterKey);
    MetricsConfig config;
    config.master_key_file = key_file_;
    config.stall_check_interval = absl::ZeroDuration();  // tests drive time
    if (tweak) tweak(config);
    server::ServiceContext ctx = server_.Context();
    auto module = BuildMetrics(ctx, config);
    EXPECT_OK(module.status());
    module_ = *std::move(module);
    EXPECT_OK(module_->Warmup());
    EXPECT_OK(server_.Start());
    if (serve) server_.host().MarkServing();
    server_.clock().Set(absl::FromUnixSeconds(kVectorTimestamp));
    stub_ = v1::MetricsService::NewStub(server_.Channel());
    http_ = std::make_unique<http::HttpClient>(server_.AdminUrl());
  }

  // The server drains (ending its streams) before the service it serves goes.
  ~Harness() { server_.Shutdown(); }

  // Posts `body` signed for `job` as webhooks.md says: webhook-timestamp is
  // real wall-clock time (`ts` overrides it), not the suite's fake clock.
  http::HttpResponse Post(const std::string& job, const std::string& id,
                          const std::string& body,
                          std::string content_type = "application/json",
                          std::optional<std::string> signature = std::nullopt,
                          std::optional<int64_t> ts = std::nullopt) {
    int64_t timestamp = ts.value_or(absl::ToUnixSeconds(wall_.Now()));
    std::string sig = signature.value_or(webhook::Sign(
        webhook::DeriveJobSecretKey(master_key_, job), id, timestamp, body));
    auto r = http_->Send(http::Method::kPost,
                         absl::StrCat("/v1/webhooks/runpod/", job),
                         {{"webhook-id", id},
                          {"webhook-timestamp", absl::StrCat(timestamp)},
                          {"webhook-signature", sig}},
                         body, content_type);
    EXPECT_OK(r.status());
    return r.ok() ? *r : http::HttpResponse{};
  }

  std::string MetricsBody(int seq, int step, std::string loss = "0.5") {
    return absl::StrFormat(
        R"({"type":"metrics","attempt":1,"seq":%d,"time":"2025-11-29T03:10:%02dZ",)"
        R"("message":"Training epoch 1/3 - Step %d/2000...","metrics":{"step":%d,)"
        R"("totalSteps":2000,"epoch":1,"totalEpochs":3,"trainLoss":%s,)"
        R"("gpuUtilization":0.87,"extra":{"reward":0.1}}})",
        seq, seq % 60, step, step, loss);
  }

  template <typename Req, typename Resp, typename Method>
  grpc::Status Call(Method call, const Req& req, Resp* resp) {
    grpc::ClientContext ctx;
    testing::TestServer::Authorize(ctx, auth::Role::kViewer);
    return (stub_.get()->*call)(&ctx, req, resp);
  }

  v1::ListEventsResponse ListAll(const std::string& job) {
    v1::ListEventsRequest req;
    req.set_job_id(job);
    req.set_page_size(100);
    v1::ListEventsResponse resp;
    grpc::Status s = Call(&v1::MetricsService::Stub::ListEvents, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }

  grpc::StatusCode ProgressCode(const std::string& job) {
    v1::GetProgressRequest req;
    req.set_job_id(job);
    v1::GetProgressResponse resp;
    return Call(&v1::MetricsService::Stub::GetProgress, req, &resp)
        .error_code();
  }

  RealClock wall_;  // What a sender signs with.
  testing::TempDir key_dir_;
  testing::TestServer server_;
  std::string key_file_;
  std::string master_key_;
  std::unique_ptr<server::ServiceModule> module_;
  std::unique_ptr<v1::MetricsService::Stub> stub_;
  std::unique_ptr<http::HttpClient> http_;
};

}  // namespace trainyard::metrics

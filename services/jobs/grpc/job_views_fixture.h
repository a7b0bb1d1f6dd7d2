// Copyright 2026 Trainyard authors.
//
// The in-process fixture of JobService part 2's tests: job-control over real
// gRPC (TestServer: loopback, temp RocksDB, fake suite clock), fakes behind
// the engine, metrics and cost at given addresses.
#pragma once

#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status/grpc_status.h"
#include "common/testing/service_process.h"
#include "common/testing/status_matchers.h"
#include "common/testing/test_server.h"
#include "gtest/gtest.h"
#include "services/jobs/app/fake_clients.h"
#include "services/jobs/jobs_module.h"
#include "trainyard/jobs/v1/jobs.grpc.pb.h"

namespace trainyard::jobs {

using trainyard::testing::TestServer;
using namespace trainyard::jobs::testing;

class JobViewsTest : public ::testing::Test {
 protected:
  JobViewsTest() : server_(JobsColumnFamilies()) {}

  // Builds job-control reading metrics and cost at these addresses (default:
  // a closed port, i.e. both unavailable).
  void Start(std::string metrics = "127.0.0.1:1",
             std::string cost = "127.0.0.1:1") {
    JobsConfig config;
    config.webhook_master_key_file = server_.dir().Sub("master.key");
    std::ofstream(config.webhook_master_key_file)
        << trainyard::testing::kTestMasterKey << "\n";
    config.service_token_file = server_.dir().Sub("service.token");
    std::ofstream(config.service_token_file)
        << TestServer::TokenFor(auth::Role::kService) << "\n";
    config.metrics_address = std::move(metrics);
    config.cost_address = std::move(cost);
    JobsOverrides o{&provider_, &scheduler_, &cost_, &metrics_, true, true};
    o.on_engine = [this](Engine& e) { engine_ = &e; };
    o.views = views_;
    server::ServiceContext ctx = server_.Context();
    auto module = BuildJobs(ctx, config, o);
    ASSERT_OK(module.status());
    module_ = *std::move(module);
    ASSERT_OK(server_.Start());
    server_.host().MarkServing();
    stub_ = v1::JobService::NewStub(server_.Channel());
  }

  void TearDown() override { server_.Shutdown(); }

  template <typename Req, typename Resp, typename Method>
  absl::Status Call(auth::Role role, Method method, const Req& req,
                    Resp* resp) {
    grpc::ClientContext ctx;
    TestServer::Authorize(ctx, role);
    return FromGrpcStatus(((*stub_).*method)(&ctx, req, resp));
  }

  v1::Job Create(std::string name, auth::Role role = auth::Role::kEngineer,
                 common::v1::GpuType gpu = common::v1::GPU_TYPE_A100_80GB) {
    v1::CreateJobRequest req;
    v1::JobSpec* s = req.mutable_spec();
    s->set_display_name(name);
    auto* c = s->mutable_config();
    c->set_base_model("meta-llama/Meta-Llama-3-8B");
    c->mutable_dataset()->set_uri("s3://data/x.jsonl");
    c->mutable_dataset()->set_conversations(10000);
    c->set_gpu_type(gpu);
    v1::CreateJobResponse resp;
    EXPECT_OK(Call(role, &v1::JobService::Stub::CreateJob, req, &resp));
    return resp.job();
  }

  // What the cost refresh does to a job's copy: spend (and state) as given.
  void SetCostAndState(const std::string& id, double dollars,
                       common::v1::JobState state) {
    internal::JobRecord r = *engine_->store().Get(id);
    r.mutable_job()->mutable_cost()->mutable_spend()->set_micros(
        static_cast<int64_t>(dollars * 1e6));
    r.mutable_job()->set_state(state);
    Commit c;
    c.record = r;
    ASSERT_OK(engine_->store().Write(c));
  }

  v1::ListJobsResponse List(const std::string& filter,
                            const std::string& order = "",
                            const std::string& keyword = "") {
    v1::ListJobsRequest req;
    req.set_filter(filter);
    req.set_order_by(order);
    req.set_keyword(keyword);
    v1::ListJobsResponse resp;
    EXPECT_OK(
        Call(auth::Role::kViewer, &v1::JobService::Stub::ListJobs, req, &resp));
    return resp;
  }

  static std::vector<std::string> Names(const v1::ListJobsResponse& r) {
    std::vector<std::string> names;
    for (const v1::Job& j : r.jobs()) names.push_back(j.spec().display_name());
    return names;
  }

  TestServer server_;
  // Optional: adjusts the handlers' dependencies (set before Start).
  std::function<JobViewsDeps(const JobViewsDeps&)> views_;
  FakeProvider provider_;
  FakeScheduler scheduler_;
  FakeCost cost_;
  FakeMetrics metrics_;
  Engine* engine_ = nullptr;
  std::unique_ptr<server::ServiceModule> module_;
  std::unique_ptr<v1::JobService::Stub> stub_;
};

}  // namespace trainyard::jobs

// Copyright 2026 Trainyard authors.
//
// For tests: queue-scheduler in process over real loopback gRPC with a real
// RocksDB (TestServer + BuildScheduler), a fake suite clock and a fake
// progress source. A second harness on the same data dir is a restart.
#pragma once

#include <memory>
#include <string>

#include "common/testing/status_matchers.h"
#include "common/testing/test_server.h"
#include "common/time/proto_time.h"
#include "gtest/gtest.h"
#include "services/scheduler/scheduler_module.h"
#include "services/scheduler/testing/scheduler_fixture.h"
#include "trainyard/scheduler/v1/scheduler.grpc.pb.h"

namespace trainyard::scheduler::testing {

class Harness {
 public:
  explicit Harness(std::string data_dir = "",
                   std::string notifications_file = "",
                   std::string notify_webhook_url = "")
      : server_(SchedulerColumnFamilies(), [&](server::ServerConfig& c) {
          if (!data_dir.empty()) c.data_dir = data_dir;
        }) {
    SchedulerConfig config;
    config.estimate_interval = absl::ZeroDuration();  // tests call Tick
    config.progress_override = &progress_;
    config.notify.file = std::move(notifications_file);
    config.notify.webhook_url = std::move(notify_webhook_url);
    server::ServiceContext ctx = server_.Context();
    auto module = BuildScheduler(ctx, config);
    EXPECT_OK(module.status());
    module_ = *std::move(module);
    EXPECT_OK(module_->Warmup());
    EXPECT_OK(server_.Start());
    server_.host().MarkServing();
    stub_ = v1::SchedulerService::NewStub(server_.Channel());
  }

  ~Harness() { server_.Shutdown(); }

  template <typename Req, typename Resp, typename Method>
  grpc::Status Call(Method call, const Req& req, Resp* resp,
                    auth::Role role = auth::Role::kService) {
    grpc::ClientContext ctx;
    ::trainyard::testing::TestServer::Authorize(ctx, role);
    return (stub_.get()->*call)(&ctx, req, resp);
  }

  v1::EnqueueRequest Job(const std::string& id, int minute,
                         absl::Duration duration = absl::Hours(1)) {
    v1::EnqueueRequest r;
    r.set_request_id(id + "/1/enqueue");
    r.set_job_id(id);
    r.set_display_name("Job " + id);
    r.mutable_created_by()->set_user_id("engineer");
    *r.mutable_create_time() =
        ToProto(absl::FromUnixSeconds(1764300000) + absl::Minutes(minute));
    *r.mutable_estimated_duration() = ToProto(duration);
    r.set_attempt(1);
    return r;
  }

  v1::EnqueueResponse Enqueue(const v1::EnqueueRequest& r) {
    v1::EnqueueResponse resp;
    grpc::Status s = Call(&v1::SchedulerService::Stub::Enqueue, r, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }

  ::trainyard::testing::TestServer server_;
  FakeProgress progress_;
  std::unique_ptr<SchedulerModule> module_;
  std::unique_ptr<v1::SchedulerService::Stub> stub_;
};

}  // namespace trainyard::scheduler::testing

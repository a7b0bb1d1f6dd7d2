// Copyright 2026 Trainyard authors.
//
// For tests and benchmarks: cost in process over real loopback gRPC with a
// real RocksDB (TestServer + BuildCost), a fake suite clock and fake
// progress; the periodic budget check is driven by Tick().
#pragma once

#include <memory>
#include <string>

#include "common/status/errors.h"
#include "common/status/grpc_status.h"
#include "common/testing/status_matchers.h"
#include "common/testing/test_server.h"
#include "gtest/gtest.h"
#include "services/cost/app/fake_progress_source.h"
#include "services/cost/cost_module.h"
#include "trainyard/cost/v1/cost.grpc.pb.h"

namespace trainyard::cost {

class Harness {
 public:
  explicit Harness(std::string data_dir = "",
                   absl::Time start = absl::FromUnixSeconds(1764385200))
      : server_(CostColumnFamilies(), [&](server::ServerConfig& c) {
          if (!data_dir.empty()) c.data_dir = data_dir;
        }) {
    server_.clock().Set(start);
    auto progress = std::make_unique<FakeProgressSource>();
    progress_ = progress.get();
    CostConfig config;
    config.budget_check_interval = absl::ZeroDuration();  // tests Tick
    server::ServiceContext ctx = server_.Context();
    auto module = BuildCost(ctx, config, std::move(progress));
    EXPECT_OK(module.status());
    module_ = *std::move(module);
    EXPECT_OK(module_->Warmup());
    EXPECT_OK(server_.Start());
    server_.host().MarkServing();
    stub_ = v1::CostService::NewStub(server_.Channel());
  }

  // The server drains (ending its streams) before the module goes.
  ~Harness() { server_.Shutdown(); }

  template <typename Req, typename Resp, typename Method>
  absl::Status Call(Method call, const Req& req, Resp* resp,
                    auth::Role role = auth::Role::kService) {
    grpc::ClientContext ctx;
    testing::TestServer::Authorize(ctx, role);
    return FromGrpcStatus((stub_.get()->*call)(&ctx, req, resp));
  }

  FakeClock& clock() { return server_.clock(); }
  FakeProgressSource& progress() { return *progress_; }
  CostModule& module() { return *module_; }
  v1::CostService::Stub& stub() { return *stub_; }
  testing::TestServer& server() { return server_; }

 private:
  testing::TestServer server_;
  FakeProgressSource* progress_ = nullptr;
  std::unique_ptr<CostModule> module_;
  std::unique_ptr<v1::CostService::Stub> stub_;
};

}  // namespace trainyard::cost

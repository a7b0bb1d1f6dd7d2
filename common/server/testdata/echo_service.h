// Copyright 2026 Trainyard authors.
//
// trainyard.testing.v1.EchoService for the runtime's own tests: Echo (viewer)
// answers or fails on request; Hold (engineer) blocks until released.
#pragma once

#include "absl/synchronization/notification.h"
#include "common/auth/access_policy.h"
#include "common/server/rpc.h"
#include "trainyard/testing/v1/echo.grpc.pb.h"

namespace trainyard::server {

inline const auth::AccessPolicy& EchoPolicy() {
  static const auto* policy = new auth::AccessPolicy(
      "trainyard.testing.v1.EchoService", {{"Echo", auth::Role::kViewer},
                                           {"Hold", auth::Role::kEngineer},
                                           {"Beat", auth::Role::kViewer}});
  return *policy;
}

class EchoServiceImpl final
    : public trainyard::testing::v1::EchoService::CallbackService {
 public:
  // Echo runs on `echo_lane`; Hold always on the interactive executor.
  explicit EchoServiceImpl(Rpc& rpc,
                           Rpc::Lane echo_lane = Rpc::Lane::kInteractive)
      : rpc_(rpc), echo_lane_(echo_lane) {}

  grpc::ServerUnaryReactor* Echo(
      grpc::CallbackServerContext* ctx,
      const trainyard::testing::v1::EchoRequest* request,
      trainyard::testing::v1::EchoResponse* response) override {
    return rpc_.Unary(
        ctx, "Echo", request, response,
        [](const CallInfo& call, const trainyard::testing::v1::EchoRequest& req,
           trainyard::testing::v1::EchoResponse& out) {
          if (req.fail_code() != 0) {
            return absl::Status(static_cast<absl::StatusCode>(req.fail_code()),
                                "asked to fail");
          }
          out.set_text(req.text());
          out.set_user(call.principal.user);
          return absl::OkStatus();
        },
        echo_lane_);
  }

  grpc::ServerUnaryReactor* Hold(
      grpc::CallbackServerContext* ctx,
      const trainyard::testing::v1::HoldRequest* request,
      trainyard::testing::v1::HoldResponse* response) override {
    return rpc_.Unary(
        ctx, "Hold", request, response,
        [this](const CallInfo&, const trainyard::testing::v1::HoldRequest&,
               trainyard::testing::v1::HoldResponse&) {
          entered.Notify();
          release.WaitForNotification();
          return absl::OkStatus();
        });
  }

  absl::Notification entered;
  absl::Notification release;

 private:
  Rpc& rpc_;
  const Rpc::Lane echo_lane_;
};

}  // namespace trainyard::server

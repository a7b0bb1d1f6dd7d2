// Copyright 2026 Trainyard authors.
//
// Calls a gRPC method with request bytes chosen by the test (which need not
// parse as the method's request message), over a real channel, as a client
// with another schema or a hostile one would:
//
//   grpc::Status s = RawUnaryCall(channel, "/pkg.Svc/Method", "\xff\xff", ctx);
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <string_view>

namespace trainyard::testing {

// A unary call of `method` ("/package.Service/Method") with `request` as the
// message bytes; returns the call's status. Waits for the answer.
grpc::Status RawUnaryCall(const std::shared_ptr<grpc::Channel>& channel,
                          std::string_view method, std::string_view request,
                          grpc::ClientContext& ctx);

// A server-streaming call of `method` with `request` as the one request
// message; reads every response and returns the final status.
grpc::Status RawServerStreamCall(const std::shared_ptr<grpc::Channel>& channel,
                                 std::string_view method,
                                 std::string_view request,
                                 grpc::ClientContext& ctx);

}  // namespace trainyard::testing

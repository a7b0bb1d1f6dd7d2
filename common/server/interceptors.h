// Copyright 2026 Trainyard authors.
//
// Server interceptors (gRPC's experimental API): Prometheus counters and
// latency per method and code, and one log line per call.
//
// Limits of gRPC 1.51 (traps.md): a message over the size limit is rejected
// before any interceptor runs, so it is neither counted nor logged here; an
// interceptor cannot end a call, which is why authorization lives in
// rpc.h's wrapper instead.
#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <memory>

#include "common/auth/authenticator.h"
#include "common/logging/logger.h"
#include "common/telemetry/grpc_metrics.h"
#include "common/time/clock.h"

namespace trainyard::server {

// "unary", "client_stream", "server_stream" or "bidi_stream".
std::string_view GrpcTypeLabel(grpc::experimental::ServerRpcInfo::Type type);

// References must outlive the server.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeMetricsInterceptorFactory(telemetry::GrpcServerMetrics& metrics,
                              const Clock& wall_clock);

// Logs method, code, duration, peer and the caller's user (resolved with
// `authenticator`; "-" when unauthenticated). Errors log at WARNING.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeLoggingInterceptorFactory(Logger& logger,
                              const auth::Authenticator& authenticator,
                              const Clock& wall_clock);

}  // namespace trainyard::server

// Copyright 2026 Trainyard authors.
//
// Server interceptors (gRPC's experimental API): answers for requests that do
// not decode, Prometheus counters and latency per method and code, and one
// log line per call.
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

// gRPC 1.51's callback API answers a unary or server-streaming request whose
// bytes do not parse as the method's request message (malformed protobuf, or
// invalid UTF-8 in a proto3 string field) with UNIMPLEMENTED and no message,
// without running the handler (server_callback_handlers.h). This interceptor
// turns that answer into INVALID_ARGUMENT naming the message type, reason
// MALFORMED_REQUEST (common/status/errors.h), for every service. It must be
// the first interceptor, so the others count and log the corrected code.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeDecodeErrorInterceptorFactory();

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

// Copyright 2026 Trainyard authors.
#include "common/telemetry/grpc_metrics.h"

namespace trainyard::telemetry {
namespace {

// 0.5 ms .. 60 s: unary calls are sub-millisecond to seconds; streams are
// observed when they end and may last hours (they land in +Inf).
const prometheus::Histogram::BucketBoundaries& Buckets() {
  static const auto* b = new prometheus::Histogram::BucketBoundaries{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
      0.25,   0.5,   1,      2.5,   5,    10,    30,   60};
  return *b;
}

}  // namespace

GrpcServerMetrics::GrpcServerMetrics(prometheus::Registry& registry)
    : started_(prometheus::BuildCounter()
                   .Name("grpc_server_started_total")
                   .Help("RPCs started on the server.")
                   .Register(registry)),
      handled_(prometheus::BuildCounter()
                   .Name("grpc_server_handled_total")
                   .Help("RPCs completed on the server, by status code.")
                   .Register(registry)),
      handling_seconds_(prometheus::BuildHistogram()
                            .Name("grpc_server_handling_seconds")
                            .Help("Time from the start of an RPC to its "
                                  "status being sent, in seconds.")
                            .Register(registry)) {}

void GrpcServerMetrics::AddKnownMethod(std::string full_method) {
  known_.insert(std::move(full_method));
}

prometheus::Labels GrpcServerMetrics::MethodLabels(
    std::string_view grpc_type, std::string_view full_method) const {
  std::string service = "unknown", method = "unknown";
  if (known_.contains(
          absl::string_view(full_method.data(), full_method.size()))) {
    // "/pkg.Service/Method"
    size_t slash = full_method.rfind('/');
    service = std::string(full_method.substr(1, slash - 1));
    method = std::string(full_method.substr(slash + 1));
  }
  return {{"grpc_type", std::string(grpc_type)},
          {"grpc_service", std::move(service)},
          {"grpc_method", std::move(method)}};
}

void GrpcServerMetrics::Started(std::string_view grpc_type,
                                std::string_view full_method) {
  started_.Add(MethodLabels(grpc_type, full_method)).Increment();
}

void GrpcServerMetrics::Handled(std::string_view grpc_type,
                                std::string_view full_method,
                                std::string_view code, double seconds) {
  prometheus::Labels labels = MethodLabels(grpc_type, full_method);
  handling_seconds_.Add(labels, Buckets()).Observe(seconds);
  labels.emplace("grpc_code", std::string(code));
  handled_.Add(labels).Increment();
}

}  // namespace trainyard::telemetry

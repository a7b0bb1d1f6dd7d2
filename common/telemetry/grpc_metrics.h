// Copyright 2026 Trainyard authors.
//
// The standard gRPC server metrics (the names go-grpc-prometheus made common,
// so existing dashboards work):
//   grpc_server_started_total{grpc_type,grpc_service,grpc_method}
//   grpc_server_handled_total{grpc_type,grpc_service,grpc_method,grpc_code}
//   grpc_server_handling_seconds{grpc_type,grpc_service,grpc_method}
//   (histogram)
// Label values are bounded: methods not served here count as
// grpc_service="unknown", grpc_method="unknown".
//
// Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "absl/container/flat_hash_set.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace trainyard::telemetry {

class GrpcServerMetrics {
 public:
  // Registers the three families in `registry`, which must outlive this.
  explicit GrpcServerMetrics(prometheus::Registry& registry);

  // Declares a served method, "/pkg.Service/Method". Call before serving.
  void AddKnownMethod(std::string full_method);

  // `grpc_type` is unary, client_stream, server_stream or bidi_stream.
  void Started(std::string_view grpc_type, std::string_view full_method);
  void Handled(std::string_view grpc_type, std::string_view full_method,
               std::string_view code, double seconds);

 private:
  prometheus::Labels MethodLabels(std::string_view grpc_type,
                                  std::string_view full_method) const;

  absl::flat_hash_set<std::string> known_;
  prometheus::Family<prometheus::Counter>& started_;
  prometheus::Family<prometheus::Counter>& handled_;
  prometheus::Family<prometheus::Histogram>& handling_seconds_;
};

}  // namespace trainyard::telemetry

// Copyright 2026 Trainyard authors.
#include "common/server/interceptors.h"

#include <grpcpp/server_context.h>
#include <grpcpp/support/interceptor.h>

#include <algorithm>

#include "absl/strings/str_format.h"
#include "common/status/errors.h"
#include "common/status/grpc_status.h"
#include "google/protobuf/descriptor.h"

namespace trainyard::server {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::InterceptorBatchMethods;
using grpc::experimental::ServerRpcInfo;

std::string CodeLabel(grpc::StatusCode code) {
  return CodeName(static_cast<absl::StatusCode>(code));
}

// The request's message type for "/pkg.Service/Method", from the linked
// descriptors (every service's generated code is linked in).
std::string RequestType(std::string_view method) {
  std::string dotted(method.substr(1));
  std::replace(dotted.begin(), dotted.end(), '/', '.');
  const google::protobuf::MethodDescriptor* m =
      google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
          dotted);
  return m != nullptr ? m->input_type()->full_name()
                      : "request message of " + std::string(method);
}

class DecodeErrorInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit DecodeErrorInterceptor(ServerRpcInfo* info) : info_(info) {}

  void Intercept(InterceptorBatchMethods* methods) override {
    // Unary and server-streaming calls receive their one request before the
    // handler; a null message there means it did not deserialize. (Streams
    // from the client also see null at their normal end: not ours to judge.)
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() == nullptr &&
        (info_->type() == ServerRpcInfo::Type::UNARY ||
         info_->type() == ServerRpcInfo::Type::SERVER_STREAMING)) {
      undecodable_ = true;
    }
    if (undecodable_ &&
        methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS) &&
        methods->GetSendStatus().error_code() ==
            grpc::StatusCode::UNIMPLEMENTED) {
      methods->ModifySendStatus(
          ToGrpcStatus(MalformedRequestError(RequestType(info_->method()))));
    }
    methods->Proceed();
  }

 private:
  ServerRpcInfo* const info_;
  bool undecodable_ = false;
};

class DecodeErrorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      ServerRpcInfo* info) override {
    return new DecodeErrorInterceptor(info);
  }
};

class MetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(ServerRpcInfo* info, telemetry::GrpcServerMetrics& metrics,
                     const Clock& clock)
      : method_(info->method()),
        type_(GrpcTypeLabel(info->type())),
        metrics_(metrics),
        clock_(clock),
        start_(clock.Now()) {
    metrics_.Started(type_, method_);
  }

  void Intercept(InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      metrics_.Handled(type_, method_,
                       CodeLabel(methods->GetSendStatus().error_code()),
                       absl::ToDoubleSeconds(clock_.Now() - start_));
    }
    methods->Proceed();
  }

 private:
  const std::string_view method_;
  const std::string_view type_;
  telemetry::GrpcServerMetrics& metrics_;
  const Clock& clock_;
  const absl::Time start_;
};

class LoggingInterceptor final : public grpc::experimental::Interceptor {
 public:
  LoggingInterceptor(ServerRpcInfo* info, Logger& logger,
                     const auth::Authenticator& authenticator,
                     const Clock& clock)
      : info_(info),
        logger_(logger),
        authenticator_(authenticator),
        clock_(clock),
        start_(clock.Now()) {}

  void Intercept(InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      const auto* metadata = methods->GetRecvInitialMetadata();
      std::optional<std::string_view> authorization;
      if (auto it = metadata->find("authorization"); it != metadata->end()) {
        authorization = std::string_view(it->second.data(), it->second.size());
      }
      absl::StatusOr<auth::Principal> p =
          authenticator_.Authenticate(authorization);
      user_ = p.ok() ? p->user : "-";
    }
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::Status status = methods->GetSendStatus();
      std::string code = CodeLabel(status.error_code());
      std::string ms = absl::StrFormat(
          "%.3f", absl::ToDoubleMilliseconds(clock_.Now() - start_));
      std::string peer = info_->server_context()->peer();
      std::vector<LogField> fields = {{"method", info_->method()},
                                      {"code", code},
                                      {"ms", ms},
                                      {"user", user_},
                                      {"peer", peer}};
      if (!status.ok()) fields.emplace_back("error", status.error_message());
      logger_.Log(status.ok() ? LogLevel::kInfo : LogLevel::kWarning, "rpc",
                  fields);
    }
    methods->Proceed();
  }

 private:
  ServerRpcInfo* const info_;
  Logger& logger_;
  const auth::Authenticator& authenticator_;
  const Clock& clock_;
  const absl::Time start_;
  std::string user_ = "-";
};

class MetricsFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  MetricsFactory(telemetry::GrpcServerMetrics& m, const Clock& c)
      : metrics_(m), clock_(c) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      ServerRpcInfo* info) override {
    return new MetricsInterceptor(info, metrics_, clock_);
  }

 private:
  telemetry::GrpcServerMetrics& metrics_;
  const Clock& clock_;
};

class LoggingFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  LoggingFactory(Logger& l, const auth::Authenticator& a, const Clock& c)
      : logger_(l), authenticator_(a), clock_(c) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      ServerRpcInfo* info) override {
    return new LoggingInterceptor(info, logger_, authenticator_, clock_);
  }

 private:
  Logger& logger_;
  const auth::Authenticator& authenticator_;
  const Clock& clock_;
};

}  // namespace

std::string_view GrpcTypeLabel(ServerRpcInfo::Type type) {
  switch (type) {
    case ServerRpcInfo::Type::UNARY:
      return "unary";
    case ServerRpcInfo::Type::CLIENT_STREAMING:
      return "client_stream";
    case ServerRpcInfo::Type::SERVER_STREAMING:
      return "server_stream";
    case ServerRpcInfo::Type::BIDI_STREAMING:
      return "bidi_stream";
  }
  return "unknown";
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeDecodeErrorInterceptorFactory() {
  return std::make_unique<DecodeErrorFactory>();
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeMetricsInterceptorFactory(telemetry::GrpcServerMetrics& metrics,
                              const Clock& wall_clock) {
  return std::make_unique<MetricsFactory>(metrics, wall_clock);
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeLoggingInterceptorFactory(Logger& logger,
                              const auth::Authenticator& authenticator,
                              const Clock& wall_clock) {
  return std::make_unique<LoggingFactory>(logger, authenticator, wall_clock);
}

}  // namespace trainyard::server

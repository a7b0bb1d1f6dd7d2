// Copyright 2026 Trainyard authors.
#include "common/server/service_host.h"

#include <google/protobuf/descriptor.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/security/server_credentials.h>

#include <fstream>
#include <sstream>
#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/server/interceptors.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "common/strings/absl_view.h"

namespace trainyard::server {
namespace {

absl::StatusOr<std::string> ReadSetting(std::string_view setting,
                                        const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", ToAbsl(setting), ": cannot read \"", path, "\""));
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeCredentials(
    const ServerConfig& config) {
  if (config.tls_cert_file.empty()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options;
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  ASSIGN_OR_RETURN(pair.cert_chain,
                   ReadSetting("tls_cert_file", config.tls_cert_file));
  ASSIGN_OR_RETURN(pair.private_key,
                   ReadSetting("tls_key_file", config.tls_key_file));
  options.pem_key_cert_pairs.push_back(std::move(pair));
  if (!config.tls_client_ca_file.empty()) {
    ASSIGN_OR_RETURN(
        options.pem_root_certs,
        ReadSetting("tls_client_ca_file", config.tls_client_ca_file));
    options.client_certificate_request =
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(options);
}

// "host:port" → (host, port) for the admin server.
absl::StatusOr<std::pair<std::string, int>> SplitHostPort(
    std::string_view setting, std::string_view address) {
  size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string_view::npos ||
      !absl::SimpleAtoi(ToAbsl(address.substr(colon + 1)), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", ToAbsl(setting), ": \"", ToAbsl(address), "\" is not host:port"));
  }
  std::string host(address.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[')
    host = host.substr(1, host.size() - 2);
  return std::make_pair(host, port);
}

// Written whole under a temporary name, then renamed, so a reader never sees
// a partial file.
absl::Status WritePortsFile(const std::string& path, int grpc_port,
                            int admin_port) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << grpc_port << " " << admin_port << "\n";
    if (!out.flush()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--ports_file: cannot write \"", path, "\""));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--ports_file: cannot write \"", path, "\""));
  }
  return absl::OkStatus();
}

std::string SecurityDescription(const ServerConfig& config,
                                const auth::Authenticator& authenticator) {
  std::string transport =
      config.tls_cert_file.empty()
          ? "plaintext"
          : (config.tls_client_ca_file.empty() ? "TLS" : "mTLS");
  return absl::StrCat(transport, ", auth ", authenticator.Describe());
}

}  // namespace

ServiceHost::ServiceHost(const ServerConfig& config, Logger& logger,
                         const Clock& wall_clock,
                         const auth::Authenticator& authenticator)
    : config_(config),
      logger_(logger),
      wall_clock_(wall_clock),
      authenticator_(authenticator),
      registry_(std::make_shared<prometheus::Registry>()),
      grpc_metrics_(*registry_),
      executor_(static_cast<int>(config.rpc_threads)),
      bulk_executor_(static_cast<int>(config.bulk_threads),
                     static_cast<int>(config.bulk_nice)),
      timer_(wall_clock) {
  exposition_.Add(registry_);
  http::HttpServerOptions options;
  options.max_body_bytes = kAdminMaxBodyBytes;
  absl::StatusOr<std::pair<std::string, int>> admin_address =
      SplitHostPort("admin_address", config.admin_address);
  if (admin_address.ok()) {
    std::tie(options.host, options.port) = *admin_address;
  } else {
    admin_address_error_ = admin_address.status();
  }
  admin_ = std::make_unique<http::HttpServer>(options);
  AddAdminRoutes();
}

ServiceHost::~ServiceHost() { Shutdown(); }

void ServiceHost::AddAdminRoutes() {
  admin_->Handle(http::Method::kGet, "/metrics",
                 [this](const http::HttpRequest&) {
                   http::HttpResponse r;
                   r.content_type = telemetry::kPrometheusContentType;
                   r.body = exposition_.Render();
                   return r;
                 });
  admin_->Handle(http::Method::kGet, "/healthz", [](const http::HttpRequest&) {
    http::HttpResponse r;
    r.content_type = "text/plain";
    r.body = "ok\n";
    return r;
  });
  admin_->Handle(
      http::Method::kGet, "/readyz", [this](const http::HttpRequest&) {
        http::HttpResponse r;
        r.content_type = "text/plain";
        const ServicePhase phase = this->phase();
        const bool ready = phase == ServicePhase::kServing;
        r.status = ready ? 200 : 503;
        r.body =
            ready ? "ready\n"
                  : absl::StrCat("not ready: ", ToAbsl(PhaseName(phase)), "\n");
        for (const auto& check : readiness_checks_) {
          if (!ready) break;
          absl::Status s = check();
          if (s.ok()) continue;
          r.status = 503;
          r.body = absl::StrCat("not ready: ", ErrorReason(s), ": ",
                                s.message(), "\n");
          break;
        }
        return r;
      });
}

std::unique_ptr<Rpc> ServiceHost::MakeRpc(const auth::AccessPolicy& policy) {
  return std::make_unique<Rpc>(authenticator_, policy, executor_,
                               bulk_executor_, timer_, wall_clock_,
                               config_.unary_timeout);
}

absl::Status ServiceHost::AddService(grpc::Service* service,
                                     std::string_view full_name) {
  const google::protobuf::ServiceDescriptor* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          std::string(full_name));
  if (descriptor == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "service ", ToAbsl(full_name), " is not linked into this binary"));
  }
  for (int i = 0; i < descriptor->method_count(); ++i) {
    grpc_metrics_.AddKnownMethod(absl::StrCat("/", ToAbsl(full_name), "/",
                                              descriptor->method(i)->name()));
  }
  health_.AddService(std::string(full_name));
  services_.push_back(service);
  return absl::OkStatus();
}

absl::Status ServiceHost::Start() {
  if (started_) return absl::FailedPreconditionError("already started");
  started_ = true;
  RETURN_IF_ERROR(AddService(&health_, "grpc.health.v1.Health"));
  grpc_metrics_.AddKnownMethod(
      "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo");
  ASSIGN_OR_RETURN(auto credentials, MakeCredentials(config_));
  RETURN_IF_ERROR(admin_address_error_);

  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config_.grpc_address, credentials, &grpc_port_);
  builder.SetMaxReceiveMessageSize(static_cast<int>(config_.max_message_bytes));
  builder.SetMaxSendMessageSize(static_cast<int>(config_.max_message_bytes));
  builder.AddChannelArgument(
      GRPC_ARG_KEEPALIVE_TIME_MS,
      static_cast<int>(absl::ToInt64Milliseconds(config_.keepalive_time)));
  builder.AddChannelArgument(
      GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
      static_cast<int>(absl::ToInt64Milliseconds(config_.keepalive_timeout)));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // Clients may ping every 10 s without being told off (GOAWAY).
  builder.AddChannelArgument(
      GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  for (grpc::Service* s : services_) builder.RegisterService(s);

  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  // First: the others see the status it corrects (PRE_SEND_STATUS runs in
  // registration order on the server).
  interceptors.push_back(MakeDecodeErrorInterceptorFactory());
  interceptors.push_back(
      MakeMetricsInterceptorFactory(grpc_metrics_, wall_clock_));
  if (config_.log_requests) {
    interceptors.push_back(
        MakeLoggingInterceptorFactory(logger_, authenticator_, wall_clock_));
  }
  builder.experimental().SetInterceptorCreators(std::move(interceptors));

  server_ = builder.BuildAndStart();
  if (server_ == nullptr || grpc_port_ == 0) {
    server_.reset();
    return absl::UnavailableError(absl::StrCat(
        "--grpc_address: cannot listen on ", config_.grpc_address));
  }
  absl::StatusOr<int> admin_port = admin_->Start();
  if (!admin_port.ok()) {
    server_->Shutdown();
    server_.reset();
    return absl::Status(
        admin_port.status().code(),
        absl::StrCat("--admin_address: ", admin_port.status().message()));
  }
  admin_port_ = *admin_port;
  if (!config_.ports_file.empty()) {
    RETURN_IF_ERROR(
        WritePortsFile(config_.ports_file, grpc_port_, admin_port_));
  }
  logger_.Info("server.listening",
               {{"grpc_port", absl::StrCat(grpc_port_)},
                {"admin_port", absl::StrCat(admin_port_)},
                {"security", SecurityDescription(config_, authenticator_)}});
  return absl::OkStatus();
}

void ServiceHost::MarkServing() {
  ServicePhase starting = ServicePhase::kStarting;
  if (!phase_.compare_exchange_strong(starting, ServicePhase::kServing)) {
    return;  // shut down (or already serving)
  }
  health_.SetAllServing(true);
  logger_.Info("server.serving");
  absl::MutexLock lock(&periodic_mu_);
  for (size_t i = 0; i < periodic_.size(); ++i) {
    if (!periodic_pending_.contains(i)) SchedulePeriodic(i);
  }
}

void ServiceHost::Every(absl::Duration interval, std::function<void()> fn) {
  periodic_.push_back({interval, std::move(fn)});
}

void ServiceHost::SchedulePeriodic(size_t i) {
  if (periodic_stopped_) return;
  periodic_pending_[i] =
      timer_.Schedule(wall_clock_.Now() + periodic_[i].interval, [this, i]() {
        {
          absl::MutexLock lock(&periodic_mu_);
          if (periodic_stopped_) return;
          periodic_pending_.erase(i);
          ++periodic_running_;
        }
        bulk_executor_.Submit([this, i]() {
          periodic_[i].fn();
          absl::MutexLock lock(&periodic_mu_);
          --periodic_running_;
          SchedulePeriodic(i);
        });
      });
}

void ServiceHost::StopPeriodic() {
  absl::MutexLock lock(&periodic_mu_);
  periodic_stopped_ = true;
  for (const auto& [i, id] : periodic_pending_) timer_.Cancel(id);
  periodic_pending_.clear();
  periodic_mu_.Await(absl::Condition(
      +[](int* running) { return *running == 0; }, &periodic_running_));
}

void ServiceHost::Shutdown() {
  if (shut_down_.exchange(true)) return;
  phase_ = ServicePhase::kDraining;
  health_.SetAllServing(false);
  health_.Shutdown();
  StopPeriodic();
  for (auto& hook : drain_hooks_) hook();
  if (server_ != nullptr) {
    logger_.Info(
        "server.draining",
        {{"drain_timeout", absl::FormatDuration(config_.drain_timeout)}});
    server_->Shutdown(
        absl::ToChronoTime(wall_clock_.Now() + config_.drain_timeout));
    server_->Wait();
  }
  admin_->Stop();
  logger_.Info("server.stopped");
}

}  // namespace trainyard::server

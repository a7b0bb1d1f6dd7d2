// Copyright 2026 Trainyard authors.
#include "common/status/grpc_status.h"

#include "common/status/errors.h"
#include "common/status/payloads.h"
#include "common/strings/absl_view.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace trainyard {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  google::rpc::Status details;
  details.set_code(static_cast<int>(status.code()));
  details.set_message(std::string(status.message()));

  google::rpc::ErrorInfo info;
  info.set_reason(ErrorReason(status));
  info.set_domain(std::string(kErrorDomain));
  for (const auto& [k, v] : ErrorMetadata(status)) {
    (*info.mutable_metadata())[k] = v;
  }
  details.add_details()->PackFrom(info);

  // errors.h already stored the BadRequest serialized: pass it through.
  if (absl::optional<absl::Cord> bad_request =
          status.GetPayload(ToAbsl(kBadRequestTypeUrl))) {
    google::protobuf::Any* any = details.add_details();
    any->set_type_url(std::string(kBadRequestTypeUrl));
    any->set_value(std::string(*bad_request));
  }
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()),
                      details.SerializeAsString());
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status out(static_cast<absl::StatusCode>(status.error_code()),
                   status.error_message());
  google::rpc::Status details;
  if (status.error_details().empty() ||
      !details.ParseFromString(status.error_details())) {
    return out;
  }
  for (const auto& any : details.details()) {
    if (any.Is<google::rpc::ErrorInfo>()) {
      out.SetPayload(ToAbsl(kErrorInfoTypeUrl), absl::Cord(any.value()));
    } else if (any.Is<google::rpc::BadRequest>()) {
      out.SetPayload(ToAbsl(kBadRequestTypeUrl), absl::Cord(any.value()));
    }
  }
  return out;
}

}  // namespace trainyard

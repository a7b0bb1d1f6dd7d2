// Copyright 2026 Trainyard authors.
#include "common/status/errors.h"

#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status/payloads.h"
#include "common/status/reasons.h"
#include "common/strings/absl_view.h"
#include "google/rpc/error_details.pb.h"

namespace trainyard {

std::string CodeName(absl::StatusCode code) {
  return absl::AsciiStrToUpper(absl::StatusCodeToString(code));
}

absl::Status InvalidFieldsError(const std::vector<FieldViolation>& violations) {
  google::rpc::BadRequest bad_request;
  std::vector<std::string> parts;
  for (const FieldViolation& v : violations) {
    auto* fv = bad_request.add_field_violations();
    fv->set_field(v.field);
    fv->set_description(v.description);
    parts.push_back(absl::StrCat(v.field, ": ", v.description));
  }
  absl::Status status = absl::InvalidArgumentError(absl::StrJoin(parts, "; "));
  status.SetPayload(ToAbsl(kBadRequestTypeUrl),
                    absl::Cord(bad_request.SerializeAsString()));
  return status;
}

absl::Status InvalidFieldError(std::string_view field,
                               std::string_view description) {
  return InvalidFieldsError({{std::string(field), std::string(description)}});
}

absl::Status RequiredFieldError(std::string_view field) {
  return InvalidFieldError(field, "required");
}

absl::Status MalformedRequestError(std::string_view message_type) {
  return WithReason(
      absl::InvalidArgumentError(absl::StrCat(
          "the request is not a valid ", ToAbsl(message_type),
          ": its bytes do not parse as that message, or a string field "
          "holds invalid UTF-8 (send binary data in bytes fields)")),
      reasons::kMalformedRequest);
}

absl::Status JobNotFoundError(std::string_view job_id, std::string_view what) {
  return WithReason(absl::NotFoundError(absl::StrCat("job ", ToAbsl(job_id),
                                                     " ", ToAbsl(what))),
                    reasons::kJobNotFound, {{"job_id", std::string(job_id)}});
}

absl::Status EtagMismatchError(std::string_view what,
                               std::string_view current_etag) {
  return WithReason(
      absl::AbortedError(
          absl::StrCat(ToAbsl(what), " changed since it was read (etag is now ",
                       ToAbsl(current_etag), "); read it again")),
      reasons::kEtagMismatch);
}

absl::Status WithReason(absl::Status status, std::string_view reason,
                        const std::map<std::string, std::string>& metadata) {
  if (status.ok()) return status;
  google::rpc::ErrorInfo info;
  info.set_reason(std::string(reason));
  info.set_domain(std::string(kErrorDomain));
  for (const auto& [k, v] : metadata) (*info.mutable_metadata())[k] = v;
  status.SetPayload(ToAbsl(kErrorInfoTypeUrl),
                    absl::Cord(info.SerializeAsString()));
  return status;
}

namespace {
bool ParseErrorInfo(const absl::Status& status, google::rpc::ErrorInfo* info) {
  absl::optional<absl::Cord> payload =
      status.GetPayload(ToAbsl(kErrorInfoTypeUrl));
  return payload.has_value() && info->ParseFromString(std::string(*payload));
}
}  // namespace

std::string ErrorReason(const absl::Status& status) {
  if (status.ok()) return "";
  google::rpc::ErrorInfo info;
  if (ParseErrorInfo(status, &info) && !info.reason().empty()) {
    return info.reason();
  }
  return CodeName(status.code());
}

std::map<std::string, std::string> ErrorMetadata(const absl::Status& status) {
  google::rpc::ErrorInfo info;
  if (!ParseErrorInfo(status, &info)) return {};
  return {info.metadata().begin(), info.metadata().end()};
}

std::vector<FieldViolation> FieldViolations(const absl::Status& status) {
  absl::optional<absl::Cord> payload =
      status.GetPayload(ToAbsl(kBadRequestTypeUrl));
  google::rpc::BadRequest bad_request;
  if (!payload.has_value() ||
      !bad_request.ParseFromString(std::string(*payload))) {
    return {};
  }
  std::vector<FieldViolation> out;
  for (const auto& fv : bad_request.field_violations()) {
    out.push_back({fv.field(), fv.description()});
  }
  return out;
}

}  // namespace trainyard

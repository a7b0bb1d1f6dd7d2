// Copyright 2026 Trainyard authors.
#include "tools/gpusim/api/json_body.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/status/errors.h"
#include "common/strings/absl_view.h"
#include "google/protobuf/util/json_util.h"

namespace trainyard::gpusim {
namespace {

using google::protobuf::Value;

bool IsNull(const Value& v) {
  return v.kind_case() == Value::kNullValue ||
         v.kind_case() == Value::KIND_NOT_SET;
}

}  // namespace

absl::StatusOr<JsonObject> JsonObject::Parse(std::string_view body) {
  Value value;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(body.data(), body.size()), &value);
  if (!status.ok()) {
    return InvalidFieldError(
        "body",
        absl::StrCat("not valid JSON: ", std::string(status.message().data(),
                                                     status.message().size())));
  }
  if (value.kind_case() != Value::kStructValue) {
    return InvalidFieldError("body", "must be a JSON object");
  }
  return JsonObject(std::move(*value.mutable_struct_value()), "");
}

std::vector<std::string> JsonObject::Keys() const {
  std::vector<std::string> keys;
  for (const auto& [key, value] : value_.fields()) keys.push_back(key);
  std::sort(keys.begin(), keys.end());
  return keys;
}

std::string JsonObject::Path(std::string_view name) const {
  return absl::StrCat(prefix_, ToAbsl(name));
}

absl::StatusOr<std::optional<JsonObject>> JsonObject::Object(
    std::string_view name) const {
  const Value* v = Find(name);
  if (v == nullptr) return std::nullopt;
  if (v->kind_case() != Value::kStructValue) {
    return InvalidFieldError(Path(name), "must be an object");
  }
  return JsonObject(v->struct_value(), absl::StrCat(Path(name), "."));
}

const Value* JsonObject::Find(std::string_view name) const {
  auto it = value_.fields().find(std::string(name));
  if (it == value_.fields().end() || IsNull(it->second)) return nullptr;
  return &it->second;
}

absl::StatusOr<std::optional<std::string>> JsonObject::String(
    std::string_view name) const {
  const Value* v = Find(name);
  if (v == nullptr) return std::nullopt;
  if (v->kind_case() != Value::kStringValue) {
    return InvalidFieldError(Path(name), "must be a string");
  }
  return v->string_value();
}

absl::StatusOr<std::optional<int64_t>> JsonObject::Int(
    std::string_view name) const {
  const Value* v = Find(name);
  if (v == nullptr) return std::nullopt;
  if (v->kind_case() != Value::kNumberValue) {
    return InvalidFieldError(Path(name), "must be an integer");
  }
  double d = v->number_value();
  if (d != std::trunc(d) || std::fabs(d) > 9.0e15) {
    return InvalidFieldError(Path(name), "must be an integer");
  }
  return static_cast<int64_t>(d);
}

absl::StatusOr<std::optional<bool>> JsonObject::Bool(
    std::string_view name) const {
  const Value* v = Find(name);
  if (v == nullptr) return std::nullopt;
  if (v->kind_case() != Value::kBoolValue) {
    return InvalidFieldError(Path(name), "must be true or false");
  }
  return v->bool_value();
}

absl::StatusOr<std::optional<std::vector<std::string>>> JsonObject::StringList(
    std::string_view name) const {
  const Value* v = Find(name);
  if (v == nullptr) return std::nullopt;
  if (v->kind_case() != Value::kListValue) {
    return InvalidFieldError(Path(name), "must be an array of strings");
  }
  std::vector<std::string> out;
  for (const Value& item : v->list_value().values()) {
    if (item.kind_case() != Value::kStringValue) {
      return InvalidFieldError(Path(name), "must be an array of strings");
    }
    out.push_back(item.string_value());
  }
  return out;
}

absl::StatusOr<std::optional<std::vector<std::pair<std::string, std::string>>>>
JsonObject::StringMap(std::string_view name) const {
  const Value* v = Find(name);
  if (v == nullptr) return std::nullopt;
  if (v->kind_case() != Value::kStructValue) {
    return InvalidFieldError(Path(name), "must be an object of strings");
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [key, item] : v->struct_value().fields()) {
    if (item.kind_case() != Value::kStringValue) {
      return InvalidFieldError(absl::StrCat(Path(name), ".", key),
                               "must be a string");
    }
    out.emplace_back(key, item.string_value());
  }
  std::sort(out.begin(), out.end());
  return out;
}

absl::StatusOr<std::optional<std::string>> JsonObject::Scalar(
    std::string_view name) const {
  const Value* v = Find(name);
  if (v == nullptr) return std::nullopt;
  switch (v->kind_case()) {
    case Value::kStringValue:
      return v->string_value();
    case Value::kBoolValue:
      return std::string(v->bool_value() ? "true" : "false");
    case Value::kNumberValue:
      return absl::StrCat(v->number_value());
    default:
      return InvalidFieldError(Path(name), "must be a string, number or bool");
  }
}

}  // namespace trainyard::gpusim

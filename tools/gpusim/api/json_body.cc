// Copyright 2026 Trainyard authors.
#include "tools/gpusim/api/json_body.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/status/errors.h"
#include "common/strings/absl_view.h"

namespace trainyard::gpusim {

using nlohmann::json;

absl::StatusOr<JsonObject> JsonObject::Parse(std::string_view body) {
  json value;
  try {
    value = json::parse(body);
  } catch (const json::parse_error& e) {
    return InvalidFieldError("body",
                             absl::StrCat("not valid JSON: ", e.what()));
  }
  if (!value.is_object()) {
    return InvalidFieldError("body", "must be a JSON object");
  }
  return JsonObject(std::move(value), "");
}

std::vector<std::string> JsonObject::Keys() const {
  std::vector<std::string> keys;
  for (const auto& [key, value] : value_.items()) keys.push_back(key);
  std::sort(keys.begin(), keys.end());
  return keys;
}

std::string JsonObject::Path(std::string_view name) const {
  return absl::StrCat(prefix_, ToAbsl(name));
}

absl::StatusOr<std::optional<JsonObject>> JsonObject::Object(
    std::string_view name) const {
  const json* v = Find(name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_object())
    return InvalidFieldError(Path(name), "must be an object");
  return JsonObject(*v, absl::StrCat(Path(name), "."));
}

const json* JsonObject::Find(std::string_view name) const {
  auto it = value_.find(name);
  if (it == value_.end() || it->is_null()) return nullptr;
  return &*it;
}

absl::StatusOr<std::optional<std::string>> JsonObject::String(
    std::string_view name) const {
  const json* v = Find(name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) return InvalidFieldError(Path(name), "must be a string");
  return v->get<std::string>();
}

absl::StatusOr<std::optional<int64_t>> JsonObject::Int(
    std::string_view name) const {
  const json* v = Find(name);
  if (v == nullptr) return std::nullopt;
  if (v->is_number_integer() &&
      (!v->is_number_unsigned() ||
       v->get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX))) {
    return v->get<int64_t>();
  }
  // 3.0 is an integer too, as JSON has one number type.
  if (v->is_number_float()) {
    double d = v->get<double>();
    if (d == std::trunc(d) && std::fabs(d) <= 9.0e15) {
      return static_cast<int64_t>(d);
    }
  }
  return InvalidFieldError(Path(name), "must be an integer");
}

absl::StatusOr<std::optional<bool>> JsonObject::Bool(
    std::string_view name) const {
  const json* v = Find(name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_boolean()) {
    return InvalidFieldError(Path(name), "must be true or false");
  }
  return v->get<bool>();
}

absl::StatusOr<std::optional<std::vector<std::string>>> JsonObject::StringList(
    std::string_view name) const {
  const json* v = Find(name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_array()) {
    return InvalidFieldError(Path(name), "must be an array of strings");
  }
  std::vector<std::string> out;
  for (const json& item : *v) {
    if (!item.is_string()) {
      return InvalidFieldError(Path(name), "must be an array of strings");
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

absl::StatusOr<std::optional<std::vector<std::pair<std::string, std::string>>>>
JsonObject::StringMap(std::string_view name) const {
  const json* v = Find(name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_object()) {
    return InvalidFieldError(Path(name), "must be an object of strings");
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [key, item] : v->items()) {
    if (!item.is_string()) {
      return InvalidFieldError(absl::StrCat(Path(name), ".", key),
                               "must be a string");
    }
    out.emplace_back(key, item.get<std::string>());
  }
  std::sort(out.begin(), out.end());
  return out;
}

absl::StatusOr<std::optional<std::string>> JsonObject::Scalar(
    std::string_view name) const {
  const json* v = Find(name);
  if (v == nullptr) return std::nullopt;
  if (v->is_string()) return v->get<std::string>();
  if (v->is_boolean()) return std::string(v->get<bool>() ? "true" : "false");
  if (v->is_number_integer()) return v->dump();
  if (v->is_number_float()) return absl::StrCat(v->get<double>());
  return InvalidFieldError(Path(name), "must be a string, number or bool");
}

}  // namespace trainyard::gpusim

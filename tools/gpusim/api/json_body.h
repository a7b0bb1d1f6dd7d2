// Copyright 2026 Trainyard authors.
//
// File: tools/gpusim/api/json_body.h
// -----------------------------------------------------------------------------
// A request body that must be a JSON object, read field by field with typed
// getters. Every error is kInvalidArgument with a field violation naming the
// field as the client spelled it ("gpuCount", "env.TRAINYARD_EPOCHS"), so
// the API answers 400 naming it. Absent fields and JSON null read as
// nullopt. Parsed with nlohmann-json.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace trainyard::gpusim {

class JsonObject {
 public:
  // kInvalidArgument naming "body" when `body` is not one JSON object.
  static absl::StatusOr<JsonObject> Parse(std::string_view body);

  // Field names, sorted.
  std::vector<std::string> Keys() const;

  absl::StatusOr<std::optional<std::string>> String(
      std::string_view name) const;
  // A number without a fraction, within int64.
  absl::StatusOr<std::optional<int64_t>> Int(std::string_view name) const;
  absl::StatusOr<std::optional<bool>> Bool(std::string_view name) const;
  absl::StatusOr<std::optional<std::vector<std::string>>> StringList(
      std::string_view name) const;
  // An object of string values; elements are named "<name>.<key>".
  absl::StatusOr<
      std::optional<std::vector<std::pair<std::string, std::string>>>>
  StringMap(std::string_view name) const;
  // A string, number or bool as text ("training:50", "3", "true").
  absl::StatusOr<std::optional<std::string>> Scalar(
      std::string_view name) const;
  // A nested object; its errors name fields "<name>.<field>".
  absl::StatusOr<std::optional<JsonObject>> Object(std::string_view name) const;

 private:
  JsonObject(nlohmann::json value, std::string prefix)
      : value_(std::move(value)), prefix_(std::move(prefix)) {}
  const nlohmann::json* Find(std::string_view name) const;
  // The field's name as errors report it.
  std::string Path(std::string_view name) const;

  nlohmann::json value_;  // an object
  // "" at the top; "gpu." inside "gpu".
  std::string prefix_;
};

}  // namespace trainyard::gpusim

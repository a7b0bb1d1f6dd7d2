// Copyright 2026 Trainyard authors.
//
// Who is calling, and with which role.
//
// Roles, from least to most: viewer (read), engineer (submit and steer own
// work), manager (approve, promote), admin (everything). `service` is the role
// of our own services calling each other: it may do what a viewer or engineer
// may, plus methods marked for services; it may not make manager decisions.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace trainyard::auth {

enum class Role { kViewer, kEngineer, kManager, kAdmin, kService };

std::string_view RoleName(Role role);
absl::StatusOr<Role> ParseRole(std::string_view text);

// True when a caller with `have` may call a method whose minimum is `need`.
bool Satisfies(Role have, Role need);

struct Principal {
  std::string user;
  Role role = Role::kViewer;
  bool operator==(const Principal&) const = default;
};

}  // namespace trainyard::auth

// Copyright 2026 Trainyard authors.
#include "common/auth/principal.h"

#include "absl/strings/str_cat.h"
#include "common/strings/absl_view.h"

namespace trainyard::auth {
namespace {

// Rank among human roles; service is handled apart.
int Rank(Role r) {
  switch (r) {
    case Role::kViewer:
      return 1;
    case Role::kEngineer:
      return 2;
    case Role::kManager:
      return 3;
    case Role::kAdmin:
      return 4;
    case Role::kService:
      return 0;
  }
  return 0;
}

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kViewer:
      return "viewer";
    case Role::kEngineer:
      return "engineer";
    case Role::kManager:
      return "manager";
    case Role::kAdmin:
      return "admin";
    case Role::kService:
      return "service";
  }
  return "unknown";
}

absl::StatusOr<Role> ParseRole(std::string_view text) {
  for (Role r : {Role::kViewer, Role::kEngineer, Role::kManager, Role::kAdmin,
                 Role::kService}) {
    if (text == RoleName(r)) return r;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown role \"", ToAbsl(text),
                   "\" (viewer, engineer, manager, admin, service)"));
}

bool Satisfies(Role have, Role need) {
  if (have == Role::kAdmin) return true;
  if (have == Role::kService) {
    return need == Role::kService || need == Role::kViewer ||
           need == Role::kEngineer;
  }
  if (need == Role::kService) return false;
  return Rank(have) >= Rank(need);
}

}  // namespace trainyard::auth

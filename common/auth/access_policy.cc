// Copyright 2026 Trainyard authors.
#include "common/auth/access_policy.h"

#include <google/protobuf/descriptor.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/strings/absl_view.h"

namespace trainyard::auth {

AccessPolicy::AccessPolicy(
    std::string service_full_name,
    std::initializer_list<std::pair<std::string_view, Role>> rules)
    : service_(std::move(service_full_name)) {
  for (const auto& [method, role] : rules) {
    min_role_.emplace(std::string(method), role);
  }
}

absl::Status AccessPolicy::Authorize(const Principal& caller,
                                     std::string_view method) const {
  auto it = min_role_.find(ToAbsl(method));
  if (it == min_role_.end()) {
    return absl::PermissionDeniedError(absl::StrCat(
        service_, "/", ToAbsl(method), " is not open to any role"));
  }
  if (!Satisfies(caller.role, it->second)) {
    return absl::PermissionDeniedError(
        absl::StrCat(service_, "/", ToAbsl(method), " needs role ",
                     ToAbsl(RoleName(it->second)), "; ", caller.user,
                     " has role ", ToAbsl(RoleName(caller.role))));
  }
  return absl::OkStatus();
}

absl::Status AccessPolicy::CoversService(
    const google::protobuf::ServiceDescriptor& service) const {
  std::vector<std::string> problems;
  if (service.full_name() != service_) {
    problems.push_back(absl::StrCat("policy is for ", service_, ", not ",
                                    service.full_name()));
  }
  for (int i = 0; i < service.method_count(); ++i) {
    if (!min_role_.contains(service.method(i)->name())) {
      problems.push_back(
          absl::StrCat("no rule for ", service.method(i)->name()));
    }
  }
  for (const auto& [method, role] : min_role_) {
    if (service.FindMethodByName(method) == nullptr) {
      problems.push_back(absl::StrCat("rule for unknown method ", method));
    }
  }
  if (problems.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrJoin(problems, "; "));
}

}  // namespace trainyard::auth

// Copyright 2026 Trainyard authors.
//
// Each service's table of the minimum role of each RPC, declared in one place
// (services/<svc>/grpc/access.cc):
//
//   AccessPolicy policy("trainyard.jobs.v1.JobService", {
//       {"GetJob", Role::kViewer},
//       {"CreateJob", Role::kEngineer},
//       {"IngestEvents", Role::kService},
//   });
//
// A method missing from the table is denied (fail closed); CoversService
// lets a test prove the table names every method of the service.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "common/auth/principal.h"

namespace google::protobuf {
class ServiceDescriptor;
}

namespace trainyard::auth {

class AccessPolicy {
 public:
  AccessPolicy(std::string service_full_name,
               std::initializer_list<std::pair<std::string_view, Role>> rules);

  // OK, or kPermissionDenied naming the method, the role it needs and the
  // caller's role.
  absl::Status Authorize(const Principal& caller,
                         std::string_view method) const;

  // OK when every method of `service` has a rule and every rule names a
  // method of `service`; otherwise kFailedPrecondition listing the misfits.
  absl::Status CoversService(
      const google::protobuf::ServiceDescriptor& service) const;

  const std::string& service_name() const { return service_; }

 private:
  std::string service_;
  absl::flat_hash_map<std::string, Role> min_role_;
};

}  // namespace trainyard::auth

// Copyright 2026 Trainyard authors.
#include "services/jobs/grpc/access.h"

namespace trainyard::jobs {

const auth::AccessPolicy& JobServiceAccess() {
  using auth::Role;
  static const auto* policy =
      new auth::AccessPolicy("trainyard.jobs.v1.JobService",
                             {
                                 {"CreateJob", Role::kEngineer},
                                 {"GetJob", Role::kViewer},
                                 {"UpdateJob", Role::kEngineer},
                                 {"ListJobs", Role::kViewer},
                                 {"ListCreators", Role::kViewer},
                                 {"ExportJobs", Role::kViewer},
                                 {"CancelJob", Role::kEngineer},
                                 {"BatchCancelJobs", Role::kEngineer},
                                 {"PauseJob", Role::kEngineer},
                                 {"ResumeJob", Role::kEngineer},
                                 {"RetryJob", Role::kEngineer},
                                 {"DeleteJob", Role::kEngineer},
                                 {"BatchDeleteJobs", Role::kEngineer},
                                 {"CompareJobs", Role::kViewer},
                                 {"GetJobDashboard", Role::kViewer},
                                 {"ExportLossCurveImage", Role::kViewer},
                                 {"ListAuditEntries", Role::kViewer},
                                 {"GetPauseTimeline", Role::kViewer},
                                 {"WatchJobs", Role::kViewer},
                             });
  return *policy;
}

}  // namespace trainyard::jobs

// Copyright 2026 Trainyard authors.
#include "services/metrics/grpc/access.h"

namespace trainyard::metrics {

const auth::AccessPolicy& MetricsServiceAccess() {
  using auth::Role;
  static const auto* policy =
      new auth::AccessPolicy("trainyard.metrics.v1.MetricsService",
                             {
                                 {"IngestEvents", Role::kService},
                                 {"GetEvent", Role::kViewer},
                                 {"ListEvents", Role::kViewer},
                                 {"ExportEvents", Role::kViewer},
                                 {"GetProgress", Role::kViewer},
                                 {"BatchGetProgress", Role::kViewer},
                                 {"GetCurrentMetrics", Role::kViewer},
                                 {"GetLossCurve", Role::kViewer},
                                 {"ListSeries", Role::kViewer},
                                 {"GetStages", Role::kViewer},
                                 {"GetJobOverview", Role::kViewer},
                                 {"SubscribeJob", Role::kViewer},
                                 {"WatchEvents", Role::kService},
                                 {"DeleteJobData", Role::kService},
                             });
  return *policy;
}

}  // namespace trainyard::metrics

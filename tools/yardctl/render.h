// Copyright 2026 Trainyard authors.
//
// What `watch` and `submit --watch` draw from what they know of a job: a
// small panel for terminals (state, stage and substatus, progress bar with
// step/total and ETA, loss with its trend and a sparkline, spend and
// projected cost in the level's colour) and one plain line for logs.
#pragma once

#include <string>
#include <vector>

#include "trainyard/common/v1/common.pb.h"
#include "trainyard/jobs/v1/jobs.pb.h"

namespace trainyard::yardctl {

// The latest known view of a job, merged from WatchJobs/GetJob (state,
// cost) and SubscribeJob (progress, stages, metrics, curve).
struct JobView {
  jobs::v1::Job job;
  common::v1::Progress progress;  // unset until metrics answered
  common::v1::JobStages stages;
  common::v1::CurrentMetrics metrics;
  std::vector<double> recent_loss;  // train_loss, oldest first (bounded)
};

// Appends `value` to the sparkline history, keeping the last `keep`.
void AddLossPoint(JobView& view, double value, size_t keep = 40);

// "▁▂▃▅▇" for the values scaled between their min and max.
std::string Sparkline(const std::vector<double>& values);

// "[██████░░░░]" of `width` cells for 0..100 percent.
std::string ProgressBar(double percent, int width);

// The terminal panel, one string per line; ANSI colour when `color`.
std::vector<std::string> PanelLines(const JobView& view, bool color);

// One line for logs: the state, stage, step/total and percent, loss, spend.
// Two views that would print the same line are "no change".
std::string PlainLine(const JobView& view);

}  // namespace trainyard::yardctl

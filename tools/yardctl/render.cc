// Copyright 2026 Trainyard authors.
#include "tools/yardctl/render.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/yardctl/format.h"

namespace trainyard::yardctl {

namespace v1 = ::trainyard::common::v1;

namespace {

const char* TrendArrow(v1::Trend t) {
  switch (t) {
    case v1::TREND_IMPROVING:
      return "↓";
    case v1::TREND_WORSENING:
      return "↑";
    case v1::TREND_UNCHANGED:
      return "→";
    default:
      return "";
  }
}

// The stage's substatus from the stage view, e.g. "Tokenizing text...".
std::string Substatus(const JobView& v) {
  for (const auto& s : v.stages.stages()) {
    if (s.stage() == v.stages.current_stage()) return s.substatus();
  }
  return "";
}

std::string LevelColor(v1::CostLevel level) {
  switch (level) {
    case v1::COST_LEVEL_GREEN:
      return "\033[32m";
    case v1::COST_LEVEL_YELLOW:
      return "\033[33m";
    case v1::COST_LEVEL_RED:
      return "\033[31m";
    default:
      return "";
  }
}

std::string LevelName(v1::CostLevel level) {
  return ShortEnumName(v1::CostLevel_Name(level), "COST_LEVEL_");
}

// Progress from metrics when it answered, else the job's copy.
void StepAndTotal(const JobView& v, int64_t& step, int64_t& total,
                  double& percent) {
  if (v.progress.total_steps() > 0) {
    step = v.progress.step();
    total = v.progress.total_steps();
    percent = v.progress.percent();
  } else {
    step = v.job.progress().step();
    total = v.job.progress().total_steps();
    percent = v.job.progress().percent();
  }
  if (total == 0) total = v.job.spec().config().total_steps();
}

}  // namespace

void AddLossPoint(JobView& view, double value, size_t keep) {
  view.recent_loss.push_back(value);
  if (view.recent_loss.size() > keep) {
    view.recent_loss.erase(view.recent_loss.begin(),
                           view.recent_loss.end() - keep);
  }
}

std::string Sparkline(const std::vector<double>& values) {
  static const char* kBars[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  if (values.empty()) return "";
  auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  double span = *hi - *lo;
  std::string out;
  for (double v : values) {
    int i = span > 0 ? static_cast<int>((v - *lo) / span * 7.0 + 0.5) : 0;
    out += kBars[std::clamp(i, 0, 7)];
  }
  return out;
}

std::string ProgressBar(double percent, int width) {
  int full = static_cast<int>(std::clamp(percent, 0.0, 100.0) / 100.0 * width);
  std::string out = "[";
  for (int i = 0; i < width; ++i) out += i < full ? "█" : "░";
  return out + "]";
}

std::vector<std::string> PanelLines(const JobView& v, bool color) {
  const jobs::v1::Job& job = v.job;
  std::vector<std::string> lines;
  std::string head =
      absl::StrCat(job.job_id(), "  \"", job.spec().display_name(), "\"  ",
                   StateName(job.state()));
  if (v.stages.current_stage() != v1::STAGE_UNSPECIFIED) {
    absl::StrAppend(&head, " · ", StageName(v.stages.current_stage()));
    if (std::string sub = Substatus(v); !sub.empty()) {
      absl::StrAppend(&head, ": ", sub);
    }
  }
  if (!job.state_message().empty()) {
    absl::StrAppend(&head, "  (", job.state_message(), ")");
  }
  lines.push_back(head);

  int64_t step, total;
  double percent;
  StepAndTotal(v, step, total, percent);
  std::string eta = FormatDuration(v.progress.estimated_remaining());
  lines.push_back(absl::StrFormat("%s %5.1f%%  step %d/%d  epoch %d/%d  ETA %s",
                                  ProgressBar(percent, 30), percent, step,
                                  total, v.progress.epoch(),
                                  v.progress.total_epochs(), eta));

  std::string loss = "loss -";
  if (v.metrics.has_train_loss()) {
    const v1::MetricValue& l = v.metrics.train_loss();
    loss = absl::StrFormat("loss %.4f %s", l.value(), TrendArrow(l.trend()));
    if (l.has_percent_change()) {
      absl::StrAppend(&loss, absl::StrFormat(" %+.1f%%", l.percent_change()));
    }
  }
  if (v.metrics.has_val_loss()) {
    absl::StrAppend(
        &loss, absl::StrFormat("  val %.4f", v.metrics.val_loss().value()));
  }
  absl::StrAppend(&loss, "  ", Sparkline(v.recent_loss));
  lines.push_back(loss);

  const v1::CostSummary& c = job.cost();
  std::string cost = absl::StrCat(
      "spend ", FormatMoney(c.spend()), " of est ",
      FormatMoney(c.estimate().low()), "–", FormatMoney(c.estimate().high()),
      "  projected ", FormatMoney(c.projected_final()), "  ");
  std::string level = LevelName(c.level());
  if (color && c.level() != v1::COST_LEVEL_UNSPECIFIED) {
    level = absl::StrCat(LevelColor(c.level()), level, "\033[0m");
  }
  lines.push_back(cost + level);
  return lines;
}

std::string PlainLine(const JobView& v) {
  int64_t step, total;
  double percent;
  StepAndTotal(v, step, total, percent);
  std::string line =
      absl::StrCat(v.job.job_id(), " ", StateName(v.job.state()));
  if (v.stages.current_stage() != v1::STAGE_UNSPECIFIED) {
    absl::StrAppend(&line, " stage=", StageName(v.stages.current_stage()));
  }
  if (total > 0) {
    absl::StrAppend(
        &line, absl::StrFormat(" step=%d/%d (%.0f%%)", step, total, percent));
  }
  if (v.metrics.has_train_loss()) {
    absl::StrAppend(
        &line, absl::StrFormat(" loss=%.3f", v.metrics.train_loss().value()));
  }
  if (v.job.cost().has_spend()) {
    absl::StrAppend(&line, " spend=", FormatMoney(v.job.cost().spend()));
  }
  if (v.job.state() == v1::JOB_STATE_FAILED) {
    absl::StrAppend(&line, " failure=", v.job.failure().code(), " (",
                    v.job.failure().message(), ")");
  }
  return line;
}

}  // namespace trainyard::yardctl

// Copyright 2026 Trainyard authors.
#include "services/cost/domain/report.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/strings/csv.h"
#include "common/time/proto_time.h"
#include "services/cost/domain/money.h"
#include "services/cost/domain/rate_card.h"

namespace trainyard::cost {
namespace {

struct Group {
  std::string label;
  int64_t amount = 0;
  int64_t gpu_ms = 0;
  std::set<std::string> jobs;
};

std::string Trim(const std::string& name, std::string_view prefix) {
  return name.substr(std::min(prefix.size(), name.size()));
}

// The group key and label of `line`.
std::pair<std::string, std::string> KeyOf(v1::CostReportGrouping g,
                                          const ReportLine& l) {
  switch (g) {
    case v1::COST_REPORT_GROUPING_PRESET: {
      const std::string k = Trim(common::v1::Preset_Name(l.preset), "PRESET_");
      return {k, k};
    }
    case v1::COST_REPORT_GROUPING_GPU_TYPE:
      return {Trim(common::v1::GpuType_Name(l.gpu_type), "GPU_TYPE_"),
              GpuDisplayName(l.gpu_type)};
    case v1::COST_REPORT_GROUPING_PRICING: {
      const std::string k =
          Trim(common::v1::Pricing_Name(l.pricing), "PRICING_");
      return {k, k};
    }
    case v1::COST_REPORT_GROUPING_PHASE: {
      const std::string k =
          Trim(common::v1::CostPhase_Name(l.phase), "COST_PHASE_");
      return {k, k};
    }
    case v1::COST_REPORT_GROUPING_DAY: {
      const std::string k =
          absl::FormatTime("%Y-%m-%d", l.start, absl::UTCTimeZone());
      return {k, k};
    }
    default:
      return {l.created_by.user_id(), l.created_by.display_name().empty()
                                          ? l.created_by.user_id()
                                          : l.created_by.display_name()};
  }
}

std::string Dollars(int64_t micros) {
  return absl::StrFormat("%d.%06d", micros / kMicrosPerDollar,
                         std::abs(micros % kMicrosPerDollar));
}

}  // namespace

template <typename T>
bool DimFilter<T>::Passes(const T& v) const {
  if (!eq.empty() && std::find(eq.begin(), eq.end(), v) == eq.end()) {
    return false;
  }
  return std::find(ne.begin(), ne.end(), v) == ne.end();
}
template struct DimFilter<std::string>;
template struct DimFilter<int>;

bool PassesFilters(const ReportQuery& q, const ReportLine& l) {
  return l.start >= q.start && l.start < q.end &&
         q.created_by.Passes(l.created_by.user_id()) &&
         q.preset.Passes(l.preset) && q.gpu_type.Passes(l.gpu_type) &&
         q.pricing.Passes(l.pricing) && q.job_id.Passes(l.job_id);
}

v1::GetCostReportResponse BuildReport(
    const ReportQuery& q, const std::vector<ReportLine>& lines,
    const std::vector<internal::HistorySample>& samples,
    const std::string& currency) {
  v1::GetCostReportResponse out;
  *out.mutable_period()->mutable_start_time() = ToProto(q.start);
  *out.mutable_period()->mutable_end_time() = ToProto(q.end);
  std::map<std::string, Group> groups;
  std::set<std::string> jobs;
  int64_t total = 0, storage = 0;
  for (const ReportLine& l : lines) {
    const bool is_storage = l.phase == common::v1::COST_PHASE_PAUSED_STORAGE;
    if (is_storage) {
      storage += l.amount_micros;
      // Storage is a row only when grouping by phase.
      if (q.group_by != v1::COST_REPORT_GROUPING_PHASE) continue;
    } else {
      total += l.amount_micros;
    }
    jobs.insert(l.job_id);
    auto [key, label] = KeyOf(q.group_by, l);
    Group& g = groups[key];
    g.label = label;
    g.amount += l.amount_micros;
    if (!is_storage) g.gpu_ms += l.duration_ms * std::max(l.gpu_count, 1);
    g.jobs.insert(l.job_id);
  }
  auto money = [&](int64_t micros) {
    common::v1::Money m;
    m.set_currency_code(currency);
    m.set_micros(micros);
    return m;
  };
  for (const auto& [key, g] : groups) {
    v1::CostReportRow* row = out.add_rows();
    row->set_key(key);
    row->set_label(g.label);
    *row->mutable_amount() = money(g.amount);
    row->set_job_count(static_cast<int32_t>(g.jobs.size()));
    row->set_gpu_hours(static_cast<double>(g.gpu_ms) / kMsPerHour);
    *row->mutable_average_per_job() = money(
        g.jobs.empty()
            ? 0
            : DivideRoundHalfUp(g.amount, static_cast<int64_t>(g.jobs.size())));
  }
  std::stable_sort(out.mutable_rows()->begin(), out.mutable_rows()->end(),
                   [](const v1::CostReportRow& a, const v1::CostReportRow& b) {
                     return a.amount().micros() > b.amount().micros();
                   });
  *out.mutable_total() = money(total);
  *out.mutable_paused_storage_total() = money(storage);
  out.set_job_count(static_cast<int32_t>(jobs.size()));

  v1::EstimateAccuracy& acc = *out.mutable_estimate_accuracy();
  double sum = 0;
  int within = 0;
  for (const internal::HistorySample& s : samples) {
    const absl::Time t = FromProto(s.finish_time());
    if (t < q.start || t >= q.end || s.estimate_low_micros() <= 0) continue;
    const double ratio =
        static_cast<double>(s.actual_micros()) / s.estimate_low_micros();
    acc.set_min_ratio(acc.job_count() == 0 ? ratio
                                           : std::min(acc.min_ratio(), ratio));
    acc.set_max_ratio(std::max(acc.max_ratio(), ratio));
    acc.set_job_count(acc.job_count() + 1);
    sum += ratio;
    if (s.actual_micros() >= s.estimate_low_micros() &&
        s.actual_micros() <= s.estimate_high_micros()) {
      ++within;
    }
  }
  if (acc.job_count() > 0) {
    acc.set_mean_ratio(sum / acc.job_count());
    acc.set_within_range_fraction(static_cast<double>(within) /
                                  acc.job_count());
  }

  if (q.csv) {
    std::string csv =
        "key,label,amount_usd,job_count,gpu_hours,average_per_job_usd\r\n";
    for (const v1::CostReportRow& r : out.rows()) {
      const std::string count = absl::StrCat(r.job_count());
      const std::string hours = absl::StrFormat("%.6f", r.gpu_hours());
      const std::string amount = Dollars(r.amount().micros());
      const std::string average = Dollars(r.average_per_job().micros());
      AppendCsvRow({r.key(), r.label(), amount, count, hours, average}, &csv);
    }
    out.set_csv(std::move(csv));
  }
  return out;
}

}  // namespace trainyard::cost

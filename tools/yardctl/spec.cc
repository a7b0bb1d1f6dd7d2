// Copyright 2026 Trainyard authors.
#include "tools/yardctl/spec.h"

#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/strings/absl_view.h"
#include "google/protobuf/util/json_util.h"
#include "tools/yardctl/format.h"

namespace trainyard::yardctl {

namespace v1 = ::trainyard::common::v1;

absl::StatusOr<int64_t> ParseDollars(const std::string& text,
                                     const std::string& flag) {
  std::string t(absl::StripPrefix(text, "$"));
  auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrCat(
        flag, ": \"", text, "\" is not an amount in dollars (e.g. 49.99)"));
  };
  std::vector<std::string> parts = absl::StrSplit(t, '.');
  int64_t units = 0, frac = 0;
  if (parts.size() > 2 || parts[0].empty() ||
      !absl::SimpleAtoi(parts[0], &units) || units < 0) {
    return bad();
  }
  if (parts.size() == 2) {
    std::string digits(parts[1]);
    if (digits.empty() || digits.size() > 6 ||
        digits.find_first_not_of("0123456789") != std::string::npos) {
      return bad();
    }
    digits.resize(6, '0');
    (void)absl::SimpleAtoi(digits, &frac);
  }
  return units * 1'000'000 + frac;
}

absl::StatusOr<jobs::v1::JobSpec> BuildSpec(const SpecFlags& f) {
  jobs::v1::JobSpec spec;
  if (!f.file.empty()) {
    std::ifstream in(f.file);
    if (!in) {
      return absl::InvalidArgumentError(
          absl::StrCat("-f: cannot read ", f.file));
    }
    std::stringstream text;
    text << in.rdbuf();
    auto s = google::protobuf::util::JsonStringToMessage(text.str(), &spec);
    if (!s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "-f ", f.file, ": not a JobSpec in JSON: ", s.message().as_string()));
    }
  }
  v1::TrainingConfig& c = *spec.mutable_config();
  v1::Hyperparameters& h = *c.mutable_hyperparameters();
  if (!f.name.empty()) spec.set_display_name(f.name);
  if (!f.preset.empty()) {
    auto p =
        ParseEnum(v1::Preset_descriptor(), "PRESET_", f.preset, "--preset");
    if (!p.ok()) return p.status();
    c.set_preset(static_cast<v1::Preset>(*p));
  }
  if (!f.gpu.empty()) {
    auto g = ParseEnum(v1::GpuType_descriptor(), "GPU_TYPE_", f.gpu, "--gpu");
    if (!g.ok()) return g.status();
    c.set_gpu_type(static_cast<v1::GpuType>(*g));
  }
  if (f.gpu_count != 0) c.set_gpu_count(static_cast<int32_t>(f.gpu_count));
  if (f.spot && f.on_demand) {
    return absl::InvalidArgumentError(
        "--spot and --on_demand exclude each other");
  }
  if (f.spot) c.set_pricing(v1::PRICING_SPOT);
  if (f.on_demand) c.set_pricing(v1::PRICING_ON_DEMAND);
  if (!f.budget.empty()) {
    auto micros = ParseDollars(f.budget, "--budget");
    if (!micros.ok()) return micros.status();
    v1::Money& limit = *spec.mutable_budget()->mutable_limit();
    limit.set_currency_code("USD");
    limit.set_micros(*micros);
  }
  if (!f.budget_action.empty()) {
    auto a = ParseEnum(v1::BudgetAction_descriptor(), "BUDGET_ACTION_",
                       f.budget_action, "--budget_action");
    if (!a.ok()) return a.status();
    spec.mutable_budget()->set_action(static_cast<v1::BudgetAction>(*a));
  }
  if (!f.model.empty()) c.set_base_model(f.model);
  if (!f.dataset.empty()) c.mutable_dataset()->set_uri(f.dataset);
  if (f.conversations != 0) {
    c.mutable_dataset()->set_conversations(f.conversations);
  }
  if (f.dataset_tokens != 0) {
    c.mutable_dataset()->set_total_tokens(f.dataset_tokens);
  }
  if (f.epochs != 0) h.set_epochs(static_cast<int32_t>(f.epochs));
  if (f.learning_rate != 0) h.set_learning_rate(f.learning_rate);
  if (f.lora_rank != 0) h.set_lora_rank(static_cast<int32_t>(f.lora_rank));
  if (f.batch_size != 0) h.set_batch_size(static_cast<int32_t>(f.batch_size));
  if (f.grad_accum != 0) {
    h.set_gradient_accumulation_steps(static_cast<int32_t>(f.grad_accum));
  }
  if (!f.tags.empty()) {
    spec.clear_tags();
    std::vector<std::string> tags =
        absl::StrSplit(f.tags, ',', absl::SkipEmpty());
    for (const std::string& t : tags) {
      spec.add_tags(t);
    }
  }
  if (!f.notes.empty()) spec.set_notes(f.notes);
  return spec;
}

}  // namespace trainyard::yardctl

// Copyright 2026 Trainyard authors.
#include "services/jobs/domain/job_spec.h"

#include <cmath>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status/errors.h"
#include "common/strings/absl_view.h"

namespace trainyard::jobs {
namespace {

using common::v1::Hyperparameters;
using common::v1::Preset;

constexpr size_t kMaxDisplayName = 100;
constexpr size_t kMaxBaseModel = 200;
constexpr size_t kMaxUri = 2048;
constexpr int kMaxTags = 20;
constexpr size_t kMaxTag = 50;
constexpr size_t kMaxNotes = 4000;
constexpr int kMaxTargets = 10;
constexpr size_t kMaxAddress = 254;
constexpr size_t kMaxReasonText = 200;
constexpr size_t kMaxCancelNotes = 500;

// Collects violations under a path prefix.
class Violations {
 public:
  explicit Violations(std::string_view prefix) : prefix_(prefix) {}

  void Add(std::string_view field, std::string_view why) {
    list_.push_back({prefix_.empty()
                         ? std::string(field)
                         : absl::StrCat(prefix_, ".", ToAbsl(field)),
                     std::string(why)});
  }
  absl::Status ToStatus() const {
    return list_.empty() ? absl::OkStatus() : InvalidFieldsError(list_);
  }

 private:
  std::string prefix_;
  std::vector<FieldViolation> list_;
};

bool IsTagChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
         c == '.' || c == ':' || c == '/' || c == '-';
}

void CheckText(Violations& v, std::string_view field, std::string_view text,
               size_t min, size_t max) {
  size_t n = CodePoints(text);
  if (n < min) {
    v.Add(field, min == 1 ? "required"
                          : absl::StrCat("at least ", min, " characters"));
  } else if (n > max) {
    v.Add(field, absl::StrCat("at most ", max, " characters"));
  }
}

template <typename T>
void CheckRange(Violations& v, std::string_view field, bool has, T value, T min,
                T max) {
  if (has && (value < min || value > max)) {
    v.Add(field, absl::StrCat("must be between ", min, " and ", max));
  }
}

void CheckHyperparameters(Violations& v, const Hyperparameters& h) {
  CheckRange(v, "config.hyperparameters.lora_rank", h.has_lora_rank(),
             h.lora_rank(), 1, 512);
  CheckRange(v, "config.hyperparameters.lora_alpha", h.has_lora_alpha(),
             h.lora_alpha(), 1, 1024);
  if (h.has_lora_dropout() &&
      !(h.lora_dropout() >= 0 && h.lora_dropout() < 1)) {
    v.Add("config.hyperparameters.lora_dropout", "must be in [0, 1)");
  }
  if (h.has_learning_rate() &&
      !(h.learning_rate() > 0 && h.learning_rate() <= 0.01)) {
    v.Add("config.hyperparameters.learning_rate", "must be in (0, 0.01]");
  }
  CheckRange(v, "config.hyperparameters.epochs", h.has_epochs(), h.epochs(), 1,
             100);
  if (h.has_lr_schedule() &&
      (h.lr_schedule() == common::v1::LR_SCHEDULE_UNSPECIFIED ||
       !common::v1::LrSchedule_IsValid(h.lr_schedule()))) {
    v.Add("config.hyperparameters.lr_schedule", "unknown schedule");
  }
  if (h.has_warmup_ratio() &&
      !(h.warmup_ratio() >= 0 && h.warmup_ratio() <= 0.5)) {
    v.Add("config.hyperparameters.warmup_ratio", "must be in [0, 0.5]");
  }
  CheckRange(v, "config.hyperparameters.batch_size", h.has_batch_size(),
             h.batch_size(), 1, 256);
  CheckRange(v, "config.hyperparameters.gradient_accumulation_steps",
             h.has_gradient_accumulation_steps(),
             h.gradient_accumulation_steps(), 1, 1024);
}

// PRESET_CUSTOM: the preset-defined hyperparameters must all be given.
void CheckCustomComplete(Violations& v, const Hyperparameters& h) {
  const char* kPath = "config.hyperparameters.";
  if (!h.has_lora_rank()) v.Add(absl::StrCat(kPath, "lora_rank"), "required");
  if (!h.has_lora_alpha()) v.Add(absl::StrCat(kPath, "lora_alpha"), "required");
  if (!h.has_learning_rate())
    v.Add(absl::StrCat(kPath, "learning_rate"), "required");
  if (!h.has_epochs()) v.Add(absl::StrCat(kPath, "epochs"), "required");
  if (!h.has_lr_schedule())
    v.Add(absl::StrCat(kPath, "lr_schedule"), "required");
  if (!h.has_warmup_ratio())
    v.Add(absl::StrCat(kPath, "warmup_ratio"), "required");
}

// Whether a scalar field of two messages holds the same value.
bool SameValue(const Hyperparameters& a, const Hyperparameters& b,
               const google::protobuf::FieldDescriptor* f) {
  const auto* r = Hyperparameters::GetReflection();
  using Cpp = google::protobuf::FieldDescriptor::CppType;
  switch (f->cpp_type()) {
    case Cpp::CPPTYPE_INT32:
      return r->GetInt32(a, f) == r->GetInt32(b, f);
    case Cpp::CPPTYPE_DOUBLE:
      return r->GetDouble(a, f) == r->GetDouble(b, f);
    case Cpp::CPPTYPE_ENUM:
      return r->GetEnumValue(a, f) == r->GetEnumValue(b, f);
    default:
      return false;
  }
}

// Effective hyperparameters: overrides over the preset over the defaults, and
// the names of overrides that differ from the preset.
Hyperparameters Effective(const Hyperparameters& in, Preset preset,
                          const SpecDefaults& d,
                          std::vector<std::string>* custom) {
  Hyperparameters base = PresetHyperparameters(preset);
  if (!base.has_batch_size()) base.set_batch_size(d.batch_size);
  if (!base.has_gradient_accumulation_steps()) {
    base.set_gradient_accumulation_steps(d.gradient_accumulation_steps);
  }
  if (!base.has_lora_dropout()) base.set_lora_dropout(d.lora_dropout);
  Hyperparameters out = base;
  const Hyperparameters preset_only = PresetHyperparameters(preset);
  const auto* desc = Hyperparameters::descriptor();
  const auto* refl = Hyperparameters::GetReflection();
  for (int i = 0; i < desc->field_count(); ++i) {
    const auto* f = desc->field(i);
    if (!refl->HasField(in, f) || preset == common::v1::PRESET_CUSTOM) {
      continue;
    }
    if (!refl->HasField(preset_only, f) || !SameValue(in, preset_only, f)) {
      custom->push_back(f->name());
    }
  }
  out.MergeFrom(in);
  return out;
}

void CheckMutable(Violations& v, const v1::JobSpec& spec) {
  CheckText(v, "display_name", spec.display_name(), 1, kMaxDisplayName);
  if (spec.tags_size() > kMaxTags) {
    v.Add("tags", absl::StrCat("at most ", kMaxTags, " tags"));
  }
  absl::flat_hash_set<std::string> seen;
  for (int i = 0; i < spec.tags_size(); ++i) {
    const std::string& tag = spec.tags(i);
    std::string field = absl::StrCat("tags[", i, "]");
    bool chars_ok = true;
    for (char c : tag) chars_ok = chars_ok && IsTagChar(c);
    if (tag.empty() || tag.size() > kMaxTag || !chars_ok) {
      v.Add(field, "1..50 characters of [A-Za-z0-9_.:/-]");
    } else if (!seen.insert(absl::AsciiStrToLower(tag)).second) {
      v.Add(field, "duplicate tag");
    }
  }
  CheckText(v, "notes", spec.notes(), 0, kMaxNotes);
  if (spec.has_budget()) {
    const auto& b = spec.budget();
    if (b.limit().micros() <= 0) v.Add("budget.limit", "must be > 0");
    if (!b.limit().currency_code().empty() &&
        b.limit().currency_code() != "USD") {
      v.Add("budget.limit.currency_code", "only USD is served");
    }
    if (!common::v1::BudgetAction_IsValid(b.action())) {
      v.Add("budget.action", "unknown action");
    }
  }
  if (spec.notification_targets_size() > kMaxTargets) {
    v.Add("notification_targets",
          absl::StrCat("at most ", kMaxTargets, " targets"));
  }
  for (int i = 0; i < spec.notification_targets_size(); ++i) {
    const auto& t = spec.notification_targets(i);
    std::string field = absl::StrCat("notification_targets[", i, "]");
    if (t.channel() == common::v1::NOTIFICATION_CHANNEL_UNSPECIFIED ||
        !common::v1::NotificationChannel_IsValid(t.channel())) {
      v.Add(absl::StrCat(field, ".channel"), "required");
    }
    size_t n = CodePoints(t.address());
    if (n < 1 || n > kMaxAddress) {
      v.Add(absl::StrCat(field, ".address"), "1..254 characters");
    } else if (t.channel() == common::v1::NOTIFICATION_CHANNEL_EMAIL &&
               t.address().find('@') == std::string::npos) {
      v.Add(absl::StrCat(field, ".address"), "not an email address");
    }
  }
  for (int i = 0; i < spec.notification_triggers_size(); ++i) {
    auto t = spec.notification_triggers(i);
    if (t == common::v1::NOTIFICATION_TRIGGER_UNSPECIFIED ||
        !common::v1::NotificationTrigger_IsValid(t)) {
      v.Add(absl::StrCat("notification_triggers[", i, "]"), "unknown trigger");
    }
  }
}

bool HasUriScheme(std::string_view uri) {
  for (std::string_view scheme : {"s3://", "gs://", "https://"}) {
    if (uri.size() > scheme.size() && uri.substr(0, scheme.size()) == scheme) {
      return true;
    }
  }
  return false;
}

}  // namespace

size_t CodePoints(std::string_view text) {
  size_t n = 0;
  for (char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

Hyperparameters PresetHyperparameters(Preset preset) {
  Hyperparameters h;
  auto set = [&h](int rank, int alpha, double lr, int epochs) {
    h.set_lora_rank(rank);
    h.set_lora_alpha(alpha);
    h.set_learning_rate(lr);
    h.set_epochs(epochs);
    h.set_lr_schedule(common::v1::LR_SCHEDULE_COSINE);
    h.set_warmup_ratio(0.03);
  };
  switch (preset) {
    case common::v1::PRESET_CONSERVATIVE:
      set(8, 16, 1e-4, 2);
      break;
    case common::v1::PRESET_BALANCED:
      set(16, 32, 2e-4, 3);
      break;
    case common::v1::PRESET_AGGRESSIVE:
      set(64, 128, 3e-4, 4);
      break;
    default:
      break;
  }
  return h;
}

int64_t TotalSteps(int64_t conversations, int32_t batch_size,
                   int32_t gradient_accumulation_steps, int32_t epochs) {
  // 0.8 x c / (b x g) = 4c / (5 b g), ceiled in integers.
  const int64_t num = 4 * conversations;
  const int64_t den = int64_t{5} * batch_size * gradient_accumulation_steps;
  return ((num + den - 1) / den) * epochs;
}

absl::StatusOr<v1::JobSpec> NormalizeSpec(const v1::JobSpec& spec,
                                          const SpecDefaults& defaults,
                                          std::string_view field_prefix) {
  Violations v(field_prefix);
  CheckMutable(v, spec);
  if (!spec.has_config()) {
    v.Add("config", "required");
    return v.ToStatus();
  }
  const common::v1::TrainingConfig& in = spec.config();
  if (!common::v1::Preset_IsValid(in.preset())) {
    v.Add("config.preset", "unknown preset");
  }
  CheckHyperparameters(v, in.hyperparameters());
  if (in.preset() == common::v1::PRESET_CUSTOM) {
    CheckCustomComplete(v, in.hyperparameters());
  }
  CheckText(v, "config.base_model", in.base_model(), 1, kMaxBaseModel);
  if (!common::v1::Quantization_IsValid(in.quantization())) {
    v.Add("config.quantization", "unknown quantization");
  }
  if (in.dataset().uri().empty()) {
    v.Add("config.dataset.uri", "required");
  } else if (in.dataset().uri().size() > kMaxUri ||
             !HasUriScheme(in.dataset().uri())) {
    v.Add("config.dataset.uri", "must be an s3://, gs:// or https:// URI");
  }
  if (in.dataset().conversations() < 1) {
    v.Add("config.dataset.conversations", "must be >= 1");
  }
  if (in.dataset().total_tokens() < 0) {
    v.Add("config.dataset.total_tokens", "must be >= 0");
  }
  if (in.gpu_type() == common::v1::GPU_TYPE_UNSPECIFIED ||
      !common::v1::GpuType_IsValid(in.gpu_type())) {
    v.Add("config.gpu_type", "required");
  }
  if (in.gpu_count() < 0 || in.gpu_count() > 8) {
    v.Add("config.gpu_count", "must be between 1 and 8");
  }
  if (!common::v1::Pricing_IsValid(in.pricing())) {
    v.Add("config.pricing", "unknown pricing");
  }
  if (absl::Status s = v.ToStatus(); !s.ok()) return s;

  v1::JobSpec out = spec;
  common::v1::TrainingConfig& c = *out.mutable_config();
  if (c.preset() == common::v1::PRESET_UNSPECIFIED) {
    c.set_preset(common::v1::PRESET_BALANCED);
  }
  std::vector<std::string> custom;
  *c.mutable_hyperparameters() =
      Effective(in.hyperparameters(), c.preset(), defaults, &custom);
  c.clear_custom_fields();
  for (auto& name : custom) c.add_custom_fields(name);
  if (c.quantization() == common::v1::QUANTIZATION_UNSPECIFIED) {
    c.set_quantization(common::v1::QUANTIZATION_NF4);
  }
  if (c.gpu_count() == 0) c.set_gpu_count(1);
  if (c.pricing() == common::v1::PRICING_UNSPECIFIED) {
    c.set_pricing(common::v1::PRICING_SPOT);
  }
  const auto& h = c.hyperparameters();
  c.set_total_steps(TotalSteps(c.dataset().conversations(), h.batch_size(),
                               h.gradient_accumulation_steps(), h.epochs()));
  if (out.has_budget()) {
    if (out.budget().action() == common::v1::BUDGET_ACTION_UNSPECIFIED) {
      out.mutable_budget()->set_action(common::v1::BUDGET_ACTION_ALERT);
    }
    out.mutable_budget()->mutable_limit()->set_currency_code("USD");
  }
  return out;
}

absl::StatusOr<v1::JobSpec> NormalizeMutableSpec(
    const v1::JobSpec& spec, std::string_view field_prefix) {
  Violations v(field_prefix);
  CheckMutable(v, spec);
  if (absl::Status s = v.ToStatus(); !s.ok()) return s;
  v1::JobSpec out = spec;
  if (out.has_budget()) {
    if (out.budget().action() == common::v1::BUDGET_ACTION_UNSPECIFIED) {
      out.mutable_budget()->set_action(common::v1::BUDGET_ACTION_ALERT);
    }
    out.mutable_budget()->mutable_limit()->set_currency_code("USD");
  }
  return out;
}

absl::Status ValidateCancel(v1::CancelReason reason,
                            std::string_view reason_text,
                            std::string_view notes) {
  Violations v("");
  if (reason == v1::CANCEL_REASON_UNSPECIFIED ||
      !v1::CancelReason_IsValid(reason)) {
    v.Add("reason", "required");
  }
  if (reason == v1::CANCEL_REASON_OTHER) {
    CheckText(v, "reason_text", reason_text, 1, kMaxReasonText);
  } else if (!reason_text.empty()) {
    v.Add("reason_text", "only for reason OTHER");
  }
  CheckText(v, "notes", notes, 0, kMaxCancelNotes);
  return v.ToStatus();
}

common::v1::NotificationTarget NotificationTargetOf(const v1::Job& job) {
  for (const common::v1::NotificationTarget& t :
       job.spec().notification_targets()) {
    if (t.channel() == common::v1::NOTIFICATION_CHANNEL_SLACK) return t;
  }
  common::v1::NotificationTarget owner;
  owner.set_address(job.created_by().user_id());
  return owner;
}

}  // namespace trainyard::jobs

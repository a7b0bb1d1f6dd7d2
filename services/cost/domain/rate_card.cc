// Copyright 2026 Trainyard authors.
#include "services/cost/domain/rate_card.h"

#include <algorithm>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/time/proto_time.h"
#include "services/cost/domain/errors.h"

namespace trainyard::cost {
namespace {

using common::v1::GpuType;

struct DefaultRate {
  GpuType type;
  const char* name;
  int64_t spot_micros;
  int64_t on_demand_micros;
};

constexpr DefaultRate kDefaults[] = {
    {common::v1::GPU_TYPE_H100_80GB, "H100 80GB", 2'490'000, 3'990'000},
    {common::v1::GPU_TYPE_A100_80GB, "A100 80GB", 1'190'000, 1'890'000},
    {common::v1::GPU_TYPE_L40S, "L40S", 690'000, 1'030'000},
    {common::v1::GPU_TYPE_RTX_A6000, "RTX A6000", 390'000, 790'000},
    {common::v1::GPU_TYPE_RTX_4090, "RTX 4090", 340'000, 690'000},
};

constexpr int64_t kDefaultStorageMicrosPerGbMonth = 200'000;

common::v1::Money Usd(int64_t micros, const std::string& currency) {
  common::v1::Money m;
  m.set_currency_code(currency);
  m.set_micros(micros);
  return m;
}

std::optional<Rejection> CheckRate(const common::v1::Money& rate,
                                   int64_t current, const std::string& currency,
                                   const std::string& field, bool force) {
  if (rate.currency_code() != currency) {
    return Rejection{
        .field = absl::StrCat(field, ".currency_code"),
        .message = absl::StrCat("must be the card's currency ", currency)};
  }
  if (rate.micros() <= 0) {
    return Rejection{.field = field, .message = "must be > 0"};
  }
  if (rate.micros() > kMaxRateMicros) {
    return Rejection{.field = field, .message = "absurd: above 1000 per unit"};
  }
  if (!force && current > 0 &&
      (rate.micros() > current * kMaxRateChangeFactor ||
       rate.micros() * kMaxRateChangeFactor < current)) {
    return Rejection{
        .field = field,
        .reason = kReasonRateChangeTooLarge,
        .message = absl::StrCat(
            "changes the rate more than ", kMaxRateChangeFactor, "x (from ",
            current, " to ", rate.micros(), " micros); set force to apply it")};
  }
  return std::nullopt;
}

}  // namespace

std::string GpuDisplayName(GpuType type) {
  for (const DefaultRate& d : kDefaults) {
    if (d.type == type) return d.name;
  }
  return common::v1::GpuType_Name(type);
}

v1::RateCard DefaultRateCard(absl::Time now) {
  v1::RateCard card;
  const std::string usd = "USD";
  for (const DefaultRate& d : kDefaults) {
    v1::GpuRate* rate = card.add_gpu_rates();
    rate->set_gpu_type(d.type);
    rate->set_display_name(d.name);
    *rate->mutable_spot_hourly() = Usd(d.spot_micros, usd);
    *rate->mutable_on_demand_hourly() = Usd(d.on_demand_micros, usd);
    rate->set_available(true);
  }
  *card.mutable_paused_storage_per_gb_month() =
      Usd(kDefaultStorageMicrosPerGbMonth, usd);
  card.set_currency_code(usd);
  card.set_version(1);
  *card.mutable_update_time() = ToProto(now);
  return card;
}

const v1::GpuRate* FindGpuRate(const v1::RateCard& card, GpuType type) {
  for (const v1::GpuRate& rate : card.gpu_rates()) {
    if (rate.gpu_type() == type) return &rate;
  }
  return nullptr;
}

std::optional<Rejection> ValidateRateCardChange(const v1::RateCard& current,
                                                const v1::RateCard& next,
                                                bool force) {
  const std::string& currency = current.currency_code();
  if (!next.currency_code().empty() && next.currency_code() != currency) {
    return Rejection{
        .field = "rate_card.currency_code",
        .message = absl::StrCat("v1 serves one currency, ", currency)};
  }
  absl::flat_hash_set<int> seen;
  for (int i = 0; i < next.gpu_rates_size(); ++i) {
    const v1::GpuRate& rate = next.gpu_rates(i);
    const std::string field = absl::StrCat("rate_card.gpu_rates[", i, "]");
    if (rate.gpu_type() == common::v1::GPU_TYPE_UNSPECIFIED ||
        !common::v1::GpuType_IsValid(rate.gpu_type())) {
      return Rejection{.field = absl::StrCat(field, ".gpu_type"),
                       .message = "unknown GPU type"};
    }
    if (!seen.insert(rate.gpu_type()).second) {
      return Rejection{.field = absl::StrCat(field, ".gpu_type"),
                       .message = "listed twice"};
    }
    const v1::GpuRate* old = FindGpuRate(current, rate.gpu_type());
    std::optional<Rejection> s =
        CheckRate(rate.spot_hourly(), old ? old->spot_hourly().micros() : 0,
                  currency, absl::StrCat(field, ".spot_hourly"), force);
    if (s.has_value()) return s;
    s = CheckRate(rate.on_demand_hourly(),
                  old ? old->on_demand_hourly().micros() : 0, currency,
                  absl::StrCat(field, ".on_demand_hourly"), force);
    if (s.has_value()) return s;
  }
  return CheckRate(next.paused_storage_per_gb_month(),
                   current.paused_storage_per_gb_month().micros(), currency,
                   "rate_card.paused_storage_per_gb_month", force);
}

Checked<int64_t> PodHourlyRateMicros(const v1::RateCard& card, GpuType type,
                                     common::v1::Pricing pricing,
                                     int32_t gpu_count, std::string_view field,
                                     bool require_available) {
  const v1::GpuRate* rate = FindGpuRate(card, type);
  if (rate == nullptr) {
    return Rejection{.field = std::string(field),
                     .reason = kReasonUnknownGpuType,
                     .message = "GPU type not on the rate card"};
  }
  if (require_available && !rate->available()) {
    return Rejection{
        .field = std::string(field),
        .reason = kReasonGpuTypeUnavailable,
        .message = absl::StrCat(rate->display_name(), " is not available")};
  }
  const int64_t per_gpu = pricing == common::v1::PRICING_ON_DEMAND
                              ? rate->on_demand_hourly().micros()
                              : rate->spot_hourly().micros();
  return Checked<int64_t>(per_gpu * std::max(gpu_count, 1));
}

}  // namespace trainyard::cost

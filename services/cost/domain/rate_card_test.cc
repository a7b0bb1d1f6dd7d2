// Copyright 2026 Trainyard authors.
#include "services/cost/domain/rate_card.h"

#include "gtest/gtest.h"

namespace trainyard::cost {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1764385200);

TEST(RateCard, R_DASH_06_DefaultsFromDomainDoc) {
  v1::RateCard card = DefaultRateCard(kNow);
  EXPECT_EQ(card.version(), 1);
  EXPECT_EQ(card.gpu_rates_size(), 5);
  EXPECT_EQ(PodHourlyRateMicros(card, common::v1::GPU_TYPE_H100_80GB,
                                common::v1::PRICING_SPOT, 1, "f", true)
                .value(),
            2'490'000);
  EXPECT_EQ(PodHourlyRateMicros(card, common::v1::GPU_TYPE_A100_80GB,
                                common::v1::PRICING_ON_DEMAND, 2, "f", true)
                .value(),
            2 * 1'890'000);
  EXPECT_EQ(card.paused_storage_per_gb_month().micros(), 200'000);
}

// The field and reason of a change's rejection ("" when accepted).
std::string FieldOf(const std::optional<Rejection>& r) {
  return r.has_value() ? r->field : "";
}
std::string ReasonOf(const std::optional<Rejection>& r) {
  return r.has_value() ? std::string(r->reason) : "";
}

TEST(RateCard, UnavailableOrUnknownTypeNamesTheField) {
  v1::RateCard card = DefaultRateCard(kNow);
  card.mutable_gpu_rates(0)->set_available(false);
  Checked<int64_t> r =
      PodHourlyRateMicros(card, common::v1::GPU_TYPE_H100_80GB,
                          common::v1::PRICING_SPOT, 1, "config.gpu_type", true);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.rejection().code, absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.rejection().reason, "GPU_TYPE_UNAVAILABLE");
  EXPECT_EQ(r.rejection().field, "config.gpu_type");
  card.mutable_gpu_rates()->RemoveLast();
  r = PodHourlyRateMicros(card, common::v1::GPU_TYPE_RTX_4090,
                          common::v1::PRICING_SPOT, 1, "gpu_type", false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.rejection().reason, "UNKNOWN_GPU_TYPE");
}

TEST(RateCard, ChangeOverTenTimesNeedsForce) {
  const v1::RateCard current = DefaultRateCard(kNow);
  v1::RateCard next = current;
  next.mutable_gpu_rates(0)->mutable_spot_hourly()->set_micros(24'900'000);
  EXPECT_EQ(ValidateRateCardChange(current, next, false), std::nullopt)
      << "exactly 10x is allowed";
  next.mutable_gpu_rates(0)->mutable_spot_hourly()->set_micros(24'900'001);
  std::optional<Rejection> r = ValidateRateCardChange(current, next, false);
  EXPECT_EQ(ReasonOf(r), "RATE_CHANGE_TOO_LARGE");
  EXPECT_EQ(FieldOf(r), "rate_card.gpu_rates[0].spot_hourly");
  EXPECT_EQ(ValidateRateCardChange(current, next, true), std::nullopt);
  // Down by more than 10x too.
  next = current;
  next.mutable_paused_storage_per_gb_month()->set_micros(19'999);
  EXPECT_EQ(ReasonOf(ValidateRateCardChange(current, next, false)),
            "RATE_CHANGE_TOO_LARGE");
}

TEST(RateCard, NegativeZeroAbsurdAndDuplicateRatesRejected) {
  const v1::RateCard current = DefaultRateCard(kNow);
  v1::RateCard next = current;
  next.mutable_gpu_rates(1)->mutable_on_demand_hourly()->set_micros(-1);
  EXPECT_EQ(FieldOf(ValidateRateCardChange(current, next, true)),
            "rate_card.gpu_rates[1].on_demand_hourly");
  next = current;
  next.mutable_gpu_rates(1)->mutable_spot_hourly()->set_micros(kMaxRateMicros +
                                                               1);
  EXPECT_EQ(FieldOf(ValidateRateCardChange(current, next, true)),
            "rate_card.gpu_rates[1].spot_hourly");
  next = current;
  *next.add_gpu_rates() = current.gpu_rates(0);
  EXPECT_EQ(FieldOf(ValidateRateCardChange(current, next, true)),
            "rate_card.gpu_rates[5].gpu_type");
  next = current;
  next.mutable_gpu_rates(0)->set_gpu_type(common::v1::GPU_TYPE_UNSPECIFIED);
  EXPECT_EQ(FieldOf(ValidateRateCardChange(current, next, true)),
            "rate_card.gpu_rates[0].gpu_type");
}

}  // namespace
}  // namespace trainyard::cost

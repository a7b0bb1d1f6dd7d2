// Copyright 2026 Trainyard authors.
//
// The loss-curve PNG (R-DASH-08, R-X-06), decoded again with Cairo's PNG
// reader: size, the two series' colours inside the plot, the curve reaching
// the latest step, faded rolled-back points, and one golden image compared
// with a pixel tolerance (regenerate it with TRAINYARD_UPDATE_GOLDEN=1 after
// an intended change, then look at it).
#include "services/jobs/views/loss_curve_image.h"

#include <cairo.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace trainyard::jobs {
namespace {

// A decoded image (RGB24 pixels).
class Image {
 public:
  explicit Image(const std::string& png) : png_(png) {
    surface_ = cairo_image_surface_create_from_png_stream(Read, this);
  }
  ~Image() { cairo_surface_destroy(surface_); }
  bool ok() const {
    return cairo_surface_status(surface_) == CAIRO_STATUS_SUCCESS;
  }
  int width() const { return cairo_image_surface_get_width(surface_); }
  int height() const { return cairo_image_surface_get_height(surface_); }
  Rgb At(int x, int y) const {
    const unsigned char* row = cairo_image_surface_get_data(surface_) +
                               y * cairo_image_surface_get_stride(surface_);
    const uint32_t p = reinterpret_cast<const uint32_t*>(row)[x];
    return {static_cast<uint8_t>(p >> 16), static_cast<uint8_t>(p >> 8),
            static_cast<uint8_t>(p)};
  }
  // Pixels in [x0, x1) x [y0, y1) within `tolerance` of `c` per channel.
  int Count(Rgb c, int x0, int y0, int x1, int y1, int tolerance = 12) const {
    int n = 0;
    for (int y = y0; y < y1; ++y) {
      for (int x = x0; x < x1; ++x) n += Near(At(x, y), c, tolerance);
    }
    return n;
  }
  static bool Near(Rgb a, Rgb b, int tolerance) {
    return std::abs(a.r - b.r) <= tolerance &&
           std::abs(a.g - b.g) <= tolerance && std::abs(a.b - b.b) <= tolerance;
  }

 private:
  static cairo_status_t Read(void* closure, unsigned char* data,
                             unsigned int length) {
    Image* self = static_cast<Image*>(closure);
    if (self->at_ + length > self->png_.size()) return CAIRO_STATUS_READ_ERROR;
    std::memcpy(data, self->png_.data() + self->at_, length);
    self->at_ += length;
    return CAIRO_STATUS_SUCCESS;
  }
  std::string png_;
  size_t at_ = 0;
  cairo_surface_t* surface_;
};

// Training loss every 10 steps from 2.0 falling to ~0.5 at step 1000,
// validation loss every 250 steps.
common::v1::LossCurve SampleCurve() {
  common::v1::LossCurve curve;
  curve.set_start_step(10);
  curve.set_end_step(1000);
  curve.set_latest_step(1000);
  common::v1::CurveSeries* train = curve.add_series();
  train->set_name("train_loss");
  for (int step = 10; step <= 1000; step += 10) {
    common::v1::CurvePoint* p = train->add_points();
    p->set_step(step);
    p->set_value(0.5 + 1.5 * std::exp(-step / 250.0) + 0.03 * std::sin(step));
  }
  common::v1::CurveSeries* val = curve.add_series();
  val->set_name("val_loss");
  for (int step = 250; step <= 1000; step += 250) {
    common::v1::CurvePoint* p = val->add_points();
    p->set_step(step);
    p->set_value(0.7 + 1.2 * std::exp(-step / 300.0));
  }
  return curve;
}

// PNG's IHDR: width and height, big-endian, at bytes 16..23.
std::pair<int, int> HeaderSize(const std::string& png) {
  auto be32 = [&](size_t at) {
    return (static_cast<uint8_t>(png[at]) << 24) |
           (static_cast<uint8_t>(png[at + 1]) << 16) |
           (static_cast<uint8_t>(png[at + 2]) << 8) |
           static_cast<uint8_t>(png[at + 3]);
  };
  return {be32(16), be32(20)};
}

TEST(LossCurveImage, R_DASH_08_PngOfTheRequestedSizeWithBothSeries) {
  absl::StatusOr<std::string> png =
      RenderLossCurvePng(SampleCurve(), "Llama 3 support bot", 2000, 1200);
  ASSERT_OK(png.status());
  ASSERT_GT(png->size(), 24u);
  EXPECT_EQ(png->substr(0, 8), "\x89PNG\r\n\x1a\n");
  EXPECT_EQ(HeaderSize(*png), std::make_pair(2000, 1200));
  Image image(*png);
  ASSERT_TRUE(image.ok());
  ASSERT_EQ(image.width(), 2000);
  ASSERT_EQ(image.height(), 1200);
  // The plot area (150..1850 x 110..1080 at this size) holds both colours.
  const Rgb train = CurveSeriesColour(0), val = CurveSeriesColour(1);
  EXPECT_GT(image.Count(train, 160, 120, 1840, 1070), 2000);
  EXPECT_GT(image.Count(val, 160, 120, 1840, 1070), 1000);
  // The training curve reaches the latest step: drawn at the right edge.
  EXPECT_GT(image.Count(train, 1830, 120, 1850, 1080), 3);
  // Mostly white background: a chart, not a smear.
  EXPECT_GT(image.Count({255, 255, 255}, 0, 0, 2000, 1200, 0), 2000 * 1200 / 2);
}

TEST(LossCurveImage, R_X_06_RolledBackSeriesIsFaded) {
  common::v1::LossCurve curve = SampleCurve();
  common::v1::CurveSeries* old = curve.add_series();
  old->set_name("train_loss");
  old->set_rolled_back(true);
  for (int step = 500; step <= 700; step += 10) {
    common::v1::CurvePoint* p = old->add_points();
    p->set_step(step);
    p->set_value(1.9);  // well above the effective curve there
  }
  absl::StatusOr<std::string> png =
      RenderLossCurvePng(curve, "rewound", 2000, 1200);
  ASSERT_OK(png.status());
  Image image(*png);
  ASSERT_TRUE(image.ok());
  // 30% blue over white, not the full colour.
  const Rgb c = CurveSeriesColour(0);
  auto fade = [](uint8_t v) {
    return static_cast<uint8_t>(std::lround(0.3 * v + 0.7 * 255));
  };
  EXPECT_GT(
      image.Count({fade(c.r), fade(c.g), fade(c.b)}, 160, 120, 1840, 1070, 8),
      200);
}

TEST(LossCurveImage, R_DASH_08_NoPointsStillDrawsTheAxes) {
  common::v1::LossCurve empty;
  absl::StatusOr<std::string> png = RenderLossCurvePng(empty, "new", 400, 300);
  ASSERT_OK(png.status());
  EXPECT_EQ(HeaderSize(*png), std::make_pair(400, 300));
  Image image(*png);
  EXPECT_GT(image.Count({64, 64, 64}, 0, 0, 400, 300, 30), 200);  // frame
}

TEST(LossCurveImage, R_DASH_08_FilenameFromTheJobNameAndTime) {
  const absl::Time t = absl::FromUnixSeconds(1764950400);  // 2025-12-05
  EXPECT_EQ(LossCurveFilename("Llama 3 -- Support Bot!", t),
            "llama-3-support-bot-loss-curve-20251205-160000.png");
  EXPECT_EQ(LossCurveFilename("ÄÖÜ", t), "job-loss-curve-20251205-160000.png");
  EXPECT_EQ(LossCurveFilename(std::string(200, 'a'), t).size(),
            80 + std::string("-loss-curve-20251205-160000.png").size());
}

TEST(LossCurveImage, R_DASH_08_MatchesTheGoldenImage) {
  const char* source_dir = std::getenv("TRAINYARD_SOURCE_DIR");
  ASSERT_NE(source_dir, nullptr) << "run through ctest";
  const std::string path = absl::StrCat(
      source_dir, "/services/jobs/views/testdata/loss_curve_golden.png");
  absl::StatusOr<std::string> png =
      RenderLossCurvePng(SampleCurve(), "Golden job", 800, 480);
  ASSERT_OK(png.status());
  if (std::getenv("TRAINYARD_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path, std::ios::binary) << *png;
  }
  std::ifstream file(path, std::ios::binary);
  ASSERT_TRUE(file.good()) << "cannot open " << path;
  std::stringstream golden;
  golden << file.rdbuf();
  Image want(golden.str()), got(*png);
  ASSERT_TRUE(want.ok());
  ASSERT_EQ(got.width(), want.width());
  ASSERT_EQ(got.height(), want.height());
  int differ = 0;
  for (int y = 0; y < want.height(); ++y) {
    for (int x = 0; x < want.width(); ++x) {
      differ += !Image::Near(got.At(x, y), want.At(x, y), 48);
    }
  }
  // Font hinting or antialiasing may move a few pixels; a layout change
  // moves thousands.
  EXPECT_LT(differ, want.width() * want.height() / 200) << differ;
}

}  // namespace
}  // namespace trainyard::jobs

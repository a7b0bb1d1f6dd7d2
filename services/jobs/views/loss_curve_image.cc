// Copyright 2026 Trainyard authors.
#include "services/jobs/views/loss_curve_image.h"

#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/strings/absl_view.h"

namespace trainyard::jobs {
namespace {

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  bool empty() const { return lo > hi; }
  void Add(double v) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
};

// About `target` round tick values (1, 2 or 5 x 10^k apart) covering
// [lo, hi]; widens the range to the outer ticks.
std::vector<double> NiceTicks(Range* r, int target) {
  if (r->empty()) *r = {0, 1};
  if (r->hi - r->lo < 1e-12) {
    const double pad = std::max(std::abs(r->lo) * 0.1, 1e-3);
    r->lo -= pad;
    r->hi += pad;
  }
  const double raw = (r->hi - r->lo) / std::max(target, 1);
  const double mag = std::pow(10, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * mag;
    if (step >= raw) break;
  }
  r->lo = std::floor(r->lo / step) * step;
  r->hi = std::ceil(r->hi / step) * step;
  std::vector<double> ticks;
  for (double v = r->lo; v <= r->hi + step * 1e-6; v += step) {
    ticks.push_back(std::abs(v) < step * 1e-9 ? 0 : v);
  }
  return ticks;
}

std::string TickLabel(double v, double span) {
  if (span >= 10000) return absl::StrFormat("%.0f", v);
  if (span >= 10) return absl::StrFormat("%g", std::round(v));
  return absl::StrFormat("%.4g", v);
}

// Which axis a series is drawn on and in which colour: the first effective
// series left, the second right, the rest left; a rolled-back series as its
// effective namesake.
struct Style {
  int colour = 0;
  bool right = false;
};

std::vector<Style> Styles(const common::v1::LossCurve& curve) {
  std::vector<std::string> effective;
  for (const common::v1::CurveSeries& s : curve.series()) {
    if (!s.rolled_back()) effective.push_back(s.name());
  }
  std::vector<Style> out;
  for (const common::v1::CurveSeries& s : curve.series()) {
    const int i = static_cast<int>(
        std::find(effective.begin(), effective.end(), s.name()) -
        effective.begin());
    out.push_back({i, i == 1});
  }
  return out;
}

std::string AxisTitle(const std::string& series) {
  if (series == "train_loss") return "Training loss";
  if (series == "val_loss") return "Validation loss";
  return series;
}

void SetColour(cairo_t* cr, int index, double alpha) {
  const Rgb c = CurveSeriesColour(index);
  cairo_set_source_rgba(cr, c.r / 255.0, c.g / 255.0, c.b / 255.0, alpha);
}

enum class Align { kLeft, kCentre, kRight };

void Text(cairo_t* cr, double x, double y, const std::string& s, Align align,
          double angle = 0) {
  cairo_text_extents_t e;
  cairo_text_extents(cr, s.c_str(), &e);
  double dx = align == Align::kLeft     ? 0
              : align == Align::kCentre ? -e.x_advance / 2
                                        : -e.x_advance;
  cairo_save(cr);
  cairo_translate(cr, x, y);
  cairo_rotate(cr, angle);
  cairo_move_to(cr, dx, 0);
  cairo_show_text(cr, s.c_str());
  cairo_restore(cr);
}

cairo_status_t Append(void* closure, const unsigned char* data,
                      unsigned int length) {
  static_cast<std::string*>(closure)->append(
      reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

struct CairoDeleter {
  void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
  void operator()(cairo_t* c) const { cairo_destroy(c); }
};

}  // namespace

Rgb CurveSeriesColour(int index) {
  static constexpr Rgb kColours[] = {{31, 119, 180},
                                     {255, 127, 14},
                                     {44, 160, 44},
                                     {214, 39, 40},
                                     {148, 103, 189}};
  return kColours[index % 5];
}

absl::StatusOr<std::string> RenderLossCurvePng(
    const common::v1::LossCurve& curve, std::string_view title, int width,
    int height) {
  std::unique_ptr<cairo_surface_t, CairoDeleter> surface(
      cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height));
  std::unique_ptr<cairo_t, CairoDeleter> owned(cairo_create(surface.get()));
  cairo_t* cr = owned.get();
  // Everything scales with the image (1 unit = 1 px at 2000 x 1200), with
  // a floor so that small images keep readable labels.
  const double u = std::max(0.35, std::min(width / 2000.0, height / 1200.0));
  const double font = std::max(11.0, 26 * u);
  const double left = 150 * u, right = width - 150 * u;
  const double top = 110 * u, bottom = height - 120 * u;

  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                         CAIRO_FONT_WEIGHT_NORMAL);

  // Ranges: steps over every series up to the latest step; values per axis.
  const std::vector<Style> styles = Styles(curve);
  Range x, y_left, y_right;
  for (int i = 0; i < curve.series_size(); ++i) {
    for (const common::v1::CurvePoint& p : curve.series(i).points()) {
      x.Add(static_cast<double>(p.step()));
      if (!std::isfinite(p.value())) continue;
      (styles[i].right ? y_right : y_left).Add(p.value());
    }
  }
  // No right axis until the second series has a point.
  const bool right_used = !y_right.empty();
  if (curve.latest_step() > 0) x.Add(static_cast<double>(curve.latest_step()));
  if (!x.empty())
    x.lo = std::min(x.lo, static_cast<double>(curve.start_step()));
  const bool no_data = y_left.empty() && y_right.empty();
  const std::vector<double> xt = NiceTicks(&x, 10);
  const std::vector<double> yl = NiceTicks(&y_left, 8);
  const std::vector<double> yr = NiceTicks(&y_right, 8);
  auto px = [&](double step) {
    return left + (step - x.lo) / (x.hi - x.lo) * (right - left);
  };
  auto py = [&](double v, const Range& r) {
    return bottom - (v - r.lo) / (r.hi - r.lo) * (bottom - top);
  };

  // Grid and ticks.
  cairo_set_line_width(cr, std::max(1.0, 1.5 * u));
  cairo_set_font_size(cr, font * 0.8);
  for (double t : xt) {
    cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
    cairo_move_to(cr, px(t), top);
    cairo_line_to(cr, px(t), bottom);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    Text(cr, px(t), bottom + 34 * u, TickLabel(t, x.hi - x.lo), Align::kCentre);
  }
  for (double t : yl) {
    cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
    cairo_move_to(cr, left, py(t, y_left));
    cairo_line_to(cr, right, py(t, y_left));
    cairo_stroke(cr);
    SetColour(cr, 0, 1);
    Text(cr, left - 12 * u, py(t, y_left) + 8 * u,
         TickLabel(t, y_left.hi - y_left.lo), Align::kRight);
  }
  if (right_used) {
    for (double t : yr) {
      SetColour(cr, 1, 1);
      Text(cr, right + 12 * u, py(t, y_right) + 8 * u,
           TickLabel(t, y_right.hi - y_right.lo), Align::kLeft);
    }
  }
  // Frame.
  cairo_set_source_rgb(cr, 0.25, 0.25, 0.25);
  cairo_rectangle(cr, left, top, right - left, bottom - top);
  cairo_stroke(cr);

  // Series, rolled-back ones first (underneath, faded).
  cairo_save(cr);
  cairo_rectangle(cr, left, top, right - left, bottom - top);
  cairo_clip(cr);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  for (bool rolled_back : {true, false}) {
    for (int i = 0; i < curve.series_size(); ++i) {
      const common::v1::CurveSeries& s = curve.series(i);
      if (s.rolled_back() != rolled_back) continue;
      const Range& r = styles[i].right ? y_right : y_left;
      SetColour(cr, styles[i].colour, rolled_back ? 0.3 : 1);
      cairo_set_line_width(cr, std::max(1.0, (rolled_back ? 2.0 : 3.0) * u));
      bool pen = false;
      for (const common::v1::CurvePoint& p : s.points()) {
        if (!std::isfinite(p.value())) {
          pen = false;
          continue;
        }
        const double cx = px(static_cast<double>(p.step()));
        const double cy = py(p.value(), r);
        if (pen) {
          cairo_line_to(cr, cx, cy);
        } else {
          cairo_move_to(cr, cx, cy);
          pen = true;
        }
      }
      if (s.points_size() == 1) {  // a lone point: a dot
        cairo_arc(cr, px(static_cast<double>(s.points(0).step())),
                  py(s.points(0).value(), r), 4 * u, 0, 2 * M_PI);
        cairo_fill(cr);
      }
      cairo_stroke(cr);
    }
  }
  cairo_restore(cr);

  // Title, axis labels, legend.
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                         CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size(cr, font * 1.3);
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
  Text(cr, width / 2.0, top - 45 * u,
       absl::StrCat(ToAbsl(title), " - loss curve"), Align::kCentre);
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                         CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, font);
  Text(cr, (left + right) / 2, height - 40 * u, "Step", Align::kCentre);
  std::string left_title = "Loss", right_title;
  for (int i = 0; i < curve.series_size(); ++i) {
    if (curve.series(i).rolled_back()) continue;
    if (styles[i].colour == 0) left_title = AxisTitle(curve.series(i).name());
    if (styles[i].right) right_title = AxisTitle(curve.series(i).name());
  }
  SetColour(cr, 0, 1);
  Text(cr, 50 * u, (top + bottom) / 2, left_title, Align::kCentre, -M_PI / 2);
  if (right_used) {
    SetColour(cr, 1, 1);
    Text(cr, width - 50 * u, (top + bottom) / 2, right_title, Align::kCentre,
         M_PI / 2);
  }
  double ly = top + 40 * u;
  for (int i = 0; i < curve.series_size(); ++i) {
    if (curve.series(i).rolled_back()) continue;
    SetColour(cr, styles[i].colour, 1);
    cairo_set_line_width(cr, std::max(1.0, 4 * u));
    cairo_move_to(cr, right - 330 * u, ly - 9 * u);
    cairo_line_to(cr, right - 270 * u, ly - 9 * u);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    Text(cr, right - 255 * u, ly, AxisTitle(curve.series(i).name()),
         Align::kLeft);
    ly += 40 * u;
  }
  if (no_data) {
    cairo_set_source_rgb(cr, 0.4, 0.4, 0.4);
    Text(cr, (left + right) / 2, (top + bottom) / 2, "No points reported yet",
         Align::kCentre);
  }

  cairo_surface_flush(surface.get());
  std::string png;
  if (cairo_status(cr) != CAIRO_STATUS_SUCCESS ||
      cairo_surface_write_to_png_stream(surface.get(), Append, &png) !=
          CAIRO_STATUS_SUCCESS) {
    return absl::InternalError(
        absl::StrCat("drawing the loss curve failed: ",
                     cairo_status_to_string(cairo_status(cr))));
  }
  return png;
}

std::string LossCurveFilename(std::string_view display_name, absl::Time now) {
  std::string name;
  bool dash = false;
  for (char c : display_name) {
    const char l = absl::ascii_tolower(static_cast<unsigned char>(c));
    if ((l >= 'a' && l <= 'z') || (l >= '0' && l <= '9')) {
      if (dash && !name.empty()) name.push_back('-');
      dash = false;
      name.push_back(l);
    } else {
      dash = true;
    }
    if (name.size() >= 80) break;
  }
  if (name.size() > 80) name.resize(80);
  if (name.empty()) name = "job";
  return absl::StrCat(
      name, "-loss-curve-",
      absl::FormatTime("%Y%m%d-%H%M%S", now, absl::UTCTimeZone()), ".png");
}

}  // namespace trainyard::jobs

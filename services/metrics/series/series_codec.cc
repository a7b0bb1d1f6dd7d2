#include "services/metrics/series/series_codec.h"

#include <bit>
#include <cstring>
#include <limits>

namespace trainyard::metrics {
namespace {

constexpr uint8_t kPointsFormat = 1;
constexpr uint8_t kMetaFormat = 1;

void PutVarint(std::string* out, uint64_t v) {
  char buf[10];
  int n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->append(buf, n);
}

uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}

int64_t UnZigZag(uint64_t v) {
  return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
}

void PutDouble(std::string* out, double value) {
  uint64_t bits = std::bit_cast<uint64_t>(value);
  char buf[8];
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>(bits >> (8 * i));
  out->append(buf, 8);
}

// Reads from a byte range; every Get* returns false on truncation or
// overflow and leaves the reader failed.
class Reader {
 public:
  explicit Reader(std::string_view bytes)
      : p_(reinterpret_cast<const uint8_t*>(bytes.data())),
        end_(p_ + bytes.size()) {}

  bool GetByte(uint8_t* v) {
    if (p_ == end_) return false;
    *v = *p_++;
    return true;
  }

  bool GetVarint(uint64_t* v) {
    if (p_ != end_ && *p_ < 0x80) {  // Fast path: most deltas fit a byte.
      *v = *p_++;
      return true;
    }
    uint64_t result = 0;
    for (int shift = 0; shift <= 63; shift += 7) {
      if (p_ == end_) return false;
      uint64_t byte = *p_++;
      if (shift == 63 && byte > 1) return false;  // Overflows 64 bits.
      result |= (byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return false;
  }

  bool GetZigZag(int64_t* v) {
    uint64_t raw;
    if (!GetVarint(&raw)) return false;
    *v = UnZigZag(raw);
    return true;
  }

  bool GetDouble(double* v) {
    if (end_ - p_ < 8) return false;
    uint64_t bits;
    std::memcpy(&bits, p_, 8);
    if constexpr (std::endian::native == std::endian::big) {
      bits = __builtin_bswap64(bits);
    }
    p_ += 8;
    *v = std::bit_cast<double>(bits);
    return true;
  }

  bool done() const { return p_ == end_; }
  size_t remaining() const { return end_ - p_; }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

constexpr int64_t kMaxStep = std::numeric_limits<int64_t>::max();

bool AddStep(int64_t base, uint64_t delta, int64_t* out) {
  if (delta > static_cast<uint64_t>(kMaxStep - base)) return false;
  *out = base + static_cast<int64_t>(delta);
  return true;
}

bool ToAttempt(int64_t v, int32_t* out) {
  if (v < std::numeric_limits<int32_t>::min() ||
      v > std::numeric_limits<int32_t>::max()) {
    return false;
  }
  *out = static_cast<int32_t>(v);
  return true;
}

absl::Status Corrupt(std::string_view what) {
  return absl::DataLossError(std::string("corrupt series data: ").append(what));
}

}  // namespace

void EncodePoints(absl::Span<const SeriesPoint> points, std::string* out) {
  out->reserve(out->size() + 2 + points.size() * 11);
  out->push_back(static_cast<char>(kPointsFormat));
  PutVarint(out, points.size());
  int64_t prev_step = 0;
  int64_t prev_attempt = 0;
  for (const SeriesPoint& p : points) {
    PutVarint(out, static_cast<uint64_t>(p.step - prev_step));
    PutVarint(out, ZigZag(int64_t{p.attempt} - prev_attempt));
    PutDouble(out, p.value);
    prev_step = p.step;
    prev_attempt = p.attempt;
  }
}

std::string EncodePoints(absl::Span<const SeriesPoint> points) {
  std::string out;
  EncodePoints(points, &out);
  return out;
}

absl::Status DecodePoints(std::string_view bytes,
                          std::vector<SeriesPoint>* out) {
  Reader r(bytes);
  uint8_t format;
  if (!r.GetByte(&format) || format != kPointsFormat) {
    return Corrupt("unknown point block format");
  }
  uint64_t count;
  // Each point takes at least 10 bytes: bound count before reserving.
  if (!r.GetVarint(&count) || count == 0 || count > r.remaining() / 10) {
    return Corrupt("bad point count");
  }
  const size_t base = out->size();
  out->resize(base + count);
  SeriesPoint* p = out->data() + base;
  int64_t step = 0;
  int64_t attempt = 0;
  for (uint64_t i = 0; i < count; ++i, ++p) {
    uint64_t delta;
    int64_t attempt_delta;
    if (!r.GetVarint(&delta) || (i > 0 && delta == 0) ||
        !AddStep(step, delta, &step) || !r.GetZigZag(&attempt_delta) ||
        !ToAttempt(attempt + attempt_delta, &p->attempt) ||
        !r.GetDouble(&p->value)) {
      out->resize(base);
      return Corrupt("bad point");
    }
    attempt = p->attempt;
    p->step = step;
  }
  if (!r.done()) {
    out->resize(base);
    return Corrupt("trailing bytes after points");
  }
  return absl::OkStatus();
}

namespace {

void PutRelativePoint(std::string* out, int64_t first_step,
                      const SeriesPoint& p) {
  PutVarint(out, static_cast<uint64_t>(p.step - first_step));
  PutVarint(out, ZigZag(p.attempt));
  PutDouble(out, p.value);
}

bool GetRelativePoint(Reader* r, int64_t first_step, int64_t last_step,
                      SeriesPoint* p) {
  uint64_t delta;
  int64_t attempt;
  return r->GetVarint(&delta) && AddStep(first_step, delta, &p->step) &&
         p->step <= last_step && r->GetZigZag(&attempt) &&
         ToAttempt(attempt, &p->attempt) && r->GetDouble(&p->value);
}

}  // namespace

std::string EncodeChunkMeta(const ChunkMeta& meta) {
  std::string out;
  out.push_back(static_cast<char>(kMetaFormat));
  PutVarint(&out, meta.version);
  PutVarint(&out, static_cast<uint64_t>(meta.extremes.count));
  PutVarint(&out, static_cast<uint64_t>(meta.last_step - meta.first_step));
  PutRelativePoint(&out, meta.first_step, meta.extremes.min);
  PutRelativePoint(&out, meta.first_step, meta.extremes.max);
  PutVarint(&out, ZigZag(meta.last.attempt));
  PutDouble(&out, meta.last.value);
  return out;
}

absl::Status DecodeChunkMeta(int64_t first_step, std::string_view bytes,
                             ChunkMeta* meta) {
  Reader r(bytes);
  uint8_t format;
  if (!r.GetByte(&format) || format != kMetaFormat) {
    return Corrupt("unknown chunk summary format");
  }
  ChunkMeta m;
  m.first_step = first_step;
  uint64_t count, extent;
  int64_t last_attempt;
  if (!r.GetVarint(&m.version) || !r.GetVarint(&count) || count == 0 ||
      count > static_cast<uint64_t>(kMaxStep) || !r.GetVarint(&extent) ||
      !AddStep(first_step, extent, &m.last_step) ||
      !GetRelativePoint(&r, first_step, m.last_step, &m.extremes.min) ||
      !GetRelativePoint(&r, first_step, m.last_step, &m.extremes.max) ||
      !r.GetZigZag(&last_attempt) ||
      !ToAttempt(last_attempt, &m.last.attempt) ||
      !r.GetDouble(&m.last.value) || !r.done()) {
    return Corrupt("bad chunk summary");
  }
  m.extremes.count = static_cast<int64_t>(count);
  m.last.step = m.last_step;
  *meta = m;
  return absl::OkStatus();
}

}  // namespace trainyard::metrics

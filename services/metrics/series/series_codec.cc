#include "services/metrics/series/series_codec.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>

#include "common/status/status_macros.h"

namespace trainyard::metrics {
namespace {

constexpr uint8_t kPointsFormat = 1;
constexpr uint8_t kChunkFormat = 2;
constexpr uint8_t kMetaFormat = 1;
constexpr uint8_t kTailFormat = 1;

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

  bool GetBytes(uint64_t n, std::string_view* v) {
    if (n > remaining()) return false;
    *v = std::string_view(reinterpret_cast<const char*>(p_), n);
    p_ += n;
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

namespace {

// Point data shared by both formats: per point a step delta (to `base` for
// the first point), a zigzag attempt delta (to 0 for the first) and the value.
void PutPointData(absl::Span<const SeriesPoint> points, int64_t base,
                  std::string* out) {
  int64_t prev_step = base;
  int64_t prev_attempt = 0;
  for (const SeriesPoint& p : points) {
    PutVarint(out, static_cast<uint64_t>(p.step - prev_step));
    PutVarint(out, ZigZag(int64_t{p.attempt} - prev_attempt));
    PutDouble(out, p.value);
    prev_step = p.step;
    prev_attempt = p.attempt;
  }
}

// Decodes `count` points written by PutPointData with `base`, appending to
// *out. The first step delta may be 0 only when `first_may_equal_base`.
bool GetPointData(Reader* r, uint64_t count, int64_t base,
                  bool first_may_equal_base, std::vector<SeriesPoint>* out) {
  const size_t old_size = out->size();
  out->resize(old_size + count);
  SeriesPoint* p = out->data() + old_size;
  int64_t step = base;
  int64_t attempt = 0;
  for (uint64_t i = 0; i < count; ++i, ++p) {
    uint64_t delta;
    int64_t attempt_delta;
    if (!r->GetVarint(&delta) ||
        (delta == 0 && (i > 0 || !first_may_equal_base)) ||
        !AddStep(step, delta, &step) || !r->GetZigZag(&attempt_delta) ||
        !ToAttempt(attempt + attempt_delta, &p->attempt) ||
        !r->GetDouble(&p->value)) {
      out->resize(old_size);
      return false;
    }
    attempt = p->attempt;
    p->step = step;
  }
  return true;
}

void PutRelativePoint(std::string* out, int64_t first_step,
                      const SeriesPoint& p);
bool GetRelativePoint(Reader* r, int64_t first_step, int64_t last_step,
                      SeriesPoint* p);

}  // namespace

void EncodePoints(absl::Span<const SeriesPoint> points, std::string* out) {
  out->reserve(out->size() + 2 + points.size() * 11);
  out->push_back(static_cast<char>(kPointsFormat));
  PutVarint(out, points.size());
  PutPointData(points, 0, out);
}

std::string EncodePoints(absl::Span<const SeriesPoint> points) {
  std::string out;
  EncodePoints(points, &out);
  return out;
}

std::string EncodeChunk(absl::Span<const SeriesPoint> points,
                        int block_points) {
  const size_t per_block = static_cast<size_t>(std::max(block_points, 1));
  std::string header;
  std::string data;
  data.reserve(points.size() * 11);
  header.push_back(static_cast<char>(kChunkFormat));
  PutVarint(&header, points.size());
  PutVarint(&header, per_block);
  int64_t prev_first = 0;
  for (size_t begin = 0; begin < points.size(); begin += per_block) {
    absl::Span<const SeriesPoint> block =
        points.subspan(begin, std::min(per_block, points.size() - begin));
    const int64_t first = block.front().step;
    Extremes e;
    for (const SeriesPoint& p : block) e.Add(p);
    const size_t data_begin = data.size();
    PutPointData(block, first, &data);
    PutVarint(&header, static_cast<uint64_t>(first - prev_first));
    PutVarint(&header, data.size() - data_begin);
    PutRelativePoint(&header, first, e.min);
    PutRelativePoint(&header, first, e.max);
    prev_first = first;
  }
  return header + data;
}

absl::Status DecodePoints(std::string_view bytes,
                          std::vector<SeriesPoint>* out) {
  if (!bytes.empty() && static_cast<uint8_t>(bytes[0]) == kChunkFormat) {
    ChunkView view;
    RETURN_IF_ERROR(view.Parse(bytes));
    return view.DecodeAll(out);
  }
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
  if (!GetPointData(&r, count, 0, /*first_may_equal_base=*/true, out)) {
    return Corrupt("bad point");
  }
  if (!r.done()) {
    out->resize(base);
    return Corrupt("trailing bytes after points");
  }
  return absl::OkStatus();
}

absl::Status ChunkView::Parse(std::string_view bytes) {
  blocks_.clear();
  count_ = 0;
  Reader r(bytes);
  uint8_t format;
  uint64_t count, per_block;
  if (!r.GetByte(&format) || format != kChunkFormat) {
    return Corrupt("unknown chunk format");
  }
  if (!r.GetVarint(&count) || count == 0 || !r.GetVarint(&per_block) ||
      per_block == 0 || count > r.remaining() / 10) {
    return Corrupt("bad chunk header");
  }
  const uint64_t nblocks = (count + per_block - 1) / per_block;
  if (nblocks > r.remaining() / 20) return Corrupt("bad chunk header");
  blocks_.resize(nblocks);
  int64_t first = 0;
  uint64_t total_data = 0;
  for (uint64_t b = 0; b < nblocks; ++b) {
    Block& block = blocks_[b];
    uint64_t delta, length;
    if (!r.GetVarint(&delta) || (b > 0 && delta == 0) ||
        !AddStep(first, delta, &first) || !r.GetVarint(&length) ||
        length > bytes.size()) {
      return Corrupt("bad chunk block header");
    }
    block.first_step = first;
    block.count = static_cast<int64_t>(
        b + 1 < nblocks ? per_block : count - per_block * (nblocks - 1));
    block.extremes.count = block.count;
    // Extremes lie in the block; the next block's first step bounds it.
    if (!GetRelativePoint(&r, first, std::numeric_limits<int64_t>::max(),
                          &block.extremes.min) ||
        !GetRelativePoint(&r, first, std::numeric_limits<int64_t>::max(),
                          &block.extremes.max)) {
      return Corrupt("bad chunk block extremes");
    }
    block.data_length = length;
    total_data += length;
  }
  if (total_data != r.remaining()) return Corrupt("bad chunk block lengths");
  size_t offset = bytes.size() - r.remaining();
  for (Block& block : blocks_) {
    block.data = bytes.substr(offset, block.data_length);
    offset += block.data_length;
  }
  for (size_t b = 0; b + 1 < blocks_.size(); ++b) {
    if (blocks_[b].extremes.min.step >= blocks_[b + 1].first_step ||
        blocks_[b].extremes.max.step >= blocks_[b + 1].first_step) {
      return Corrupt("bad chunk block extremes");
    }
  }
  count_ = static_cast<int64_t>(count);
  return absl::OkStatus();
}

absl::Status ChunkView::Decode(size_t b, std::vector<SeriesPoint>* out) const {
  const Block& block = blocks_[b];
  const size_t base = out->size();
  Reader r(block.data);
  if (!GetPointData(&r, static_cast<uint64_t>(block.count), block.first_step,
                    /*first_may_equal_base=*/true, out) ||
      !r.done() || (*out)[base].step != block.first_step ||
      (b + 1 < blocks_.size() &&
       out->back().step >= blocks_[b + 1].first_step)) {
    out->resize(base);
    return Corrupt("bad chunk block");
  }
  return absl::OkStatus();
}

absl::Status ChunkView::DecodeAll(std::vector<SeriesPoint>* out) const {
  out->reserve(out->size() + static_cast<size_t>(count_));
  for (size_t b = 0; b < blocks_.size(); ++b) {
    RETURN_IF_ERROR(Decode(b, out));
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

std::string EncodeTailSegment(absl::Span<const TailEntry> entries) {
  std::string out;
  out.push_back(static_cast<char>(kTailFormat));
  std::string points;
  for (const TailEntry& e : entries) {
    PutVarint(&out, e.series.size());
    out.append(e.series);
    out.push_back(e.reset ? 1 : 0);
    points.clear();
    if (!e.points.empty()) EncodePoints(e.points, &points);
    PutVarint(&out, points.size());
    out.append(points);
  }
  return out;
}

absl::Status DecodeTailSegment(std::string_view bytes,
                               std::vector<TailEntry>* entries) {
  entries->clear();
  Reader r(bytes);
  uint8_t format;
  if (!r.GetByte(&format) || format != kTailFormat) {
    return Corrupt("unknown tail segment format");
  }
  while (!r.done()) {
    TailEntry& e = entries->emplace_back();
    uint64_t length;
    std::string_view name, points;
    uint8_t reset;
    if (!r.GetVarint(&length) || !r.GetBytes(length, &name) || name.empty() ||
        !r.GetByte(&reset) || reset > 1 || !r.GetVarint(&length) ||
        !r.GetBytes(length, &points)) {
      return Corrupt("bad tail segment entry");
    }
    e.series = std::string(name);
    e.reset = reset == 1;
    if (!points.empty()) RETURN_IF_ERROR(DecodePoints(points, &e.points));
  }
  return absl::OkStatus();
}

}  // namespace trainyard::metrics

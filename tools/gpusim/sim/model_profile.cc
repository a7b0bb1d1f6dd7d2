// Copyright 2026 Trainyard authors.
#include "tools/gpusim/sim/model_profile.h"

#include <cmath>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/strings/absl_view.h"

namespace trainyard::gpusim {
namespace {

// "70B" -> 70, "0.5b" -> 0.5, "8x7B" -> ~46.7 (mixture of experts), "350M".
bool ParseSizeToken(std::string_view token, double* billions) {
  if (token.size() < 2) return false;
  char unit = absl::ascii_toupper(token.back());
  if (unit != 'B' && unit != 'M') return false;
  std::string_view number = token.substr(0, token.size() - 1);
  double experts = 1;
  if (size_t x = number.find('x'); x != std::string_view::npos) {
    if (!absl::SimpleAtod(ToAbsl(number.substr(0, x)), &experts)) return false;
    number = number.substr(x + 1);
    experts *= 0.83;  // experts share attention weights
  }
  double value = 0;
  if (!absl::SimpleAtod(ToAbsl(number), &value) || value <= 0) return false;
  *billions = experts * (unit == 'M' ? value / 1000 : value);
  return true;
}

}  // namespace

ModelProfile ModelProfile::FromName(std::string_view base_model) {
  ModelProfile p;
  std::string_view name = base_model.substr(base_model.rfind('/') + 1);
  if (absl::StartsWithIgnoreCase(ToAbsl(name), "meta-")) name.remove_prefix(5);
  std::vector<std::string> family;
  bool found = false;
  for (absl::string_view token : absl::StrSplit(ToAbsl(name), '-')) {
    double billions = 0;
    if (!found && ParseSizeToken(ToStd(token), &billions)) {
      p.params_billions = billions;
      p.size = std::string(token);
      found = true;
    } else if (!found) {
      family.emplace_back(token);
    }
  }
  p.family = absl::StrJoin(family, " ");
  if (p.family.empty()) p.family = std::string(name);
  if (!found) p.params_billions = 8;
  // Width and depth of the nearest common shape.
  struct Shape {
    double max_billions;
    int64_t hidden, layers;
  };
  constexpr Shape kShapes[] = {{2, 2048, 22},    {4, 3072, 28},  {10, 4096, 32},
                               {15, 5120, 40},   {40, 6656, 60}, {80, 8192, 80},
                               {1e9, 16384, 126}};
  for (const Shape& s : kShapes) {
    if (p.params_billions <= s.max_billions) {
      p.hidden = s.hidden;
      p.layers = s.layers;
      break;
    }
  }
  return p;
}

std::string ModelProfile::DisplayName() const {
  return size.empty() ? family : family + " " + size;
}

int64_t ModelProfile::LoraParams(int64_t rank) const {
  // Per layer and rank: q and o (h + h), k and v (h + h/8, grouped-query
  // attention), gate, up and down (h + 3.5h): 19.75 h.
  return static_cast<int64_t>(19.75 * static_cast<double>(hidden)) * layers *
         rank;
}

int64_t ModelProfile::AdapterBytes(int64_t rank) const {
  return 2 * LoraParams(rank) + 4096;
}

int64_t ModelProfile::CheckpointBytes(int64_t rank) const {
  // fp16 adapter + two fp32 Adam moments.
  return 10 * LoraParams(rank) + 65536;
}

int64_t ModelProfile::MemoryBytes(int64_t rank, int64_t batch_size,
                                  int64_t seq_len, int gpu_count) const {
  double weights = params_billions * 1e9 * 0.55;  // 4-bit + quant constants
  double lora = 16.0 * static_cast<double>(LoraParams(rank));
  double tokens = static_cast<double>(batch_size * seq_len);
  // Gradient checkpointing: one saved input per layer, one layer's peak,
  // and the logits over a 128K vocabulary.
  double activations = tokens * static_cast<double>(hidden) *
                           (2.0 * static_cast<double>(layers) + 34.0) +
                       tokens * 128256.0 * 4.0;
  double overhead = 1.5e9;  // CUDA context, allocator slack
  return static_cast<int64_t>((weights + lora + activations) / gpu_count +
                              overhead);
}

double ModelProfile::TokensPerSecond(const GpuType& gpu, int gpu_count) const {
  double per_gpu =
      gpu.tokens_per_second_70b * std::pow(70.0 / params_billions, 0.9);
  // Each doubling of GPUs keeps 90% efficiency.
  double scale = gpu_count * std::pow(0.9, std::log2(gpu_count));
  return per_gpu * scale;
}

}  // namespace trainyard::gpusim

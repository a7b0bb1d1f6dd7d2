// Copyright 2026 Trainyard authors.
//
// File: tools/gpusim/sim/model_profile.h
// -----------------------------------------------------------------------------
// What the simulation assumes about a base model, read from its Hugging Face
// name ("meta-llama/Meta-Llama-3-70B" -> Llama 3, 70B): its size and shape,
// from which LoRA adapter sizes, GPU memory and throughput follow. The
// figures are rough but of the right order (QLoRA, 4-bit base weights).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tools/gpusim/sim/gpu_catalog.h"

namespace trainyard::gpusim {

struct ModelProfile {
  std::string family;          // "Llama 3"
  std::string size;            // "70B"
  double params_billions = 8;  // 70
  int64_t hidden = 4096;       // model width
  int64_t layers = 32;

  // Reads a model name; unknown shapes fall back to an 8B model.
  static ModelProfile FromName(std::string_view base_model);

  // "Llama 3 70B" (or the family alone when the size is unknown).
  std::string DisplayName() const;

  // Trainable LoRA parameters at `rank` over every linear layer.
  int64_t LoraParams(int64_t rank) const;
  // adapter_model.bin (fp16 weights).
  int64_t AdapterBytes(int64_t rank) const;
  // A training checkpoint: adapter plus optimizer state.
  int64_t CheckpointBytes(int64_t rank) const;
  // Peak training memory of one of `gpu_count` GPUs for a micro-batch of
  // `batch_size` sequences of `seq_len` tokens.
  int64_t MemoryBytes(int64_t rank, int64_t batch_size, int64_t seq_len,
                      int gpu_count) const;
  // Steady training throughput of `gpu_count` GPUs of `gpu`.
  double TokensPerSecond(const GpuType& gpu, int gpu_count) const;
};

}  // namespace trainyard::gpusim

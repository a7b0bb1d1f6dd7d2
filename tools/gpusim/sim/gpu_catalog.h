// Copyright 2026 Trainyard authors.
//
// File: tools/gpusim/sim/gpu_catalog.h
// -----------------------------------------------------------------------------
// The GPU types gpusim rents out, under their RunPod gpuTypeIds ("NVIDIA H100
// 80GB HBM3"), with the rate card of shared/docs/domain.md and a throughput
// figure that the training simulation scales by model size.
//
// Everything here is constant data; thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace trainyard::gpusim {

struct GpuType {
  // RunPod's gpuTypeId, as POST /v2/pods takes it in gpuTypeIds.
  std::string_view id;
  // RunPod's displayName ("H100 SXM").
  std::string_view display_name;
  // Memory of one GPU.
  int64_t memory_bytes = 0;
  // $/GPU-hour: interruptible (spot) and on-demand (domain.md rate card).
  double spot_price = 0;
  double on_demand_price = 0;
  // QLoRA training throughput of one GPU on a 70B model, tokens/s. Smaller
  // models go faster (see ModelProfile::TokensPerSecond).
  double tokens_per_second_70b = 0;
};

// Every GPU type gpusim knows, in a fixed order.
std::span<const GpuType> GpuCatalog();

// The type whose id is `id` (exact match), or nullptr.
const GpuType* FindGpuType(std::string_view id);

}  // namespace trainyard::gpusim

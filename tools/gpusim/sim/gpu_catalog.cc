// Copyright 2026 Trainyard authors.
#include "tools/gpusim/sim/gpu_catalog.h"

namespace trainyard::gpusim {
namespace {

constexpr int64_t kGiB = int64_t{1} << 30;

// Prices: domain.md's rate card. Throughput: rough QLoRA figures for a 4-bit
// 70B model (the webhook example's 1,247 tokens/s is an H100).
constexpr GpuType kCatalog[] = {
    {"NVIDIA H100 80GB HBM3", "H100 SXM", 80 * kGiB, 2.49, 3.99, 1250},
    {"NVIDIA H100 PCIe", "H100 PCIe", 80 * kGiB, 2.29, 3.49, 1050},
    {"NVIDIA A100-SXM4-80GB", "A100 SXM", 80 * kGiB, 1.19, 1.89, 720},
    {"NVIDIA A100 80GB PCIe", "A100 PCIe", 80 * kGiB, 1.09, 1.69, 650},
    {"NVIDIA L40S", "L40S", 48 * kGiB, 0.69, 1.03, 480},
    {"NVIDIA RTX A6000", "RTX A6000", 48 * kGiB, 0.39, 0.79, 330},
    {"NVIDIA GeForce RTX 4090", "RTX 4090", 24 * kGiB, 0.34, 0.69, 400},
};

}  // namespace

std::span<const GpuType> GpuCatalog() { return kCatalog; }

const GpuType* FindGpuType(std::string_view id) {
  for (const GpuType& gpu : kCatalog) {
    if (gpu.id == id) return &gpu;
  }
  return nullptr;
}

}  // namespace trainyard::gpusim

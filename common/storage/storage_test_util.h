// -----------------------------------------------------------------------------
// File: common/storage/storage_test_util.h
// -----------------------------------------------------------------------------
//
// Test-only helpers of the storage module: Options for a small database in a
// directory. Status matchers and TempDir are the shared ones in
// common/testing/status_matchers.h and common/testing/temp_dir.h.

#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "common/storage/options.h"

namespace trainyard::storage::testing {

// Options for a small database at `path` with `column_families`.
inline Options TestOptions(std::string path,
                           std::vector<std::string> column_families) {
  Options options;
  options.path = std::move(path);
  options.name = "test";
  options.column_families = std::move(column_families);
  options.block_cache_bytes = size_t{8} << 20;
  options.memtable_bytes = size_t{4} << 20;
  options.write_buffer_size = size_t{1} << 20;
  return options;
}

}  // namespace trainyard::storage::testing

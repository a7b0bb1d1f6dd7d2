#include "common/storage/options.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "rocksdb/convenience.h"

namespace trainyard::storage {

absl::StatusOr<SharedMemory> NewSharedMemory(size_t total_bytes,
                                             size_t memtable_bytes) {
  if (memtable_bytes == 0 || memtable_bytes >= total_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "NewSharedMemory: need 0 < memtable_bytes < total_bytes, got ",
        memtable_bytes, " and ", total_bytes));
  }
  rocksdb::LRUCacheOptions cache_options;
  cache_options.capacity = total_bytes;
  // Not strict: a full cache evicts rather than failing reads.
  cache_options.strict_capacity_limit = false;
  SharedMemory memory;
  memory.block_cache = rocksdb::NewLRUCache(cache_options);
  // Charging memtables to the cache makes its capacity the one bound. No
  // stall: going over the budget triggers flushes of the largest memtables
  // instead of blocking writers of every database sharing the budget.
  memory.write_buffer_manager = std::make_shared<rocksdb::WriteBufferManager>(
      memtable_bytes, memory.block_cache, /*allow_stall=*/false);
  return memory;
}

rocksdb::CompressionType ChooseCompression() {
  std::vector<rocksdb::CompressionType> supported =
      rocksdb::GetSupportedCompressions();
  for (rocksdb::CompressionType preferred :
       {rocksdb::kLZ4Compression, rocksdb::kSnappyCompression}) {
    if (std::find(supported.begin(), supported.end(), preferred) !=
        supported.end()) {
      return preferred;
    }
  }
  return rocksdb::kNoCompression;
}

}  // namespace trainyard::storage

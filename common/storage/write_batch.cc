#include "common/storage/write_batch.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/storage/keys.h"
#include "common/strings/absl_view.h"

namespace trainyard::storage {

void WriteBatch::Add(OpType type, std::string_view cf, std::string_view key,
                     std::string value) {
  if (!status_.ok()) return;
  ops_.push_back(Op{type, std::string(cf), std::string(key), std::move(value)});
}

void WriteBatch::PutRaw(std::string_view cf, std::string_view key,
                        std::string_view value) {
  Add(OpType::kPut, cf, key, std::string(value));
}

void WriteBatch::Put(std::string_view cf, std::string_view key,
                     const google::protobuf::MessageLite& message) {
  if (!status_.ok()) return;
  std::string bytes;
  // protobuf only DCHECKs required fields on serialization; check here so
  // release builds reject an incomplete message too.
  if (!message.IsInitialized() || !message.SerializeToString(&bytes)) {
    status_ = absl::InvalidArgumentError(absl::StrCat(
        "WriteBatch Put cf=", ToAbsl(cf), " key=\"", PrintableKey(key),
        "\": cannot serialize ", message.GetTypeName()));
    return;
  }
  Add(OpType::kPut, cf, key, std::move(bytes));
}

void WriteBatch::Delete(std::string_view cf, std::string_view key) {
  Add(OpType::kDelete, cf, key, std::string());
}

void WriteBatch::DeleteRange(std::string_view cf, std::string_view start,
                             std::string_view limit) {
  if (limit <= start) return;
  Add(OpType::kDeleteRange, cf, start, std::string(limit));
}

void WriteBatch::Clear() {
  ops_.clear();
  status_ = absl::OkStatus();
}

}  // namespace trainyard::storage

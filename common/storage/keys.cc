#include "common/storage/keys.h"

#include <cstddef>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/strings/absl_view.h"

namespace trainyard::storage {
namespace {

constexpr char kEscape = '\x00';
constexpr char kEscapedZero = '\xff';
constexpr char kTerminator = '\x01';
constexpr size_t kMaxPrintableKeyBytes = 64;

}  // namespace

void AppendUint64(std::string* dst, uint64_t value) {
  char buf[8];
  for (int i = 7; i >= 0; --i) {
    buf[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  dst->append(buf, sizeof(buf));
}

std::string EncodeUint64(uint64_t value) {
  std::string out;
  AppendUint64(&out, value);
  return out;
}

bool ConsumeUint64(std::string_view* input, uint64_t* value) {
  if (input->size() < 8) return false;
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) {
    v = (v << 8) | static_cast<unsigned char>((*input)[i]);
  }
  *value = v;
  input->remove_prefix(8);
  return true;
}

std::optional<std::string> PrefixSuccessor(std::string_view prefix) {
  std::string out(prefix);
  while (!out.empty()) {
    unsigned char last = static_cast<unsigned char>(out.back());
    if (last != 0xff) {
      out.back() = static_cast<char>(last + 1);
      return out;
    }
    out.pop_back();
  }
  return std::nullopt;
}

std::string PrintableKey(std::string_view key) {
  if (key.size() <= kMaxPrintableKeyBytes) return absl::CHexEscape(ToAbsl(key));
  return absl::StrCat(
      absl::CHexEscape(ToAbsl(key.substr(0, kMaxPrintableKeyBytes))), "...(",
      key.size(), " bytes)");
}

KeyBuilder& KeyBuilder::AddString(std::string_view component) {
  for (char c : component) {
    key_.push_back(c);
    if (c == kEscape) key_.push_back(kEscapedZero);
  }
  key_.push_back(kEscape);
  key_.push_back(kTerminator);
  return *this;
}

std::string KeyBuilder::Build() {
  std::string out = std::move(key_);
  key_.clear();
  return out;
}

KeyBuilder& KeyBuilder::AddUint64(uint64_t component) {
  AppendUint64(&key_, component);
  return *this;
}

bool KeyReader::ReadString(std::string* component) {
  std::string out;
  size_t i = 0;
  while (i < rest_.size()) {
    char c = rest_[i];
    if (c != kEscape) {
      out.push_back(c);
      ++i;
      continue;
    }
    if (i + 1 >= rest_.size()) return false;
    char next = rest_[i + 1];
    if (next == kTerminator) {
      rest_.remove_prefix(i + 2);
      *component = std::move(out);
      return true;
    }
    if (next != kEscapedZero) return false;
    out.push_back(kEscape);
    i += 2;
  }
  return false;  // No terminator.
}

bool KeyReader::ReadUint64(uint64_t* component) {
  return ConsumeUint64(&rest_, component);
}

}  // namespace trainyard::storage

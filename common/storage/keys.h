// -----------------------------------------------------------------------------
// File: common/storage/keys.h
// -----------------------------------------------------------------------------
//
// Order-preserving key encoding for RocksDB keys. RocksDB compares keys
// bytewise, so every helper here produces bytes whose lexicographic order is
// the natural order of what they encode:
//
//   * `AppendUint64` writes a uint64 as 8 big-endian bytes, so numeric order
//     equals byte order (0 < 255 < 256 < 2^63 ...).
//   * `KeyBuilder` concatenates components (strings and uint64s) such that the
//     byte order of two keys equals the component-wise (tuple) order, and no
//     key built from one tuple is a prefix-match for a different tuple: the key
//     of ("job1") is never a prefix of the key of ("job10", ...).
//   * `PrefixSuccessor` gives the exclusive upper bound of a prefix scan.
//
// Example: metric chunks keyed `job | series | chunk start step`:
//
//   std::string key = KeyBuilder().AddString(job).AddString(series)
//                         .AddUint64(start_step).Build();
//   // All chunks of one series:
//   KeyRange range = KeyRange::Prefix(
//       KeyBuilder().AddString(job).AddString(series).Build());
//
// All functions are pure and thread-compatible.

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace trainyard::storage {

// Appends `value` to `*dst` as 8 big-endian bytes.
void AppendUint64(std::string* dst, uint64_t value);

// Returns `value` as 8 big-endian bytes.
std::string EncodeUint64(uint64_t value);

// Decodes 8 big-endian bytes from the front of `*input` into `*value` and
// removes them from `*input`. Returns false (leaving both untouched) if
// `*input` holds fewer than 8 bytes.
bool ConsumeUint64(std::string_view* input, uint64_t* value);

// Returns the smallest key that is greater than every key starting with
// `prefix`, for use as the exclusive upper bound of a prefix scan: `prefix`
// with trailing 0xff bytes removed and its last byte incremented. Returns
// nullopt when no such key exists (`prefix` is empty or all 0xff), meaning the
// scan runs to the end of the column family.
std::optional<std::string> PrefixSuccessor(std::string_view prefix);

// Returns `key` in a form safe for logs and status messages: printable ASCII
// kept, other bytes C-escaped (\x00), truncated to about 64 input bytes with a
// trailing "...(N bytes)" when longer.
std::string PrintableKey(std::string_view key);

// Builds a key from a sequence of components. A string component is written
// with every 0x00 byte escaped as 0x00 0xff and is terminated by 0x00 0x01 (the
// separator); a uint64 component is 8 big-endian bytes. Hence any string may
// be a component (ids containing the separator byte cannot collide), and the
// byte order of keys equals the tuple order of their components.
//
// Thread-compatible: a KeyBuilder may not be used by two threads at once.
class KeyBuilder {
 public:
  KeyBuilder() = default;

  // Appends a string component.
  KeyBuilder& AddString(std::string_view component);

  // Appends a uint64 component (fixed width, no separator needed).
  KeyBuilder& AddUint64(uint64_t component);

  // The key built so far; valid until the next Add*.
  const std::string& key() const { return key_; }

  // Returns the key, leaving the builder empty.
  std::string Build();

 private:
  std::string key_;
};

// Reads back the components of a key written by KeyBuilder, in the same
// order. Each Read* returns false if the next bytes are not a well-formed
// component of that type; the reader is then left in an unspecified position.
//
// Does not own the key: the bytes `key` refers to must outlive the reader.
class KeyReader {
 public:
  explicit KeyReader(std::string_view key) : rest_(key) {}
  // A temporary string would dangle as soon as the reader is constructed.
  explicit KeyReader(std::string&& key) = delete;

  bool ReadString(std::string* component);
  bool ReadUint64(uint64_t* component);

  // True once every byte of the key has been read.
  bool done() const { return rest_.empty(); }

  // The bytes not read yet.
  std::string_view remaining() const { return rest_; }

 private:
  std::string_view rest_;
};

}  // namespace trainyard::storage

// Copyright 2026 Trainyard authors.
#include "common/strings/json_message.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/status/errors.h"
#include "common/strings/absl_view.h"
#include "common/strings/utf8.h"
#include "google/protobuf/descriptor.h"

namespace trainyard {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

constexpr int kMaxDepth = 64;
// google.protobuf.Timestamp's range:
// 0001-01-01T00:00:00Z..9999-12-31T23:59:59Z.
constexpr int64_t kMinTimestampSeconds = -62135596800;
constexpr int64_t kMaxTimestampSeconds = 253402300799;

const FieldDescriptor* FindField(const Descriptor& d, std::string_view key) {
  for (int i = 0; i < d.field_count(); ++i) {
    const FieldDescriptor* f = d.field(i);
    if (f->json_name() == key || f->name() == key) return f;
  }
  return nullptr;
}

template <typename T>
bool ParseInteger(std::string_view text, T* out) {
  if (absl::SimpleAtoi(ToAbsl(text), out)) return true;
  // 1e3 and 12.0 are integers too; a fraction or an overflow is not.
  constexpr double kMin = static_cast<double>(std::numeric_limits<T>::min());
  constexpr double kEnd =  // 2^31, 2^32, 2^63 or 2^64: exact in a double.
      static_cast<double>(std::numeric_limits<T>::max()) + 1.0;
  double d;
  if (!absl::SimpleAtod(ToAbsl(text), &d) || !std::isfinite(d) ||
      d != std::trunc(d) || d < kMin || d >= kEnd) {
    return false;
  }
  *out = static_cast<T>(d);
  return true;
}

// Up to 64 bytes of the input, for an error message: whole code points
// only, a malformed byte as U+FFFD, so the message stays valid UTF-8 (the
// BadRequest detail it goes into is a proto string).
std::string Echo(std::string_view text) {
  std::string out;
  char32_t cp;
  for (size_t pos = 0; pos < text.size();) {
    const size_t length = DecodeUtf8(text, pos, &cp);
    if (cp != kMalformedUtf8 && out.size() + length > 64) break;
    if (cp == kMalformedUtf8 && out.size() + 3 > 64) break;
    if (cp == kMalformedUtf8) {
      AppendUtf8(0xFFFD, &out);
    } else {
      out.append(text.substr(pos, length));
    }
    pos += length;
  }
  return out;
}

class JsonReader {
 public:
  explicit JsonReader(std::string_view in) : in_(in) {}

  absl::Status ReadRoot(Message& message) {
    SkipSpace();
    if (absl::Status s = ReadObject(message, 0); !s.ok()) return s;
    SkipSpace();
    if (pos_ != in_.size()) return Syntax("text after the top-level object");
    return absl::OkStatus();
  }

 private:
  // -- Errors -----------------------------------------------------------

  std::string_view Path() const {
    return path_.empty() ? std::string_view("body") : path_;
  }
  absl::Status Syntax(std::string_view what) const {
    return InvalidFieldError(Path(), absl::StrCat("malformed JSON at byte ",
                                                  pos_, ": ", ToAbsl(what)));
  }
  absl::Status BadValue(std::string_view text, std::string_view expected) {
    return InvalidFieldError(
        Path(), absl::StrCat("invalid value ", Echo(text), " (expected ",
                             ToAbsl(expected), ")"));
  }

  // -- Tokens -----------------------------------------------------------

  void SkipSpace() {
    while (pos_ < in_.size() && (in_[pos_] == ' ' || in_[pos_] == '\n' ||
                                 in_[pos_] == '\r' || in_[pos_] == '\t')) {
      ++pos_;
    }
  }
  char Peek() const { return pos_ < in_.size() ? in_[pos_] : '\0'; }
  bool Consume(char c) {
    if (Peek() != c) return false;
    ++pos_;
    return true;
  }
  bool ConsumeLiteral(std::string_view literal) {
    if (in_.substr(pos_, literal.size()) != literal) return false;
    pos_ += literal.size();
    return true;
  }

  // A JSON string. *out views the input when the string has no escapes,
  // else `storage`.
  absl::Status ReadString(std::string_view* out, std::string* storage) {
    if (!Consume('"')) return Syntax("expected a string");
    const size_t start = pos_;
    while (pos_ < in_.size()) {
      const auto c = static_cast<unsigned char>(in_[pos_]);
      if (c == '"') {
        *out = in_.substr(start, pos_ - start);
        ++pos_;
        return IsValidUtf8(*out) ? absl::OkStatus()
                                 : Syntax("string is not valid UTF-8");
      }
      if (c == '\\') break;
      if (c < 0x20) return Syntax("control character in a string");
      ++pos_;
    }
    storage->assign(in_.substr(start, pos_ - start));
    while (true) {
      if (pos_ >= in_.size()) return Syntax("unterminated string");
      const auto c = static_cast<unsigned char>(in_[pos_++]);
      if (c == '"') break;
      if (c < 0x20) return Syntax("control character in a string");
      if (c != '\\') {
        storage->push_back(static_cast<char>(c));
        continue;
      }
      if (pos_ >= in_.size()) return Syntax("unterminated string");
      const char e = in_[pos_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          storage->push_back(e);
          break;
        case 'b':
          storage->push_back('\b');
          break;
        case 'f':
          storage->push_back('\f');
          break;
        case 'n':
          storage->push_back('\n');
          break;
        case 'r':
          storage->push_back('\r');
          break;
        case 't':
          storage->push_back('\t');
          break;
        case 'u': {
          char32_t cp;
          if (!ReadHex4(&cp)) return Syntax("bad \\u escape");
          if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return Syntax("unpaired surrogate in \\u escape");
          }
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            char32_t low;
            if (!ConsumeLiteral("\\u") || !ReadHex4(&low) || low < 0xDC00 ||
                low > 0xDFFF) {
              return Syntax("unpaired surrogate in \\u escape");
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          AppendUtf8(cp, storage);
          break;
        }
        default:
          return Syntax("bad escape in a string");
      }
    }
    *out = *storage;
    return IsValidUtf8(*out) ? absl::OkStatus()
                             : Syntax("string is not valid UTF-8");
  }

  bool ReadHex4(char32_t* cp) {
    if (in_.size() - pos_ < 4) return false;
    *cp = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = in_[pos_++];
      int digit;
      if (c >= '0' && c <= '9') {
        digit = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        digit = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        digit = c - 'A' + 10;
      } else {
        return false;
      }
      *cp = *cp << 4 | static_cast<char32_t>(digit);
    }
    return true;
  }

  bool IsDigit() const { return Peek() >= '0' && Peek() <= '9'; }

  // A number with JSON's grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
  absl::Status ReadNumber(std::string_view* out) {
    const size_t start = pos_;
    Consume('-');
    if (!Consume('0')) {
      if (!IsDigit()) return Syntax("expected a value");
      while (IsDigit()) ++pos_;
    }
    if (Consume('.')) {
      if (!IsDigit()) return Syntax("expected a digit after '.'");
      while (IsDigit()) ++pos_;
    }
    if (Consume('e') || Consume('E')) {
      if (!Consume('+')) Consume('-');
      if (!IsDigit()) return Syntax("expected a digit in the exponent");
      while (IsDigit()) ++pos_;
    }
    *out = in_.substr(start, pos_ - start);
    return absl::OkStatus();
  }

  // The text of a scalar: a string's contents (*quoted) or a number.
  absl::Status ReadScalar(std::string_view* text, bool* quoted) {
    *quoted = Peek() == '"';
    return *quoted ? ReadString(text, &scratch_) : ReadNumber(text);
  }

  // Calls member(key) for each member of the object at the cursor, with the
  // cursor on the member's value; member must consume the value. `what` names
  // the expected value in the error when there is no object.
  template <typename Member>
  absl::Status ForEachMember(std::string_view what, Member member) {
    if (!Consume('{')) return BadValue(in_.substr(pos_, 1), what);
    SkipSpace();
    if (Consume('}')) return absl::OkStatus();
    std::string key_storage;
    while (true) {
      SkipSpace();
      std::string_view key;
      if (absl::Status s = ReadString(&key, &key_storage); !s.ok()) return s;
      SkipSpace();
      if (!Consume(':')) return Syntax("expected ':'");
      SkipSpace();
      if (absl::Status s = member(key); !s.ok()) return s;
      SkipSpace();
      if (Consume(',')) continue;
      if (Consume('}')) return absl::OkStatus();
      return Syntax("expected ',' or '}'");
    }
  }

  // Calls element(index) for each element of the array at the cursor.
  template <typename Element>
  absl::Status ForEachElement(Element element) {
    if (!Consume('[')) return BadValue(in_.substr(pos_, 1), "an array");
    SkipSpace();
    if (Consume(']')) return absl::OkStatus();
    for (int i = 0;; ++i) {
      SkipSpace();
      if (absl::Status s = element(i); !s.ok()) return s;
      SkipSpace();
      if (Consume(',')) continue;
      if (Consume(']')) return absl::OkStatus();
      return Syntax("expected ',' or ']'");
    }
  }

  absl::Status SkipValue(int depth) {
    if (depth > kMaxDepth) return Syntax("nested deeper than 64 levels");
    std::string_view ignored;
    switch (Peek()) {
      case '{':
        return ForEachMember("an object", [&](std::string_view) {
          return SkipValue(depth + 1);
        });
      case '[':
        return ForEachElement([&](int) { return SkipValue(depth + 1); });
      case '"':
        return ReadString(&ignored, &scratch_);
      case 't':
        return ConsumeLiteral("true") ? absl::OkStatus()
                                      : Syntax("expected a value");
      case 'f':
        return ConsumeLiteral("false") ? absl::OkStatus()
                                       : Syntax("expected a value");
      case 'n':
        return ConsumeLiteral("null") ? absl::OkStatus()
                                      : Syntax("expected a value");
      default:
        return ReadNumber(&ignored);
    }
  }

  // -- Values into fields --------------------------------------------------

  absl::Status ReadObject(Message& message, int depth) {
    if (depth > kMaxDepth) return Syntax("nested deeper than 64 levels");
    const Descriptor& descriptor = *message.GetDescriptor();
    return ForEachMember("an object", [&](std::string_view key) {
      const FieldDescriptor* field = FindField(descriptor, key);
      if (field == nullptr) return SkipValue(depth + 1);
      const size_t mark = path_.size();
      if (mark > 0) path_.push_back('.');
      path_.append(field->json_name());
      absl::Status s = ReadField(message, *field, depth + 1);
      if (s.ok()) path_.resize(mark);
      return s;
    });
  }

  absl::Status ReadField(Message& message, const FieldDescriptor& field,
                         int depth) {
    if (ConsumeLiteral("null")) return absl::OkStatus();
    if (field.is_map()) return ReadMap(message, field, depth);
    if (!field.is_repeated()) return ReadValue(message, field, depth);
    const size_t mark = path_.size();
    return ForEachElement([&](int i) {
      absl::StrAppend(&path_, "[", i, "]");
      absl::Status s = ReadValue(message, field, depth);
      if (s.ok()) path_.resize(mark);
      return s;
    });
  }

  absl::Status ReadMap(Message& message, const FieldDescriptor& field,
                       int depth) {
    const FieldDescriptor& key_field = *field.message_type()->map_key();
    const FieldDescriptor& value_field = *field.message_type()->map_value();
    const Reflection& reflection = *message.GetReflection();
    const size_t mark = path_.size();
    return ForEachMember("an object", [&](std::string_view key) {
      absl::StrAppend(&path_, ".", ToAbsl(key));
      Message& entry = *reflection.AddMessage(&message, &field);
      absl::Status s = SetFromText(entry, key_field, key, true);
      if (s.ok()) s = ReadValue(entry, value_field, depth);
      if (s.ok()) path_.resize(mark);
      return s;
    });
  }

  // One value of `field` (a singular field, or one element of a repeated).
  absl::Status ReadValue(Message& message, const FieldDescriptor& field,
                         int depth) {
    const Reflection& reflection = *message.GetReflection();
    if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      Message& sub = field.is_repeated()
                         ? *reflection.AddMessage(&message, &field)
                         : *reflection.MutableMessage(&message, &field);
      const std::string& type = field.message_type()->full_name();
      if (type == "google.protobuf.Timestamp") return ReadTimestamp(sub);
      if (absl::StartsWith(type, "google.protobuf.")) {
        return absl::UnimplementedError(absl::StrCat(
            ToAbsl(Path()), ": JSON for ", type, " is not supported"));
      }
      return ReadObject(sub, depth);
    }
    if (field.cpp_type() == FieldDescriptor::CPPTYPE_BOOL) {
      bool value;
      if (ConsumeLiteral("true")) {
        value = true;
      } else if (ConsumeLiteral("false")) {
        value = false;
      } else {
        return BadValue(in_.substr(pos_, 8), "true or false");
      }
      if (field.is_repeated()) {
        reflection.AddBool(&message, &field, value);
      } else {
        reflection.SetBool(&message, &field, value);
      }
      return absl::OkStatus();
    }
    if (field.cpp_type() == FieldDescriptor::CPPTYPE_STRING && Peek() != '"') {
      return BadValue(in_.substr(pos_, 8), "a string");
    }
    std::string_view text;
    bool quoted;
    if (absl::Status s = ReadScalar(&text, &quoted); !s.ok()) return s;
    return SetFromText(message, field, text, quoted);
  }

  // Sets (or adds) a scalar field from the text of a JSON number or string.
  absl::Status SetFromText(Message& message, const FieldDescriptor& field,
                           std::string_view text, bool quoted) {
    const Reflection& r = *message.GetReflection();
    const bool add = field.is_repeated();
    switch (field.cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32: {
        int32_t v;
        if (!ParseInteger(text, &v)) return BadValue(text, "an int32");
        add ? r.AddInt32(&message, &field, v) : r.SetInt32(&message, &field, v);
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_INT64: {
        int64_t v;
        if (!ParseInteger(text, &v)) return BadValue(text, "an int64");
        add ? r.AddInt64(&message, &field, v) : r.SetInt64(&message, &field, v);
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_UINT32: {
        uint32_t v;
        if (!ParseInteger(text, &v)) return BadValue(text, "a uint32");
        add ? r.AddUInt32(&message, &field, v)
            : r.SetUInt32(&message, &field, v);
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_UINT64: {
        uint64_t v;
        if (!ParseInteger(text, &v)) return BadValue(text, "a uint64");
        add ? r.AddUInt64(&message, &field, v)
            : r.SetUInt64(&message, &field, v);
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_DOUBLE:
      case FieldDescriptor::CPPTYPE_FLOAT: {
        double v;
        if (!ParseDouble(text, quoted, &v)) return BadValue(text, "a number");
        if (field.cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE) {
          add ? r.AddDouble(&message, &field, v)
              : r.SetDouble(&message, &field, v);
          return absl::OkStatus();
        }
        if (std::isfinite(v) &&
            std::abs(v) > std::numeric_limits<float>::max()) {
          return BadValue(text, "a number in float range");
        }
        const auto f = static_cast<float>(v);
        add ? r.AddFloat(&message, &field, f) : r.SetFloat(&message, &field, f);
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_STRING:
        if (field.type() == FieldDescriptor::TYPE_BYTES) {
          return absl::UnimplementedError(absl::StrCat(
              ToAbsl(Path()), ": JSON for bytes is not supported"));
        }
        if (add) {
          r.AddString(&message, &field, std::string(text));
        } else {
          r.SetString(&message, &field, std::string(text));
        }
        return absl::OkStatus();
      case FieldDescriptor::CPPTYPE_BOOL:  // A map key.
        if (text != "true" && text != "false") {
          return BadValue(text, "true or false");
        }
        r.SetBool(&message, &field, text == "true");
        return absl::OkStatus();
      case FieldDescriptor::CPPTYPE_ENUM: {
        int number;
        if (quoted) {
          const auto* value =
              field.enum_type()->FindValueByName(std::string(text));
          if (value == nullptr) {
            // As JsonStringToMessage with ignore_unknown_fields: skipped. A
            // repeated field gets nothing; a singular one stays as it was.
            return absl::OkStatus();
          }
          number = value->number();
        } else if (!ParseInteger(text, &number)) {
          return BadValue(text, "an enum name or number");
        }
        add ? r.AddEnumValue(&message, &field, number)
            : r.SetEnumValue(&message, &field, number);
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_MESSAGE:
        break;
    }
    return BadValue(text, "a scalar");
  }

  static bool ParseDouble(std::string_view text, bool quoted, double* out) {
    if (quoted) {
      if (text == "NaN") {
        *out = std::numeric_limits<double>::quiet_NaN();
        return true;
      }
      if (text == "Infinity" || text == "-Infinity") {
        *out = text[0] == '-' ? -std::numeric_limits<double>::infinity()
                              : std::numeric_limits<double>::infinity();
        return true;
      }
    }
    // SimpleAtod also takes "inf" and "nan": only finite values from here.
    return absl::SimpleAtod(ToAbsl(text), out) && std::isfinite(*out);
  }

  // RFC 3339 ("2025-11-29T03:00:00.5Z", "...+01:00") into seconds and nanos.
  absl::Status ReadTimestamp(Message& timestamp) {
    if (Peek() != '"') return BadValue(in_.substr(pos_, 8), "an RFC 3339 time");
    std::string_view text;
    if (absl::Status s = ReadString(&text, &scratch_); !s.ok()) return s;
    absl::Time time;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, std::string(text), &time,
                         &error)) {
      return BadValue(absl::StrCat("\"", ToAbsl(text), "\""),
                      "an RFC 3339 time such as 2025-11-29T03:00:00Z");
    }
    const int64_t seconds = absl::ToUnixSeconds(time);
    if (seconds < kMinTimestampSeconds || seconds > kMaxTimestampSeconds) {
      return BadValue(absl::StrCat("\"", ToAbsl(text), "\""),
                      "a time between years 1 and 9999");
    }
    const Descriptor& d = *timestamp.GetDescriptor();
    const Reflection& r = *timestamp.GetReflection();
    r.SetInt64(&timestamp, d.FindFieldByNumber(1), seconds);
    r.SetInt32(&timestamp, d.FindFieldByNumber(2),
               static_cast<int32_t>(absl::ToInt64Nanoseconds(
                   time - absl::FromUnixSeconds(seconds))));
    return absl::OkStatus();
  }

  std::string_view in_;
  size_t pos_ = 0;
  std::string path_;
  std::string scratch_;
};

}  // namespace

absl::Status ParseJsonMessage(std::string_view json, Message& message) {
  message.Clear();
  JsonReader reader(json);
  return reader.ReadRoot(message);
}

}  // namespace trainyard

// Copyright 2026 Trainyard authors.
#include "common/strings/csv.h"

namespace trainyard {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// [+-]? digits [. digits] ([eE] [+-]? digits)?, with at least one digit
// before the exponent; nothing else.
bool IsPlainNumber(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t digits = 0;
  while (i < s.size() && IsDigit(s[i])) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && IsDigit(s[i])) ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t exponent = 0;
    while (i < s.size() && IsDigit(s[i])) ++i, ++exponent;
    if (exponent == 0) return false;
  }
  return i == s.size();
}

}  // namespace

bool CsvNeedsNeutralizing(std::string_view field) {
  if (field.empty()) return false;
  switch (field.front()) {
    case '=':
    case '@':
    case '\t':
    case '\r':
      return true;
    case '+':
    case '-':
      return !IsPlainNumber(field);
    default:
      return false;
  }
}

void AppendCsvField(std::string_view field, std::string* out) {
  const bool neutralize = CsvNeedsNeutralizing(field);
  const bool quote = field.find_first_of(",\"\r\n") != std::string_view::npos;
  if (quote) out->push_back('"');
  if (neutralize) out->push_back('\'');
  if (!quote) {
    out->append(field);
    return;
  }
  for (char c : field) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

void AppendCsvRow(std::initializer_list<std::string_view> fields,
                  std::string* out) {
  bool first = true;
  for (std::string_view field : fields) {
    if (!first) out->push_back(',');
    first = false;
    AppendCsvField(field, out);
  }
  out->append("\r\n");
}

}  // namespace trainyard

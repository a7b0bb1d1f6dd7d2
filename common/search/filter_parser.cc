// Copyright 2026 Trainyard authors.
#include "common/search/filter_parser.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status/errors.h"
#include "common/status/reasons.h"
#include "common/status/status_macros.h"
#include "common/strings/absl_view.h"

namespace trainyard {
namespace {

enum class TokenKind {
  kEnd,
  kWord,    // identifier or bare value; AND / OR are words too
  kString,  // "quoted"
  kOp,
  kOpen,
  kClose,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;  // word, unescaped string, or operator text
  FilterOp op = FilterOp::kEq;
  size_t position = 0;
};

bool IsWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-' || c == '+';
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string Describe(const Token& token) {
  switch (token.kind) {
    case TokenKind::kEnd:
      return "end of filter";
    case TokenKind::kString:
      return absl::StrCat("string \"", token.text, "\"");
    default:
      return absl::StrCat("\"", token.text, "\"");
  }
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  absl::StatusOr<ParsedFilter> Parse() {
    ParsedFilter result;
    RETURN_IF_ERROR(Advance());
    if (current_.kind == TokenKind::kEnd) return result;
    size_t restrictions = 0;
    while (true) {
      FilterTerm term;
      if (current_.kind == TokenKind::kOpen) {
        RETURN_IF_ERROR(Advance());
        while (true) {
          absl::StatusOr<FilterRestriction> r = ParseRestriction();
          if (!r.ok()) return r.status();
          if (!term.any_of.empty() && r->field != term.any_of[0].field) {
            return InvalidFilterError(absl::StrCat(
                "OR joins restrictions on different fields (\"",
                term.any_of[0].field, "\" and \"", r->field, "\") at position ",
                r->position, "; OR is allowed only on the same field"));
          }
          term.any_of.push_back(*std::move(r));
          if (current_.kind == TokenKind::kWord && current_.text == "OR") {
            RETURN_IF_ERROR(Advance());
            continue;
          }
          if (current_.kind == TokenKind::kClose) {
            RETURN_IF_ERROR(Advance());
            break;
          }
          return Unexpected("\"OR\" or \")\"");
        }
      } else {
        absl::StatusOr<FilterRestriction> r = ParseRestriction();
        if (!r.ok()) return r.status();
        term.any_of.push_back(*std::move(r));
      }
      restrictions += term.any_of.size();
      if (restrictions > kMaxFilterRestrictions) {
        return InvalidFilterError(absl::StrCat(
            "more than ", kMaxFilterRestrictions, " restrictions"));
      }
      result.all_of.push_back(std::move(term));
      if (current_.kind == TokenKind::kEnd) return result;
      if (current_.kind == TokenKind::kWord && current_.text == "AND") {
        RETURN_IF_ERROR(Advance());
        continue;
      }
      if (current_.kind == TokenKind::kWord && current_.text == "OR") {
        return InvalidFilterError(absl::StrCat(
            "OR at position ", current_.position,
            " must be inside parentheses, between restrictions on the same "
            "field"));
      }
      return Unexpected("\"AND\" or the end of the filter");
    }
  }

 private:
  absl::StatusOr<FilterRestriction> ParseRestriction() {
    FilterRestriction r;
    r.position = current_.position;
    if (current_.kind == TokenKind::kWord &&
        (current_.text == "NOT" || current_.text.starts_with("-"))) {
      return InvalidFilterError(
          absl::StrCat("negation (", Describe(current_), ") at position ",
                       current_.position, " is not supported; use !="));
    }
    if (current_.kind != TokenKind::kWord || current_.text == "AND" ||
        current_.text == "OR" || !IsFieldName(current_.text)) {
      return Unexpected("a field name");
    }
    r.field = current_.text;
    RETURN_IF_ERROR(Advance());
    if (current_.kind == TokenKind::kOpen) {
      return InvalidFilterError(absl::StrCat("function call \"", r.field,
                                             "(...)\" at position ", r.position,
                                             " is not supported"));
    }
    if (current_.kind != TokenKind::kOp) {
      return Unexpected(absl::StrCat("an operator after \"", r.field, "\""));
    }
    r.op = current_.op;
    RETURN_IF_ERROR(Advance());
    if (current_.kind == TokenKind::kString) {
      r.value.quoted = true;
    } else if (current_.kind != TokenKind::kWord || current_.text == "AND" ||
               current_.text == "OR") {
      return Unexpected(absl::StrCat("a value after \"", r.field, " ",
                                     ToAbsl(FilterOpText(r.op)), "\""));
    }
    r.value.text = std::move(current_.text);
    RETURN_IF_ERROR(Advance());
    return r;
  }

  static bool IsFieldName(std::string_view word) {
    if (word.empty()) return false;
    const char c = word[0];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')) {
      return false;
    }
    for (char ch : word) {
      if (ch == '-' || ch == '+') return false;
    }
    return true;
  }

  absl::Status Unexpected(std::string_view expected) const {
    return InvalidFilterError(
        absl::StrCat("expected ", ToAbsl(expected), " at position ",
                     current_.position, ", found ", Describe(current_),
                     current_.kind == TokenKind::kWord &&
                             (current_.text == "and" || current_.text == "or")
                         ? " (AND and OR must be upper case)"
                         : ""));
  }

  // Reads the next token into current_.
  absl::Status Advance() {
    while (pos_ < text_.size() && IsSpace(text_[pos_])) ++pos_;
    current_ = Token();
    current_.position = pos_;
    if (pos_ >= text_.size()) return absl::OkStatus();
    const char c = text_[pos_];
    if (c == '(') {
      current_.kind = TokenKind::kOpen;
      current_.text = "(";
      ++pos_;
      return absl::OkStatus();
    }
    if (c == ')') {
      current_.kind = TokenKind::kClose;
      current_.text = ")";
      ++pos_;
      return absl::OkStatus();
    }
    if (c == '"') {
      current_.kind = TokenKind::kString;
      ++pos_;
      while (true) {
        if (pos_ >= text_.size()) {
          return InvalidFilterError(absl::StrCat(
              "unterminated string starting at position ", current_.position));
        }
        const char s = text_[pos_++];
        if (s == '"') break;
        if (s == '\\') {
          if (pos_ >= text_.size() ||
              (text_[pos_] != '"' && text_[pos_] != '\\')) {
            return InvalidFilterError(
                absl::StrCat("invalid escape in string at position ", pos_ - 1,
                             " (only \\\" and \\\\ are allowed)"));
          }
          current_.text.push_back(text_[pos_++]);
          continue;
        }
        current_.text.push_back(s);
      }
      return absl::OkStatus();
    }
    static constexpr std::pair<std::string_view, FilterOp> kOps[] = {
        {"!=", FilterOp::kNe}, {"<=", FilterOp::kLe}, {">=", FilterOp::kGe},
        {"=", FilterOp::kEq},  {"<", FilterOp::kLt},  {">", FilterOp::kGt},
        {":", FilterOp::kHas}};
    for (const auto& [op_text, op] : kOps) {
      if (text_.substr(pos_).starts_with(op_text)) {
        current_.kind = TokenKind::kOp;
        current_.text = std::string(op_text);
        current_.op = op;
        pos_ += op_text.size();
        return absl::OkStatus();
      }
    }
    if (IsWordChar(c)) {
      current_.kind = TokenKind::kWord;
      while (pos_ < text_.size() && IsWordChar(text_[pos_])) {
        current_.text.push_back(text_[pos_++]);
      }
      return absl::OkStatus();
    }
    return InvalidFilterError(absl::StrCat("unexpected character '",
                                           absl::string_view(&c, 1),
                                           "' at position ", pos_));
  }

  std::string_view text_;
  size_t pos_ = 0;
  Token current_;
};

}  // namespace

std::string_view FilterOpText(FilterOp op) {
  switch (op) {
    case FilterOp::kEq:
      return "=";
    case FilterOp::kNe:
      return "!=";
    case FilterOp::kLt:
      return "<";
    case FilterOp::kLe:
      return "<=";
    case FilterOp::kGt:
      return ">";
    case FilterOp::kGe:
      return ">=";
    case FilterOp::kHas:
      return ":";
  }
  return "?";
}

absl::Status InvalidFilterError(std::string_view description) {
  return WithReason(InvalidFieldError("filter", description),
                    reasons::kInvalidFilter);
}

absl::StatusOr<ParsedFilter> ParseFilter(std::string_view filter) {
  if (filter.size() > kMaxFilterLength) {
    return InvalidFilterError(
        absl::StrCat("longer than ", kMaxFilterLength, " characters"));
  }
  return Parser(filter).Parse();
}

}  // namespace trainyard

// Copyright 2026 Trainyard authors.
#include "services/cost/grpc/filter_parser.h"

#include <cctype>

#include "absl/strings/str_cat.h"
#include "common/status/errors.h"

namespace trainyard::cost {
namespace {

struct Token {
  enum Kind { kWord, kString, kOp, kOpen, kClose } kind;
  std::string text;
};

absl::StatusOr<std::vector<Token>> Tokenize(std::string_view field,
                                            std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '(' || c == ')') {
      out.push_back({c == '(' ? Token::kOpen : Token::kClose, ""});
      ++i;
    } else if (c == '"') {
      std::string text;
      ++i;
      while (i < s.size() && s[i] != '"') {
        if (s[i] == '\\' && i + 1 < s.size()) ++i;
        text += s[i++];
      }
      if (i >= s.size()) {
        return InvalidFieldError(field, "unterminated quoted string");
      }
      ++i;
      out.push_back({Token::kString, std::move(text)});
    } else if (c == '=' || c == '!' || c == '<' || c == '>') {
      std::string op(1, c);
      if (i + 1 < s.size() && s[i + 1] == '=') op += '=';
      if (op == "!") return InvalidFieldError(field, "'!' must be '!='");
      i += op.size();
      out.push_back({Token::kOp, std::move(op)});
    } else {
      size_t j = i;
      while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j])) &&
             s[j] != '(' && s[j] != ')' && s[j] != '=' && s[j] != '!' &&
             s[j] != '<' && s[j] != '>' && s[j] != '"') {
        ++j;
      }
      out.push_back({Token::kWord, std::string(s.substr(i, j - i))});
      i = j;
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<std::vector<RawComparison>>> ParseFilter(
    std::string_view field, std::string_view text) {
  absl::StatusOr<std::vector<Token>> tokens = Tokenize(field, text);
  if (!tokens.ok()) return tokens.status();
  std::vector<std::vector<RawComparison>> clauses;
  size_t i = 0;
  const std::vector<Token>& t = *tokens;
  auto error = [&](std::string_view why) {
    return InvalidFieldError(
        field, absl::StrCat(std::string(why), " (at token ", i + 1, ")"));
  };
  while (i < t.size()) {
    const bool paren = t[i].kind == Token::kOpen;
    if (paren) ++i;
    std::vector<RawComparison> clause;
    while (true) {
      if (i + 3 > t.size() || t[i].kind != Token::kWord ||
          t[i + 1].kind != Token::kOp ||
          (t[i + 2].kind != Token::kWord && t[i + 2].kind != Token::kString)) {
        return error("expected `field op value`");
      }
      clause.push_back({t[i].text, t[i + 1].text, t[i + 2].text});
      i += 3;
      if (i < t.size() && t[i].kind == Token::kWord && t[i].text == "OR") {
        ++i;
        continue;
      }
      break;
    }
    if (paren) {
      if (i >= t.size() || t[i].kind != Token::kClose) {
        return error("expected ')'");
      }
      ++i;
    }
    clauses.push_back(std::move(clause));
    if (i == t.size()) break;
    if (t[i].kind != Token::kWord || t[i].text != "AND") {
      return error("expected AND or OR");
    }
    ++i;
    if (i == t.size()) return error("nothing after AND");
  }
  return clauses;
}

}  // namespace trainyard::cost

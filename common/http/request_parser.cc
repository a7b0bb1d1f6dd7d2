// Copyright 2026 The Trainyard Authors.

#include "common/http/request_parser.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace trainyard::http {
namespace {

constexpr std::string_view kCrlf = "\r\n";
// A chunk-size line (size and extensions) longer than this is refused.
constexpr size_t kMaxChunkLine = 1024;

// Local helpers on std::string_view (Debian's Abseil has its own
// string_view type).
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

char Lower(char c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(),
                    [](char x, char y) { return Lower(x) == Lower(y); });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

std::vector<std::string_view> Split(std::string_view s, std::string_view sep) {
  std::vector<std::string_view> parts;
  for (;;) {
    const size_t at = s.find(sep);
    parts.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return parts;
    s.remove_prefix(at + sep.size());
  }
}

bool IsTokenChar(char c) {
  return IsDigit(c) || (Lower(c) >= 'a' && Lower(c) <= 'z') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsTokenChar);
}

bool HasToken(std::string_view list, std::string_view token) {
  for (std::string_view item : Split(list, ",")) {
    if (EqualsIgnoreCase(Trim(item), token)) {
      return true;
    }
  }
  return false;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void ParseQuery(std::string_view query, HttpParams* out, bool* ok) {
  for (std::string_view pair : Split(query, "&")) {
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    std::string name;
    std::string value;
    if (!PercentDecode(pair.substr(0, eq), true, &name) ||
        (eq != std::string_view::npos &&
         !PercentDecode(pair.substr(eq + 1), true, &value))) {
      *ok = false;
      return;
    }
    out->emplace_back(std::move(name), std::move(value));
  }
}

}  // namespace

bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = HexValue(in[i + 1]);
      const int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

RequestParser::Phase RequestParser::phase() const {
  switch (state_) {
    case State::kHead:
      return head_.empty() ? Phase::kIdle : Phase::kHeader;
    case State::kDone:
    case State::kFailed:
      return Phase::kIdle;
    default:
      return Phase::kBody;
  }
}

bool RequestParser::TakeExpectContinue() {
  return std::exchange(expect_continue_, false);
}

RequestParser::Result RequestParser::Fail(int status,
                                          std::string_view message) {
  state_ = State::kFailed;
  error_status_ = status;
  error_message_ = std::string(message);
  return Result::kError;
}

RequestParser::Result RequestParser::Feed(std::string_view input,
                                          size_t* used) {
  *used = 0;
  if (state_ == State::kFailed) return Result::kError;
  if (state_ == State::kDone) return Result::kComplete;
  if (state_ == State::kHead) {
    const Result result = FeedHead(input, used);
    if (result != Result::kNeedMore || state_ == State::kHead) return result;
  }
  size_t body_used = 0;
  const Result result = FeedBody(input.substr(*used), &body_used);
  *used += body_used;
  return result;
}

RequestParser::Result RequestParser::FeedHead(std::string_view input,
                                              size_t* used) {
  // One empty line before the request line is ignored (RFC 9112 2.2).
  if (head_.empty() && input.starts_with(kCrlf)) {
    input.remove_prefix(2);
    *used += 2;
  }
  const size_t room = limits_.max_header_bytes - head_.size();
  const size_t old_size = head_.size();
  head_.append(input.substr(0, room + 1));
  const size_t from = head_scanned_ >= 3 ? head_scanned_ - 3 : 0;
  const size_t end = head_.find("\r\n\r\n", from);
  if (end == std::string::npos || end + 4 > limits_.max_header_bytes) {
    if (head_.size() > limits_.max_header_bytes || (end != std::string::npos)) {
      return Fail(431, "request header fields too large");
    }
    head_scanned_ = head_.size();
    *used += head_.size() - old_size;
    return Result::kNeedMore;
  }
  *used += end + 4 - old_size;
  head_.resize(end + 4);
  return ParseHead();
}

RequestParser::Result RequestParser::ParseHead() {
  std::string_view head(head_);
  head.remove_suffix(2);  // The empty line's CRLF.
  std::vector<std::string_view> lines = Split(head, kCrlf);
  lines.pop_back();  // Empty: the head ends in CRLF.
  if (lines.size() - 1 > limits_.max_header_fields) {
    return Fail(431, "request header fields too large");
  }
  for (std::string_view line : lines) {
    if (line.find_first_of("\r\n") != std::string_view::npos) {
      return Fail(400, "bad request");
    }
  }
  // Request line.
  std::vector<std::string_view> parts = Split(lines[0], " ");
  if (parts.size() != 3 || !IsToken(parts[0]) || parts[1].empty() ||
      parts[1][0] != '/' || !parts[2].starts_with("HTTP/1.") ||
      parts[2].size() != 8 || (parts[2][7] != '0' && parts[2][7] != '1')) {
    return Fail(400, "bad request");
  }
  const bool http10 = parts[2][7] == '0';
  parsed_.method_name = std::string(parts[0]);
  parsed_.head = parts[0] == "HEAD";
  const std::string_view target = parts[1];
  const size_t question = target.find('?');
  bool ok =
      PercentDecode(target.substr(0, question), false, &parsed_.request.path);
  if (ok && question != std::string_view::npos) {
    ParseQuery(target.substr(question + 1), &parsed_.request.query_params, &ok);
  }
  if (!ok) return Fail(400, "bad request");

  // Header fields.
  bool has_length = false;
  uint64_t length = 0;
  bool chunked = false;
  bool has_transfer_encoding = false;
  bool connection_close = http10;
  HttpHeaders& headers = parsed_.request.headers;
  headers.reserve(lines.size() - 1);
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || !IsToken(line.substr(0, colon))) {
      return Fail(400, "bad request");  // Includes obsolete line folding.
    }
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = Trim(line.substr(colon + 1));
    if (EqualsIgnoreCase(name, "Content-Length")) {
      for (std::string_view item : Split(value, ",")) {
        item = Trim(item);
        if (item.empty() || item.size() > 18 ||
            !std::all_of(item.begin(), item.end(), IsDigit)) {
          return Fail(400, "bad request");
        }
        const uint64_t n = std::stoull(std::string(item));
        if (has_length && n != length) {
          return Fail(400, "conflicting Content-Length");
        }
        has_length = true;
        length = n;
      }
    } else if (EqualsIgnoreCase(name, "Transfer-Encoding")) {
      if (http10 || has_transfer_encoding ||
          !EqualsIgnoreCase(value, "chunked")) {
        return Fail(EqualsIgnoreCase(value, "chunked") ? 400 : 501,
                    "unsupported transfer encoding");
      }
      has_transfer_encoding = true;
      chunked = true;
    } else if (EqualsIgnoreCase(name, "Connection")) {
      if (HasToken(value, "close")) connection_close = true;
      if (http10 && HasToken(value, "keep-alive")) connection_close = false;
    } else if (EqualsIgnoreCase(name, "Expect")) {
      expect_continue_ = EqualsIgnoreCase(value, "100-continue");
    }
    headers.emplace_back(std::string(name), std::string(value));
  }
  if (has_length && has_transfer_encoding) {
    return Fail(400, "both Content-Length and Transfer-Encoding");
  }
  parsed_.keep_alive = !connection_close;
  if (chunked) {
    state_ = State::kChunkSize;
  } else if (has_length && length > 0) {
    if (length > limits_.max_body_bytes) {
      return Fail(413, "request body too large");
    }
    remaining_ = length;
    state_ = State::kLengthBody;
  } else {
    expect_continue_ = false;
    state_ = State::kDone;
    return Result::kComplete;
  }
  return Result::kNeedMore;
}

bool RequestParser::TakeLine(std::string_view input, size_t* at) {
  const size_t start = *at;
  const size_t lf = input.find('\n', start);
  const size_t end = lf == std::string_view::npos ? input.size() : lf + 1;
  line_.append(input.substr(start, end - start));
  *at = end;
  return lf != std::string_view::npos;
}

RequestParser::Result RequestParser::FeedBody(std::string_view input,
                                              size_t* used) {
  size_t at = 0;
  Result result = Result::kNeedMore;
  while (result == Result::kNeedMore && at < input.size()) {
    switch (state_) {
      case State::kLengthBody:
      case State::kChunkData: {
        const size_t n = static_cast<size_t>(
            std::min<uint64_t>(remaining_, input.size() - at));
        body_.append(input.substr(at, n));
        at += n;
        remaining_ -= n;
        if (remaining_ == 0) {
          if (state_ == State::kLengthBody) {
            state_ = State::kDone;
            result = Result::kComplete;
          } else {
            state_ = State::kChunkDataEnd;
          }
        }
        break;
      }
      case State::kChunkDataEnd:
        if (!TakeLine(input, &at)) {
          if (line_.size() > 2) result = Fail(400, "malformed chunk");
          break;
        }
        if (line_ != kCrlf) {
          result = Fail(400, "malformed chunk");
          break;
        }
        line_.clear();
        state_ = State::kChunkSize;
        break;
      case State::kChunkSize: {
        const bool complete = TakeLine(input, &at);
        if (line_.size() > kMaxChunkLine) {
          result = Fail(400, "malformed chunk size");
          break;
        }
        if (!complete) break;
        std::string_view line(line_);
        if (!line.ends_with(kCrlf)) {
          result = Fail(400, "malformed chunk size");
          break;
        }
        line.remove_suffix(2);
        const size_t digits = std::min(line.find_first_of(" \t;"), line.size());
        uint64_t size = 0;
        bool valid = digits > 0 && digits <= 15;
        for (size_t i = 0; valid && i < digits; ++i) {
          const int v = HexValue(line[i]);
          valid = v >= 0;
          size = size * 16 + static_cast<uint64_t>(std::max(v, 0));
        }
        if (valid && digits < line.size()) {
          // Only whitespace then ";extensions" may follow the size.
          const std::string_view rest = Trim(line.substr(digits));
          valid = rest.starts_with(";");
        }
        if (!valid) {
          result = Fail(400, "malformed chunk size");
          break;
        }
        line_.clear();
        if (size > limits_.max_body_bytes - body_.size()) {
          result = Fail(413, "request body too large");
          break;
        }
        if (size == 0) {
          state_ = State::kTrailers;
        } else {
          remaining_ = size;
          state_ = State::kChunkData;
        }
        break;
      }
      case State::kTrailers: {
        const bool complete = TakeLine(input, &at);
        if (trailer_bytes_ + line_.size() > limits_.max_header_bytes) {
          result = Fail(431, "request header fields too large");
          break;
        }
        if (!complete) break;
        if (!std::string_view(line_).ends_with(kCrlf)) {
          result = Fail(400, "malformed trailer");
          break;
        }
        trailer_bytes_ += line_.size();
        const bool last = line_ == kCrlf;
        line_.clear();
        if (last) {
          state_ = State::kDone;
          result = Result::kComplete;
        }
        break;
      }
      default:
        result = Fail(400, "bad request");
        break;
    }
  }
  *used = at;
  return result;
}

RequestParser::Parsed RequestParser::TakeRequest() {
  Parsed parsed = std::move(parsed_);
  parsed.request.body = std::move(body_);
  parsed_ = Parsed();
  body_ = std::string();
  head_.clear();
  head_scanned_ = 0;
  line_.clear();
  trailer_bytes_ = 0;
  remaining_ = 0;
  expect_continue_ = false;
  state_ = State::kHead;
  return parsed;
}

}  // namespace trainyard::http

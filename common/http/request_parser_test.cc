// Copyright 2026 The Trainyard Authors.

#include "common/http/request_parser.h"

#include <string>

#include "gtest/gtest.h"

namespace trainyard::http {
namespace {

RequestLimits SmallLimits() {
  return RequestLimits{
      .max_header_bytes = 256, .max_header_fields = 8, .max_body_bytes = 16};
}

// Feeds `input` one byte at a time (the worst split) and returns the result
// after the last byte, or the first non-kNeedMore result.
RequestParser::Result FeedBytewise(RequestParser& parser,
                                   std::string_view input) {
  for (size_t i = 0; i < input.size(); ++i) {
    size_t used = 0;
    const RequestParser::Result result = parser.Feed(input.substr(i, 1), &used);
    if (result != RequestParser::Result::kNeedMore) return result;
    EXPECT_EQ(used, 1u);
  }
  return RequestParser::Result::kNeedMore;
}

TEST(RequestParser, ChunkedBodySplitAnywhere) {
  RequestParser parser(SmallLimits());
  ASSERT_EQ(FeedBytewise(parser,
                         "POST /a%20b?x=1+2&y HTTP/1.1\r\nHost: h\r\n"
                         "Transfer-Encoding: chunked\r\n\r\n"
                         "3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nT: v\r\n\r\n"),
            RequestParser::Result::kComplete);
  RequestParser::Parsed parsed = parser.TakeRequest();
  EXPECT_EQ(parsed.method_name, "POST");
  EXPECT_EQ(parsed.request.path, "/a b");
  ASSERT_EQ(parsed.request.query_params.size(), 2u);
  EXPECT_EQ(parsed.request.query_params[0].second, "1 2");
  EXPECT_EQ(parsed.request.body, "abcde");
  EXPECT_TRUE(parsed.keep_alive);
}

TEST(RequestParser, StopsAtTheEndOfTheRequest) {
  RequestParser parser(SmallLimits());
  const std::string two =
      "POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nhiGET / HTTP/1.1\r\n\r\n";
  size_t used = 0;
  ASSERT_EQ(parser.Feed(two, &used), RequestParser::Result::kComplete);
  EXPECT_EQ(two.substr(used), "GET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(parser.TakeRequest().request.body, "hi");
}

struct Refusal {
  const char* input;
  int status;
};

class RequestParserRefuses : public testing::TestWithParam<Refusal> {};

TEST_P(RequestParserRefuses, WithStatus) {
  RequestParser parser(SmallLimits());
  size_t used = 0;
  ASSERT_EQ(parser.Feed(GetParam().input, &used), RequestParser::Result::kError)
      << GetParam().input;
  EXPECT_EQ(parser.error_status(), GetParam().status) << GetParam().input;
}

INSTANTIATE_TEST_SUITE_P(
    Framing, RequestParserRefuses,
    testing::Values(
        // RFC 9112 6.3: different lengths, as fields or as a list.
        Refusal{"POST / HTTP/1.1\r\nContent-Length: 1\r\n"
                "Content-Length: 2\r\n\r\nab",
                400},
        Refusal{"POST / HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\nab", 400},
        Refusal{"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
        Refusal{"POST / HTTP/1.1\r\nContent-Length: 1\r\n"
                "Transfer-Encoding: chunked\r\n\r\n",
                400},
        Refusal{"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
        // Malformed chunk sizes and chunk ends.
        Refusal{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                400},
        Refusal{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                "-1\r\n",
                400},
        Refusal{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                "2\r\nabX\r\n",
                400},
        Refusal{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                "ffffffffffffffffff\r\n",
                400},
        // Limits: a declared length at once, a chunked body when it passes.
        Refusal{"POST / HTTP/1.1\r\nContent-Length: 17\r\n\r\n", 413},
        Refusal{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                "8\r\n12345678\r\n9\r\n",
                413},
        Refusal{"GET / HTTP/1.1\r\nX: "
                "0123456789012345678901234567890123456789012345678901234567890"
                "1234567890123456789012345678901234567890123456789012345678901"
                "2345678901234567890123456789012345678901234567890123456789012"
                "3456789012345678901234567890123456789012345678901234567890123"
                "4567890123456789\r\n\r\n",
                431},
        Refusal{"GET / HTTP/1.1\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\nE: 1\r\n"
                "F: 1\r\nG: 1\r\nH: 1\r\nI: 1\r\n\r\n",
                431},
        // Malformed heads.
        Refusal{"GET / HTTP/1.1 extra\r\n\r\n", 400},
        Refusal{"GET / HTTP/2.0\r\n\r\n", 400},
        Refusal{"GET / HTTP/1.1\r\nBad Name: 1\r\n\r\n", 400},
        Refusal{"GET / HTTP/1.1\r\nA: 1\r\n folded\r\n\r\n", 400},
        Refusal{"GET /%zz HTTP/1.1\r\n\r\n", 400}));

TEST(RequestParser, SameContentLengthTwiceIsOne) {
  RequestParser parser(SmallLimits());
  size_t used = 0;
  ASSERT_EQ(parser.Feed("POST / HTTP/1.1\r\nContent-Length: 2\r\n"
                        "Content-Length: 2, 2\r\n\r\nok",
                        &used),
            RequestParser::Result::kComplete);
  EXPECT_EQ(parser.TakeRequest().request.body, "ok");
}

TEST(RequestParser, OversizedHeaderIsRefusedAtTheLimitNotAtTheEnd) {
  RequestParser parser(SmallLimits());
  size_t used = 0;
  // 16 MB would arrive; the parser stops after the limit.
  const std::string block = "GET / HTTP/1.1\r\nX: " + std::string(4096, 'a');
  EXPECT_EQ(parser.Feed(block, &used), RequestParser::Result::kError);
  EXPECT_EQ(parser.error_status(), 431);
}

}  // namespace
}  // namespace trainyard::http

// Copyright 2026 Trainyard authors.
#include "common/strings/json_message.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/status/errors.h"
#include "common/strings/absl_view.h"
#include "common/strings/utf8.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace trainyard {
namespace {

using ::google::protobuf::Message;
using ::testing::HasSubstr;
using ::trainyard::testing::StatusIs;

// Every kind of field the reader handles, built at run time so that this
// test needs no generated code.
constexpr char kTestProto[] = R"pb(
  name: "json_message_test.proto"
  package: "trainyard.test"
  dependency: "google/protobuf/timestamp.proto"
  syntax: "proto3"
  enum_type {
    name: "Color"
    value { name: "COLOR_UNSPECIFIED" number: 0 }
    value { name: "COLOR_RED" number: 1 }
    value { name: "COLOR_BLUE" number: 2 }
  }
  message_type {
    name: "Inner"
    field { name: "label" number: 1 type: TYPE_STRING label: LABEL_OPTIONAL }
    field { name: "count" number: 2 type: TYPE_INT64 label: LABEL_OPTIONAL }
  }
  message_type {
    name: "All"
    field { name: "f_double" number: 1 type: TYPE_DOUBLE label: LABEL_OPTIONAL }
    field { name: "f_float" number: 2 type: TYPE_FLOAT label: LABEL_OPTIONAL }
    field { name: "f_int32" number: 3 type: TYPE_INT32 label: LABEL_OPTIONAL }
    field { name: "f_int64" number: 4 type: TYPE_INT64 label: LABEL_OPTIONAL }
    field { name: "f_uint32" number: 5 type: TYPE_UINT32 label: LABEL_OPTIONAL }
    field { name: "f_uint64" number: 6 type: TYPE_UINT64 label: LABEL_OPTIONAL }
    field { name: "f_sint32" number: 7 type: TYPE_SINT32 label: LABEL_OPTIONAL }
    field { name: "f_bool" number: 8 type: TYPE_BOOL label: LABEL_OPTIONAL }
    field { name: "f_string" number: 9 type: TYPE_STRING label: LABEL_OPTIONAL }
    field {
      name: "f_enum"
      number: 10
      type: TYPE_ENUM
      type_name: ".trainyard.test.Color"
      label: LABEL_OPTIONAL
    }
    field {
      name: "inner"
      number: 11
      type: TYPE_MESSAGE
      type_name: ".trainyard.test.Inner"
      label: LABEL_OPTIONAL
    }
    field {
      name: "time"
      number: 12
      type: TYPE_MESSAGE
      type_name: ".google.protobuf.Timestamp"
      label: LABEL_OPTIONAL
    }
    field { name: "r_int32" number: 13 type: TYPE_INT32 label: LABEL_REPEATED }
    field {
      name: "r_string"
      number: 14
      type: TYPE_STRING
      label: LABEL_REPEATED
    }
    field {
      name: "r_inner"
      number: 15
      type: TYPE_MESSAGE
      type_name: ".trainyard.test.Inner"
      label: LABEL_REPEATED
    }
    field {
      name: "m_double"
      number: 16
      type: TYPE_MESSAGE
      type_name: ".trainyard.test.All.MDoubleEntry"
      label: LABEL_REPEATED
    }
    field {
      name: "m_int"
      number: 17
      type: TYPE_MESSAGE
      type_name: ".trainyard.test.All.MIntEntry"
      label: LABEL_REPEATED
    }
    field { name: "f_bytes" number: 18 type: TYPE_BYTES label: LABEL_OPTIONAL }
    nested_type {
      name: "MDoubleEntry"
      field { name: "key" number: 1 type: TYPE_STRING label: LABEL_OPTIONAL }
      field { name: "value" number: 2 type: TYPE_DOUBLE label: LABEL_OPTIONAL }
      options { map_entry: true }
    }
    nested_type {
      name: "MIntEntry"
      field { name: "key" number: 1 type: TYPE_INT32 label: LABEL_OPTIONAL }
      field { name: "value" number: 2 type: TYPE_STRING label: LABEL_OPTIONAL }
      options { map_entry: true }
    }
  }
)pb";

class JsonMessageTest : public ::testing::Test {
 protected:
  JsonMessageTest()
      : pool_(google::protobuf::DescriptorPool::generated_pool()) {
    google::protobuf::FileDescriptorProto file;
    google::protobuf::TextFormat::ParseFromString(kTestProto, &file);
    pool_.BuildFile(file);
    prototype_ = factory_.GetPrototype(
        pool_.FindMessageTypeByName("trainyard.test.All"));
  }

  std::unique_ptr<Message> New() const {
    return std::unique_ptr<Message>(prototype_->New());
  }

  // Parses `json`; the message's text form, or the error.
  std::unique_ptr<Message> Parse(std::string_view json) {
    std::unique_ptr<Message> m = New();
    absl::Status s = ParseJsonMessage(json, *m);
    EXPECT_TRUE(s.ok()) << s << " for " << json;
    return m;
  }
  absl::Status Error(std::string_view json) {
    std::unique_ptr<Message> m = New();
    return ParseJsonMessage(json, *m);
  }
  static std::string Field(const absl::Status& s) {
    std::vector<FieldViolation> v = FieldViolations(s);
    return v.size() == 1 ? v[0].field : "<no single violation>";
  }

  google::protobuf::DescriptorPool pool_;
  google::protobuf::DynamicMessageFactory factory_;
  const Message* prototype_ = nullptr;
};

// A random document of the test type, in the forms a sender may use.
class DocumentGenerator {
 public:
  explicit DocumentGenerator(uint32_t seed) : rng_(seed) {}

  std::string Next() {
    std::vector<std::string> members;
    auto maybe = [&](std::string_view key, std::string value) {
      if (Chance(0.6)) {
        members.push_back(
            absl::StrCat(Quote(key), Space(), ":", Space(), value));
      }
    };
    maybe(Pick({"fDouble", "f_double"}), Double());
    maybe("fFloat", Number(static_cast<double>(static_cast<float>(Real()))));
    maybe("fInt32", Integer<int32_t>());
    maybe(Pick({"fInt64", "f_int64"}), Integer<int64_t>());
    maybe("fUint32", Integer<uint32_t>());
    maybe("fUint64", Integer<uint64_t>());
    maybe("fSint32", Integer<int32_t>());
    maybe("fBool", std::string(Chance(0.5) ? "true" : "false"));
    maybe("fString", String());
    maybe("fEnum",
          std::string(Pick({"\"COLOR_RED\"", "\"COLOR_BLUE\"", "2", "0"})));
    maybe("inner", Inner());
    maybe("time", std::string(Pick({"\"2025-11-29T03:00:00Z\"",
                                    "\"2025-11-29T03:00:00.123456789Z\"",
                                    "\"2025-11-29T04:00:00.5+01:00\"",
                                    "\"1970-01-01T00:00:00Z\""})));
    maybe("rInt32", Array([&] { return Integer<int32_t>(); }));
    maybe("rString", Array([&] { return String(); }));
    maybe("rInner", Array([&] { return Inner(); }));
    maybe("mDouble",
          Object({"a", "b\\u00e9", "loss/train"}, [&] { return Double(); }));
    maybe("mInt", Object({"7", "-3", "2147483647"}, [&] { return String(); }));
    maybe("unknownField", R"({"nested": [1, "two", {"x": null}], "t": true})");
    maybe("fNull", "null");
    std::shuffle(members.begin(), members.end(), rng_);
    return absl::StrCat("{", Space(), absl::StrJoin(members, ","), Space(),
                        "}");
  }

 private:
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  std::string_view Pick(std::initializer_list<std::string_view> options) {
    std::uniform_int_distribution<size_t> d(0, options.size() - 1);
    return options.begin()[d(rng_)];
  }
  std::string Space() { return std::string(Pick({"", "", " ", "\n\t "})); }
  static std::string Quote(std::string_view s) {
    return absl::StrCat("\"", ToAbsl(s), "\"");
  }
  double Real() {
    switch (std::uniform_int_distribution<int>(0, 3)(rng_)) {
      case 0:
        return std::uniform_int_distribution<int>(-1000, 1000)(rng_);
      case 1:
        return std::uniform_real_distribution<double>(-1, 1)(rng_);
      case 2:
        return std::uniform_real_distribution<double>(-1e30, 1e30)(rng_);
      default:
        return std::uniform_real_distribution<double>(0, 1e-30)(rng_);
    }
  }
  std::string Number(double v) {
    std::string text = absl::StrFormat("%.17g", v);
    return Chance(0.2) ? Quote(text) : text;
  }
  std::string Double() {
    if (Chance(0.05))
      return std::string(Pick({"\"Infinity\"", "\"-Infinity\""}));
    return Number(Real());
  }
  template <typename T>
  std::string Integer() {
    T v = std::uniform_int_distribution<T>(std::numeric_limits<T>::min(),
                                           std::numeric_limits<T>::max())(rng_);
    if (Chance(0.3)) v = static_cast<T>(v % 1000);
    std::string text = absl::StrCat(v);
    return Chance(0.2) ? Quote(text) : text;
  }
  std::string String() {
    std::string out = "\"";
    const int n = std::uniform_int_distribution<int>(0, 12)(rng_);
    for (int i = 0; i < n; ++i) {
      out += Pick({"a", "Z", " ", "\\\"", "\\\\", "\\/", "\\n", "\\t",
                   "\\u00e9", "\\ud83d\\ude80", "é", "🚀", "\\u0000", "step"});
    }
    return out + "\"";
  }
  std::string Inner() {
    std::vector<std::string> members;
    if (Chance(0.7)) members.push_back(absl::StrCat("\"label\":", String()));
    if (Chance(0.7))
      members.push_back(absl::StrCat("\"count\":", Integer<int64_t>()));
    if (Chance(0.2)) members.push_back(R"("extra":{"deep":[[[]]]})");
    return absl::StrCat("{", absl::StrJoin(members, ","), "}");
  }
  template <typename Gen>
  std::string Array(Gen gen) {
    std::vector<std::string> items(
        std::uniform_int_distribution<int>(0, 3)(rng_));
    for (std::string& item : items) item = gen();
    return absl::StrCat("[", absl::StrJoin(items, ", "), "]");
  }
  template <typename Gen>
  std::string Object(std::vector<std::string> keys, Gen gen) {
    std::vector<std::string> members;
    for (const std::string& key : keys) {
      if (Chance(0.5)) members.push_back(absl::StrCat(Quote(key), ":", gen()));
    }
    return absl::StrCat("{", absl::StrJoin(members, ","), "}");
  }

  std::mt19937 rng_;
};

TEST_F(JsonMessageTest, AgreesWithProtobufOnRandomDocuments) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  DocumentGenerator generator(20261129);
  for (int i = 0; i < 2000; ++i) {
    const std::string json = generator.Next();
    std::unique_ptr<Message> ours = New();
    std::unique_ptr<Message> theirs = New();
    ASSERT_OK(ParseJsonMessage(json, *ours)) << json;
    ASSERT_TRUE(
        google::protobuf::util::JsonStringToMessage(json, theirs.get(), options)
            .ok())
        << json;
    ASSERT_TRUE(
        google::protobuf::util::MessageDifferencer::Equals(*ours, *theirs))
        << json << "\nours:   " << ours->ShortDebugString()
        << "\ntheirs: " << theirs->ShortDebugString();
  }
}

TEST_F(JsonMessageTest, EveryTruncationIsMalformed) {
  DocumentGenerator generator(7);
  const std::string json = generator.Next();
  for (size_t n = 0; n < json.size(); ++n) {
    absl::Status s = Error(json.substr(0, n));
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument))
        << json.substr(0, n);
  }
}

TEST_F(JsonMessageTest, NamesTheFieldOfABadValue) {
  absl::Status s = Error(R"({"inner": {"count": "abc"}})");
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(Field(s), "inner.count");
  EXPECT_THAT(s.message(), HasSubstr("abc"));
  EXPECT_EQ(Field(Error(R"({"rInner": [{}, {"label": 5}]})")),
            "rInner[1].label");
  EXPECT_EQ(Field(Error(R"({"mDouble": {"reward": true}})")), "mDouble.reward");
  EXPECT_EQ(Field(Error(R"({"mInt": {"x": "a"}})")), "mInt.x");
  EXPECT_EQ(Field(Error(R"({"f_int32": 1.5})")), "fInt32");
  EXPECT_EQ(Field(Error(R"({"fString": 12})")), "fString");
  EXPECT_EQ(Field(Error(R"({"fBool": "true"})")), "fBool");
  EXPECT_EQ(Field(Error(R"({"rInt32": 3})")), "rInt32");
  // Malformed JSON outside a field value is the body's fault.
  EXPECT_EQ(Field(Error(R"({"fInt32": 1,})")), "body");
  EXPECT_EQ(Field(Error(R"([1])")), "body");
  EXPECT_EQ(Field(Error(R"({"fInt32": 1} x)")), "body");
  EXPECT_EQ(Field(Error("")), "body");
}

// The echo of a bad value is cut at a code point and never malformed: the
// message goes into a proto string field (BadRequest).
TEST_F(JsonMessageTest, EchoedValuesStayValidUtf8) {
  for (std::string_view json :
       {"{\"fBool\": \u20ac\u20ac\u20ac}", "{\"fBool\": \xff\xfe}",
        "{\"fInt32\": \"\u20ac\u20ac\u20ac\u20ac\u20ac\u20ac\u20ac"
        "\u20ac\u20ac\u20ac\u20ac\u20ac\u20ac\u20ac\u20ac\u20ac\u20ac"
        "\u20ac\u20ac\u20ac\u20ac\u20ac\u20ac\"}"}) {
    absl::Status s = Error(json);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument)) << json;
    EXPECT_TRUE(IsValidUtf8(ToStd(s.message()))) << s.message();
    EXPECT_EQ(FieldViolations(s).size(), 1u) << json;
  }
}

TEST_F(JsonMessageTest, IntegersAreCheckedAgainstTheirRange) {
  EXPECT_EQ(Parse(R"({"fInt32": 2147483647})")->ShortDebugString(),
            "f_int32: 2147483647");
  EXPECT_EQ(Field(Error(R"({"fInt32": 2147483648})")), "fInt32");
  EXPECT_EQ(Field(Error(R"({"fUint32": -1})")), "fUint32");
  EXPECT_EQ(Field(Error(R"({"fInt64": 9223372036854775808})")), "fInt64");
  EXPECT_EQ(
      Parse(
          R"({"fInt64": "-9223372036854775808", "fUint64": 18446744073709551615})")
          ->ShortDebugString(),
      "f_int64: -9223372036854775808 f_uint64: 18446744073709551615");
  EXPECT_EQ(Parse(R"({"fInt32": 1e3, "fInt64": 12.0})")->ShortDebugString(),
            "f_int32: 1000 f_int64: 12");
  EXPECT_EQ(Field(Error(R"({"fInt32": "12abc"})")), "fInt32");
  EXPECT_EQ(Field(Error(R"({"fInt32": 01})")), "body");
}

TEST_F(JsonMessageTest, DoublesTakeTheSpecialStrings) {
  std::unique_ptr<Message> m = Parse(
      R"({"fDouble": "NaN", "mDouble": {"a": "Infinity", "b": "-Infinity"}})");
  const auto* d = m->GetDescriptor();
  EXPECT_TRUE(std::isnan(
      m->GetReflection()->GetDouble(*m, d->FindFieldByName("f_double"))));
  EXPECT_THAT(m->ShortDebugString(), HasSubstr("value: inf"));
  EXPECT_THAT(m->ShortDebugString(), HasSubstr("value: -inf"));
  EXPECT_EQ(Field(Error(R"({"fDouble": "nan"})")), "fDouble");
  EXPECT_EQ(Field(Error(R"({"fDouble": NaN})")), "fDouble");
  EXPECT_EQ(Field(Error(R"({"fDouble": 1e999})")), "fDouble");
  EXPECT_EQ(Field(Error(R"({"fFloat": 1e39})")), "fFloat");
  EXPECT_EQ(Parse(R"({"fDouble": "2.5", "fFloat": -0.5})")->ShortDebugString(),
            "f_double: 2.5 f_float: -0.5");
}

TEST_F(JsonMessageTest, StringsUnescapeAndMustBeUtf8) {
  EXPECT_EQ(Parse(R"({"fString": "a\"b\\c\/d\u00e9\ud83d\ude80\n"})")
                ->ShortDebugString(),
            R"(f_string: "a\"b\\c/d\303\251\360\237\232\200\n")");
  EXPECT_EQ(Field(Error("{\"fString\": \"\xC0\xAF\"}")), "fString");
  EXPECT_EQ(Field(Error(R"({"fString": "\ud83d"})")), "fString");
  EXPECT_EQ(Field(Error(R"({"fString": "\ude80"})")), "fString");
  EXPECT_EQ(Field(Error(R"({"fString": "\x"})")), "fString");
  EXPECT_EQ(Field(Error("{\"fString\": \"a\nb\"}")), "fString");
  // Keys too: an escaped key finds its field.
  EXPECT_EQ(Parse(R"({"f\u0053tring": "ok"})")->ShortDebugString(),
            R"(f_string: "ok")");
}

TEST_F(JsonMessageTest, UnknownFieldsNullsAndEnums) {
  EXPECT_EQ(Parse(R"({"nope": {"a": [1, 2, {"b": [null, true, false, "s"]}]},
                      "fInt32": null, "inner": null, "fEnum": "COLOR_PURPLE",
                      "rInt32": [1, 2], "fBool": true})")
                ->ShortDebugString(),
            "f_bool: true r_int32: 1 r_int32: 2");
  EXPECT_EQ(Parse(R"({"fEnum": "COLOR_BLUE"})")->ShortDebugString(),
            "f_enum: COLOR_BLUE");
  EXPECT_EQ(Parse(R"({"fEnum": 1})")->ShortDebugString(), "f_enum: COLOR_RED");
  EXPECT_EQ(Field(Error(R"({"nope": [1, 2)")), "body");
}

TEST_F(JsonMessageTest, TimestampsAreRfc3339) {
  EXPECT_EQ(
      Parse(R"({"time": "2025-11-29T04:00:00.25+01:00"})")->ShortDebugString(),
      "time { seconds: 1764385200 nanos: 250000000 }");
  EXPECT_EQ(Field(Error(R"({"time": "2025-11-29 03:00:00"})")), "time");
  EXPECT_EQ(Field(Error(R"({"time": 1764385200})")), "time");
  EXPECT_EQ(Field(Error(R"({"time": "10000-01-01T00:00:00Z"})")), "time");
}

TEST_F(JsonMessageTest, UnsupportedTypesAndDepth) {
  EXPECT_THAT(Error(R"({"fBytes": "AAAA"})"),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("fBytes")));
  std::string deep =
      R"({"nope": )" + std::string(100, '[') + std::string(100, ']') + "}";
  EXPECT_THAT(Error(deep), StatusIs(absl::StatusCode::kInvalidArgument,
                                    HasSubstr("nested deeper")));
}

TEST_F(JsonMessageTest, ClearsTheMessageFirst) {
  std::unique_ptr<Message> m = Parse(R"({"fInt32": 5, "rInt32": [1]})");
  ASSERT_OK(ParseJsonMessage(R"({"fBool": true})", *m));
  EXPECT_EQ(m->ShortDebugString(), "f_bool: true");
}

}  // namespace
}  // namespace trainyard

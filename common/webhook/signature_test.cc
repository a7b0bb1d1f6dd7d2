// Copyright 2026 The Trainyard Authors.

#include "common/webhook/signature.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/webhook/base64.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace trainyard::webhook {
namespace {

using ::google::protobuf::Struct;
using ::google::protobuf::Value;

// The contract's test vectors; see testdata/README.md.
Struct LoadVectors() {
  const char* source_dir = std::getenv("TRAINYARD_SOURCE_DIR");
  EXPECT_NE(source_dir, nullptr)
      << "TRAINYARD_SOURCE_DIR is unset; run this test through ctest";
  Struct vectors;
  if (source_dir == nullptr) return vectors;
  const std::string path =
      absl::StrCat(source_dir, "/common/webhook/testdata/webhook-vectors.json");
  std::ifstream file(path, std::ios::binary);
  EXPECT_TRUE(file.good()) << "cannot open " << path;
  std::stringstream text;
  text << file.rdbuf();
  const auto status =
      google::protobuf::util::JsonStringToMessage(text.str(), &vectors);
  EXPECT_TRUE(status.ok()) << path << ": " << status.ToString();
  return vectors;
}

const google::protobuf::RepeatedPtrField<Value>& Section(
    const Struct& vectors, const std::string& name) {
  static const Value* const kEmpty = new Value();
  auto it = vectors.fields().find(name);
  EXPECT_NE(it, vectors.fields().end()) << "no section " << name;
  return it == vectors.fields().end() ? kEmpty->list_value().values()
                                      : it->second.list_value().values();
}

std::string Text(const Value& vector, const std::string& field) {
  return vector.struct_value().fields().at(field).string_value();
}

int64_t Number(const Value& vector, const std::string& field) {
  return static_cast<int64_t>(
      vector.struct_value().fields().at(field).number_value());
}

Secret ParseOrDie(std::string_view text) {
  absl::StatusOr<Secret> secret = Secret::Parse(text);
  EXPECT_TRUE(secret.ok()) << secret.status();
  return secret.ok() ? *secret : Secret::FromKey("x");
}

std::string MasterKey(const Value& vector) {
  absl::StatusOr<std::string> key =
      Base64Decode(Text(vector, "master_key_base64"));
  EXPECT_TRUE(key.ok()) << key.status();
  return key.value_or("");
}

TEST(WebhookVectorsTest, Signatures) {
  const Struct vectors = LoadVectors();
  int exact = 0;
  int verified = 0;
  for (const Value& vector : Section(vectors, "signatures")) {
    const Secret secret = ParseOrDie(Text(vector, "secret"));
    const std::string id = Text(vector, "webhook_id");
    const int64_t timestamp = Number(vector, "webhook_timestamp");
    const std::string body = Text(vector, "body");
    const std::string header = Text(vector, "webhook_signature");
    SCOPED_TRACE(absl::StrCat(id, " ", header));
    if (absl::StartsWith(header, "v1,") && !absl::StrContains(header, ' ')) {
      EXPECT_EQ(Sign(secret, id, timestamp, body), header);
      ++exact;
    }
    EXPECT_TRUE(Verify(secret, id, absl::StrCat(timestamp), header, body,
                       absl::FromUnixSeconds(timestamp))
                    .ok());
    ++verified;
  }
  EXPECT_EQ(exact, 4);
  EXPECT_EQ(verified, 5);
}

TEST(WebhookVectorsTest, JobSecretDerivation) {
  const Struct vectors = LoadVectors();
  int count = 0;
  for (const Value& vector : Section(vectors, "job_secret_derivation")) {
    const std::string job_id = Text(vector, "job_id");
    SCOPED_TRACE(job_id);
    EXPECT_EQ(DeriveJobSecret(MasterKey(vector), job_id),
              Text(vector, "job_secret"));
    EXPECT_EQ(DeriveJobSecretKey(MasterKey(vector), job_id).ToString(),
              Text(vector, "job_secret"));
    ++count;
  }
  EXPECT_EQ(count, 3);
}

TEST(WebhookVectorsTest, Chained) {
  const Struct vectors = LoadVectors();
  int count = 0;
  for (const Value& vector : Section(vectors, "chained")) {
    const std::string path = Text(vector, "path");
    const std::string job_id = Text(vector, "job_id");
    ASSERT_TRUE(absl::EndsWith(path, "/" + job_id)) << path;
    const Secret secret = DeriveJobSecretKey(MasterKey(vector), job_id);
    const int64_t timestamp = Number(vector, "webhook_timestamp");
    const std::string id = Text(vector, "webhook_id");
    const std::string body = Text(vector, "body");
    const std::string header = Text(vector, "webhook_signature");
    EXPECT_TRUE(Verify(secret, id, absl::StrCat(timestamp), header, body,
                       absl::FromUnixSeconds(timestamp))
                    .ok());
    EXPECT_EQ(Sign(secret, id, timestamp, body), header);
    // The pod's path: the secret text from env, parsed.
    const Secret from_env =
        ParseOrDie(DeriveJobSecret(MasterKey(vector), job_id));
    EXPECT_EQ(Sign(from_env, id, timestamp, body), header);
    ++count;
  }
  EXPECT_EQ(count, 1);
}

TEST(WebhookVectorsTest, NegativesAreRejectedWithReason) {
  const Struct vectors = LoadVectors();
  int count = 0;
  for (const Value& vector : Section(vectors, "negative")) {
    const std::string why = Text(vector, "why");
    SCOPED_TRACE(why);
    const Secret secret = ParseOrDie(Text(vector, "secret"));
    const int64_t timestamp = Number(vector, "webhook_timestamp");
    const absl::Status status =
        Verify(secret, Text(vector, "webhook_id"), absl::StrCat(timestamp),
               Text(vector, "webhook_signature"), Text(vector, "body"),
               absl::FromUnixSeconds(timestamp));
    EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated) << status;
    const bool unusable = absl::StrContains(why, "unknown version") ||
                          absl::StrContains(why, "not base64");
    EXPECT_EQ(VerifyFailureReason(status),
              unusable ? VerifyFailure::kNoV1Signature
                       : VerifyFailure::kSignatureMismatch)
        << status;
    ++count;
  }
  EXPECT_EQ(count, 6);
}

// A fixed delivery for the unit tests below.
class VerifyTest : public ::testing::Test {
 protected:
  static constexpr int64_t kTimestamp = 1764385200;
  const Secret secret_ = Secret::FromKey("0123456789abcdef0123456789abcdef");
  const std::string id_ = "evt_1_42";
  const std::string body_ = R"({"type":"info","attempt":1,"seq":42})";
  const std::string signature_ = Sign(secret_, id_, kTimestamp, body_);

  absl::Status VerifyAt(absl::Time now,
                        std::string_view timestamp = "1764385200") const {
    return Verify(secret_, id_, timestamp, signature_, body_, now);
  }
  static absl::Time Sent() { return absl::FromUnixSeconds(kTimestamp); }
};

TEST_F(VerifyTest, ToleranceIsInclusive) {
  EXPECT_TRUE(VerifyAt(Sent()).ok());
  EXPECT_TRUE(VerifyAt(Sent() + absl::Minutes(5)).ok());
  EXPECT_TRUE(VerifyAt(Sent() - absl::Minutes(5)).ok());
}

TEST_F(VerifyTest, StaleTimestamp) {
  for (absl::Time now : {Sent() + absl::Minutes(5) + absl::Seconds(1),
                         Sent() - absl::Minutes(5) - absl::Seconds(1),
                         Sent() + absl::Hours(48)}) {
    const absl::Status status = VerifyAt(now);
    EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
    EXPECT_EQ(VerifyFailureReason(status), VerifyFailure::kStaleTimestamp)
        << status;
  }
  const absl::Status past = VerifyAt(Sent() + absl::Seconds(301));
  EXPECT_TRUE(absl::StrContains(past.message(), "5m1s in the past")) << past;
  const absl::Status future = VerifyAt(Sent() - absl::Seconds(301));
  EXPECT_TRUE(absl::StrContains(future.message(), "in the future")) << future;
}

TEST_F(VerifyTest, CustomTolerance) {
  EXPECT_TRUE(Verify(secret_, id_, "1764385200", signature_, body_,
                     Sent() + absl::Seconds(10), absl::Seconds(10))
                  .ok());
  EXPECT_EQ(VerifyFailureReason(Verify(secret_, id_, "1764385200", signature_,
                                       body_, Sent() + absl::Seconds(11),
                                       absl::Seconds(10))),
            VerifyFailure::kStaleTimestamp);
}

TEST_F(VerifyTest, NonNumericTimestamp) {
  for (const char* timestamp :
       {"abc", "17643852O0", "-1764385200", "+1764385200", " 1764385200",
        "1764385200 ", "1764385200.0", "1.7643852e9", "0x6929f430",
        "9999999999999999999999"}) {
    SCOPED_TRACE(timestamp);
    const absl::Status status = VerifyAt(Sent(), timestamp);
    EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
    EXPECT_EQ(VerifyFailureReason(status), VerifyFailure::kBadTimestamp)
        << status;
  }
}

TEST_F(VerifyTest, MissingHeaders) {
  const absl::Time now = Sent();
  for (const absl::Status& status :
       {Verify(secret_, "", "1764385200", signature_, body_, now),
        Verify(secret_, id_, "", signature_, body_, now),
        Verify(secret_, id_, "1764385200", "", body_, now),
        Verify(secret_, id_, "1764385200", "   ", body_, now)}) {
    EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
    EXPECT_EQ(VerifyFailureReason(status), VerifyFailure::kMissingHeader)
        << status;
  }
  EXPECT_TRUE(absl::StrContains(
      Verify(secret_, id_, "", signature_, body_, now).message(),
      "webhook-timestamp"));
}

TEST_F(VerifyTest, SeveralSignaturesRoundTrip) {
  const Secret old_secret = Secret::FromKey("an older key, being rotated out");
  const Secret other = Secret::FromKey("someone else's key");
  const std::string old_signature = Sign(old_secret, id_, kTimestamp, body_);
  const std::string header =
      absl::StrCat("v1a,AAAA  ", old_signature, " v2,xyz ", signature_, " ");
  for (const Secret* secret : {&secret_, &old_secret}) {
    EXPECT_TRUE(Verify(*secret, id_, "1764385200", header, body_, Sent()).ok());
  }
  const absl::Status status =
      Verify(other, id_, "1764385200", header, body_, Sent());
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifyFailureReason(status), VerifyFailure::kSignatureMismatch);
}

TEST_F(VerifyTest, BodyIsCheckedByteForByte) {
  std::string body = body_ + " ";
  EXPECT_EQ(VerifyFailureReason(
                Verify(secret_, id_, "1764385200", signature_, body, Sent())),
            VerifyFailure::kSignatureMismatch);
  // The timestamp is signed as the header text: leading zeros change it.
  EXPECT_EQ(VerifyFailureReason(
                Verify(secret_, id_, "01764385200", signature_, body_, Sent())),
            VerifyFailure::kSignatureMismatch);
}

TEST_F(VerifyTest, UnusableSignatureEntries) {
  for (const char* header : {"v1a,AAAA", "v2,AAAA v1", "v1,@@@@", "v1,AAA",
                             "V1,AAAA", "v1;AAAA", "garbage"}) {
    SCOPED_TRACE(header);
    const absl::Status status =
        Verify(secret_, id_, "1764385200", header, body_, Sent());
    EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
    EXPECT_EQ(VerifyFailureReason(status), VerifyFailure::kNoV1Signature)
        << status;
  }
  // Decodes, but is not a 32-byte MAC.
  EXPECT_EQ(VerifyFailureReason(
                Verify(secret_, id_, "1764385200", "v1,AAAA", body_, Sent())),
            VerifyFailure::kSignatureMismatch);
}

TEST(VerifyFailureTest, ReasonOfOtherStatusesIsNone) {
  EXPECT_EQ(VerifyFailureReason(absl::OkStatus()), VerifyFailure::kNone);
  EXPECT_EQ(VerifyFailureReason(absl::UnauthenticatedError("x")),
            VerifyFailure::kNone);
}

TEST(VerifyFailureTest, Names) {
  EXPECT_EQ(VerifyFailureName(VerifyFailure::kNone), "none");
  EXPECT_EQ(VerifyFailureName(VerifyFailure::kMissingHeader), "missing_header");
  EXPECT_EQ(VerifyFailureName(VerifyFailure::kBadTimestamp), "bad_timestamp");
  EXPECT_EQ(VerifyFailureName(VerifyFailure::kStaleTimestamp),
            "stale_timestamp");
  EXPECT_EQ(VerifyFailureName(VerifyFailure::kNoV1Signature),
            "no_v1_signature");
  EXPECT_EQ(VerifyFailureName(VerifyFailure::kSignatureMismatch),
            "signature_mismatch");
}

TEST(SecretTest, ParseAndPrint) {
  const std::string text = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const Secret secret = ParseOrDie(text);
  EXPECT_EQ(secret.key().size(), 24u);
  EXPECT_EQ(secret.ToString(), text);
}

TEST(SecretTest, ParseErrorsDoNotLeakTheSecret) {
  for (const char* text :
       {"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec-MfKQ9r8GKYqrTwjUPD8ILPZI",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS", "whsec_MfKQ9r8G!!!!", "whsec_",
        "WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}) {
    SCOPED_TRACE(text);
    absl::StatusOr<Secret> secret = Secret::Parse(text);
    ASSERT_FALSE(secret.ok());
    EXPECT_EQ(secret.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_FALSE(absl::StrContains(secret.status().message(), "MfKQ9r8G"))
        << secret.status();
  }
}

TEST(SignTest, DependsOnEveryInput) {
  const Secret secret = Secret::FromKey("key");
  const std::string base = Sign(secret, "evt_1_1", 100, "{}");
  EXPECT_TRUE(absl::StartsWith(base, "v1,"));
  EXPECT_EQ(base.size(), 3u + 44u);
  EXPECT_NE(Sign(Secret::FromKey("kez"), "evt_1_1", 100, "{}"), base);
  EXPECT_NE(Sign(secret, "evt_1_2", 100, "{}"), base);
  EXPECT_NE(Sign(secret, "evt_1_1", 101, "{}"), base);
  EXPECT_NE(Sign(secret, "evt_1_1", 100, "{ }"), base);
  EXPECT_EQ(Sign(secret, "evt_1_1", 100, "{}"), base);
}

}  // namespace
}  // namespace trainyard::webhook

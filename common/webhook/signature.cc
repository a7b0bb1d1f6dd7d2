// Copyright 2026 The Trainyard Authors.

#include "common/webhook/signature.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <array>
#include <initializer_list>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/types/optional.h"
#include "common/strings/absl_view.h"
#include "common/webhook/base64.h"

namespace trainyard::webhook {
namespace {

constexpr size_t kMacSize = 32;
using Mac = std::array<unsigned char, kMacSize>;

// Where Verify() stores its VerifyFailure in the status.
constexpr std::string_view kReasonPayloadUrl =
    "type.googleapis.com/trainyard.webhook.VerifyFailure";

// HMAC-SHA256 under `key` of the concatenation of `parts`, without copying
// them into one buffer. nullopt only if OpenSSL fails (out of memory).
std::optional<Mac> HmacSha256(std::string_view key,
                              std::initializer_list<std::string_view> parts) {
  // OpenSSL reads a null key as "keep the previous key"; an empty key must
  // still be a valid pointer.
  static constexpr unsigned char kEmpty = 0;
  const auto* key_bytes =
      key.empty() ? &kEmpty
                  : reinterpret_cast<const unsigned char*>(key.data());
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr) return std::nullopt;
  EVP_MAC_CTX* context = EVP_MAC_CTX_new(mac);
  EVP_MAC_free(mac);  // The context holds its own reference.
  if (context == nullptr) return std::nullopt;
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end()};
  bool ok = EVP_MAC_init(context, key_bytes, key.size(), params) == 1;
  for (std::string_view part : parts) {
    if (!ok) break;
    ok = EVP_MAC_update(context,
                        reinterpret_cast<const unsigned char*>(part.data()),
                        part.size()) == 1;
  }
  Mac out;
  size_t out_size = 0;
  ok = ok && EVP_MAC_final(context, out.data(), &out_size, out.size()) == 1 &&
       out_size == kMacSize;
  EVP_MAC_CTX_free(context);
  if (!ok) return std::nullopt;
  return out;
}

std::string_view AsBytes(const Mac& mac) {
  return std::string_view(reinterpret_cast<const char*>(mac.data()),
                          mac.size());
}

absl::Status Failure(VerifyFailure reason, std::string_view message) {
  absl::Status status = absl::UnauthenticatedError(ToAbsl(message));
  status.SetPayload(ToAbsl(kReasonPayloadUrl),
                    absl::Cord(ToAbsl(VerifyFailureName(reason))));
  return status;
}

// Parses a webhook-timestamp: unix seconds as plain decimal digits.
std::optional<int64_t> ParseTimestamp(std::string_view text) {
  // 18 digits cannot overflow int64_t; real values have 10.
  if (text.empty() || text.size() > 18 ||
      !std::all_of(text.begin(), text.end(), absl::ascii_isdigit)) {
    return std::nullopt;
  }
  int64_t value = 0;
  if (!absl::SimpleAtoi(ToAbsl(text), &value)) return std::nullopt;
  return value;
}

}  // namespace

absl::StatusOr<Secret> Secret::Parse(std::string_view text) {
  if (!text.starts_with(kSecretPrefix)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "webhook secret must start with \"", ToAbsl(kSecretPrefix), "\""));
  }
  text.remove_prefix(kSecretPrefix.size());
  absl::StatusOr<std::string> key = Base64Decode(text);
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("webhook secret after \"", ToAbsl(kSecretPrefix),
                     "\" is not valid base64: ", key.status().message()));
  }
  if (key->empty()) {
    return absl::InvalidArgumentError("webhook secret key is empty");
  }
  return Secret(*std::move(key));
}

std::string Secret::ToString() const {
  return absl::StrCat(ToAbsl(kSecretPrefix), Base64Encode(key_));
}

Secret DeriveJobSecretKey(std::string_view master_key_bytes,
                          std::string_view job_id) {
  std::optional<Mac> mac = HmacSha256(master_key_bytes, {job_id});
  // Only out-of-memory gets here; an all-zero key signs nothing valid.
  return Secret::FromKey(std::string(AsBytes(mac.value_or(Mac{}))));
}

std::string DeriveJobSecret(std::string_view master_key_bytes,
                            std::string_view job_id) {
  return DeriveJobSecretKey(master_key_bytes, job_id).ToString();
}

std::string Sign(const Secret& secret, std::string_view webhook_id,
                 int64_t timestamp_unix, std::string_view body) {
  const std::string timestamp = absl::StrCat(timestamp_unix);
  std::optional<Mac> mac =
      HmacSha256(secret.key(), {webhook_id, ".", timestamp, ".", body});
  if (!mac.has_value()) return std::string();
  return absl::StrCat("v1,", Base64Encode(AsBytes(*mac)));
}

std::string_view VerifyFailureName(VerifyFailure failure) {
  switch (failure) {
    case VerifyFailure::kNone:
      return "none";
    case VerifyFailure::kMissingHeader:
      return "missing_header";
    case VerifyFailure::kBadTimestamp:
      return "bad_timestamp";
    case VerifyFailure::kStaleTimestamp:
      return "stale_timestamp";
    case VerifyFailure::kNoV1Signature:
      return "no_v1_signature";
    case VerifyFailure::kSignatureMismatch:
      return "signature_mismatch";
  }
  return "none";
}

VerifyFailure VerifyFailureReason(const absl::Status& status) {
  if (status.ok()) return VerifyFailure::kNone;
  absl::optional<absl::Cord> payload =
      status.GetPayload(ToAbsl(kReasonPayloadUrl));
  if (!payload.has_value()) return VerifyFailure::kNone;
  for (VerifyFailure failure :
       {VerifyFailure::kMissingHeader, VerifyFailure::kBadTimestamp,
        VerifyFailure::kStaleTimestamp, VerifyFailure::kNoV1Signature,
        VerifyFailure::kSignatureMismatch}) {
    if (*payload == ToAbsl(VerifyFailureName(failure))) return failure;
  }
  return VerifyFailure::kNone;
}

absl::Status Verify(const Secret& secret, std::string_view webhook_id,
                    std::string_view timestamp_header,
                    std::string_view signature_header,
                    std::string_view raw_body, absl::Time now,
                    absl::Duration tolerance) {
  if (webhook_id.empty()) {
    return Failure(VerifyFailure::kMissingHeader, "missing webhook-id header");
  }
  if (timestamp_header.empty()) {
    return Failure(VerifyFailure::kMissingHeader,
                   "missing webhook-timestamp header");
  }
  if (signature_header.find_first_not_of(' ') == std::string_view::npos) {
    return Failure(VerifyFailure::kMissingHeader,
                   "missing webhook-signature header");
  }

  const std::optional<int64_t> timestamp = ParseTimestamp(timestamp_header);
  if (!timestamp.has_value()) {
    return Failure(VerifyFailure::kBadTimestamp,
                   "webhook-timestamp is not an integer number of seconds");
  }
  const absl::Duration skew = now - absl::FromUnixSeconds(*timestamp);
  if (skew > tolerance || skew < -tolerance) {
    return Failure(
        VerifyFailure::kStaleTimestamp,
        absl::StrCat(
            "webhook-timestamp is ",
            absl::FormatDuration(absl::Trunc(
                skew > absl::ZeroDuration() ? skew : -skew, absl::Seconds(1))),
            skew > absl::ZeroDuration() ? " in the past" : " in the future",
            "; tolerance is ", absl::FormatDuration(tolerance)));
  }

  std::optional<Mac> expected = HmacSha256(
      secret.key(), {webhook_id, ".", timestamp_header, ".", raw_body});
  if (!expected.has_value()) {
    return absl::InternalError("HMAC-SHA256 failed");
  }
  bool any_v1 = false;
  std::string_view rest = signature_header;
  while (!rest.empty()) {
    const size_t space = rest.find(' ');
    std::string_view entry = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view()
                                           : rest.substr(space + 1);
    if (!entry.starts_with("v1,")) continue;  // Other versions, or empty.
    entry.remove_prefix(3);
    absl::StatusOr<std::string> candidate = Base64Decode(entry);
    if (!candidate.ok()) continue;
    any_v1 = true;
    // The length is public; only equal-length contents are compared, in
    // constant time.
    if (candidate->size() == kMacSize &&
        CRYPTO_memcmp(candidate->data(), expected->data(), kMacSize) == 0) {
      return absl::OkStatus();
    }
  }
  if (!any_v1) {
    return Failure(VerifyFailure::kNoV1Signature,
                   "webhook-signature has no v1 signature in valid base64");
  }
  return Failure(VerifyFailure::kSignatureMismatch,
                 "no webhook-signature matches the body");
}

}  // namespace trainyard::webhook

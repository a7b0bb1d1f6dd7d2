// Copyright 2026 The Trainyard Authors.
//
// File: common/webhook/signature.h
// -----------------------------------------------------------------------------
// Standard Webhooks (v1) signing and verification, as the webhook contract
// (shared/docs/webhooks.md) specifies it:
//
//   signature = base64(HMAC-SHA256(key, webhook_id "." timestamp "." body))
//   webhook-signature: v1,<signature> [v1,<signature> ...]
//   job secret = "whsec_" + base64(HMAC-SHA256(master_key, job_id))
//
// where `key` is the base64-decoded text after "whsec_". The sender (a
// training pod) gets its job secret in TRAINYARD_WEBHOOK_SECRET; the receiver
// derives the same secret from the master key and the job id in the path.
//
// Every function here is thread-safe and keeps no state.

#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace trainyard::webhook {

inline constexpr std::string_view kSecretPrefix = "whsec_";

// How far a webhook-timestamp may be from the receiver's clock.
inline constexpr absl::Duration kDefaultTolerance = absl::Minutes(5);

// A signing key. Never printed: it has no operator<< and its text form is
// only produced on request by ToString().
class Secret {
 public:
  // Parses "whsec_<base64 of the key>". Errors (kInvalidArgument): missing
  // prefix, bad base64, empty key. The message never contains the secret.
  static absl::StatusOr<Secret> Parse(std::string_view text);

  // The secret whose key is `key`. REQUIRES: !key.empty().
  static Secret FromKey(std::string key) { return Secret(std::move(key)); }

  // The raw key bytes.
  const std::string& key() const { return key_; }

  // "whsec_" + base64(key), the form pods receive.
  std::string ToString() const;

 private:
  explicit Secret(std::string key) : key_(std::move(key)) {}

  std::string key_;
};

// Returns the job's secret text, "whsec_" + base64(HMAC-SHA256(master_key,
// job_id)). `master_key_bytes` is the raw (decoded) master key.
std::string DeriveJobSecret(std::string_view master_key_bytes,
                            std::string_view job_id);

// Same as Secret::Parse(DeriveJobSecret(...)) without the text round trip.
Secret DeriveJobSecretKey(std::string_view master_key_bytes,
                          std::string_view job_id);

// Returns the webhook-signature header value for one delivery attempt:
// "v1," + base64(HMAC-SHA256(key, webhook_id + "." + timestamp + "." +
// body)). A retry signs again with its own timestamp.
std::string Sign(const Secret& secret, std::string_view webhook_id,
                 int64_t timestamp_unix, std::string_view body);

// Why Verify() rejected a delivery; a label for counting 401s.
enum class VerifyFailure {
  kNone = 0,           // Verified, or not a status from Verify().
  kMissingHeader,      // webhook-id, webhook-timestamp or -signature empty.
  kBadTimestamp,       // webhook-timestamp is not a decimal integer.
  kStaleTimestamp,     // More than the tolerance away from now.
  kNoV1Signature,      // No "v1," entry whose signature decodes.
  kSignatureMismatch,  // v1 signatures present, none matches.
};

// A short snake_case name for `failure`, fit for a Prometheus label value:
// "none", "missing_header", "bad_timestamp", "stale_timestamp",
// "no_v1_signature", "signature_mismatch".
std::string_view VerifyFailureName(VerifyFailure failure);

// Returns why `status`, as returned by Verify(), failed; kNone for OK and for
// statuses that Verify() did not produce.
VerifyFailure VerifyFailureReason(const absl::Status& status);

// Checks one delivery: the header values as received (empty when absent) and
// the raw body bytes exactly as received. Passes if the timestamp is a
// decimal integer within `tolerance` of `now` (inclusive) and any "v1,"
// entry of the space-separated signature list equals the expected MAC
// (compared in constant time). Entries of other versions ("v1a,", "v2,") and
// v1 entries whose base64 does not decode are skipped.
//
// Failures are kUnauthenticated with a message fit to return to the sender
// (it names the problem, never the expected signature) and a reason that
// VerifyFailureReason() extracts.
absl::Status Verify(const Secret& secret, std::string_view webhook_id,
                    std::string_view timestamp_header,
                    std::string_view signature_header,
                    std::string_view raw_body, absl::Time now,
                    absl::Duration tolerance = kDefaultTolerance);

}  // namespace trainyard::webhook

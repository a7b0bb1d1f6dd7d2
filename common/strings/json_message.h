// Copyright 2026 Trainyard authors.
//
// A JSON object into a protobuf message with the proto3 JSON mapping, in one
// pass over the text and straight into the message through reflection.
// protobuf's own JsonStringToMessage goes JSON -> events -> binary -> message
// and costs about 37 us for a 400-byte webhook body on our machine; this
// reader does the same work in a few (tools/bench/README.md). It is the hot
// path of every webhook (services/metrics/ingest/webhook_body.cc).
//
// What it reads, as JsonStringToMessage does with ignore_unknown_fields:
//   - a field by its JSON name ("trainLoss") or its proto name
//     ("train_loss"); unknown fields are skipped (they must still be JSON);
//   - integers from numbers or numeric strings ("12", 1e3), checked against
//     the field's range; a fraction is an error;
//   - double/float from numbers, numeric strings, "NaN", "Infinity",
//     "-Infinity";
//   - bool from true/false; string from a string (valid UTF-8);
//   - enums by name or number (an unknown name is skipped);
//   - nested messages, repeated fields (arrays), maps (objects; keys of any
//     map key type), google.protobuf.Timestamp (RFC 3339);
//   - null leaves a field unset.
// Not supported (an error naming the field): bytes and the other well-known
// types (Any, Struct, Value, Duration, wrappers, FieldMask).
// Stricter than protobuf's parser, as RFC 8259 is: raw control characters in
// strings (a literal tab or newline) and trailing commas are malformed JSON.
// A little more lenient: timestamps go through absl::ParseTime (lowercase
// 't'/'z', an offset without minutes), and a map key given twice keeps the
// last value.
//
//   v1::WebhookBody body;
//   RETURN_IF_ERROR(ParseJsonMessage(raw_body, body));
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "google/protobuf/message.h"

namespace trainyard {

// Clears `message` and fills it from the JSON object `json`. Errors are
// kInvalidArgument with one field violation: the field's JSON path
// ("metrics.trainLoss", "extra.reward", "tags[2]") for a value of the wrong
// kind or out of range, "body" for malformed JSON outside any field. The
// message says what was wrong and where (byte offset).
absl::Status ParseJsonMessage(std::string_view json,
                              google::protobuf::Message& message);

}  // namespace trainyard

// Copyright 2026 The Trainyard Authors.
#include "common/webhook/base64.h"

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "common/strings/absl_view.h"

namespace trainyard::webhook {

std::string Base64Encode(std::string_view bytes) {
  return absl::Base64Escape(ToAbsl(bytes));
}

absl::StatusOr<std::string> Base64Decode(std::string_view text) {
  // Abseil's decoder is lenient (missing padding, whitespace, non-zero unused
  // bits); a text is accepted only when it is exactly the encoding of what it
  // decodes to, which is the strict form the header promises.
  std::string bytes;
  if (!absl::Base64Unescape(ToAbsl(text), &bytes) ||
      absl::Base64Escape(bytes) != ToAbsl(text)) {
    return absl::InvalidArgumentError("not valid padded base64");
  }
  return bytes;
}

}  // namespace trainyard::webhook

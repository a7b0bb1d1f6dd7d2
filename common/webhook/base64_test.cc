// Copyright 2026 The Trainyard Authors.

#include "common/webhook/base64.h"

#include <string>

#include "gtest/gtest.h"

namespace trainyard::webhook {
namespace {

TEST(Base64Test, Rfc4648Vectors) {
  const std::pair<const char*, const char*> kVectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : kVectors) {
    SCOPED_TRACE(plain);
    EXPECT_EQ(Base64Encode(plain), encoded);
    absl::StatusOr<std::string> decoded = Base64Decode(encoded);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, plain);
  }
}

TEST(Base64Test, EveryByteRoundTrips) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  for (size_t length = 0; length <= bytes.size(); length += 37) {
    const std::string part = bytes.substr(bytes.size() - length);
    absl::StatusOr<std::string> decoded = Base64Decode(Base64Encode(part));
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, part);
  }
  EXPECT_EQ(Base64Encode("\xfb\xff\xbf"), "+/+/");
}

TEST(Base64Test, RejectsInvalidText) {
  for (const char* text :
       {"Zg=", "Zg", "Z", "Z===", "====", "Zg==Zg==", "Zm9v\n", " Zm9v", "Zm9-",
        "Zm9_", "Zm=v", "Zh==", "Zm9=", "Zm8=Zm9v"}) {
    SCOPED_TRACE(text);
    EXPECT_EQ(Base64Decode(text).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace trainyard::webhook

// Copyright 2026 Trainyard authors.
#include "common/server/server_config.h"

#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace trainyard::server {
namespace {

using ::testing::HasSubstr;
using ::trainyard::testing::StatusIs;

ServerConfig Valid() {
  ServerConfig c;
  c.grpc_address = "127.0.0.1:7101";
  c.admin_address = "127.0.0.1:7111";
  c.data_dir = "/tmp/x";
  return c;
}

TEST(ServerConfigTest, DefaultsAreValid) {
  EXPECT_OK(ValidateServerConfig(Valid()));
}

TEST(ServerConfigTest, FlagsParseIntoConfig) {
  ServerConfig c = Valid();
  config::FlagSet flags("t");
  AddServerFlags(flags, &c);
  ASSERT_OK(flags.ParseArgs({"--grpc_address=127.0.0.1:0", "--unary_timeout=5s",
                             "--max_message_bytes=2048", "--time_scale=120"}));
  EXPECT_EQ(c.grpc_address, "127.0.0.1:0");
  EXPECT_EQ(c.unary_timeout, absl::Seconds(5));
  EXPECT_EQ(c.max_message_bytes, 2048);
  EXPECT_EQ(c.process.time_scale, 120);
  EXPECT_THAT(flags.ParseArgs({"--max_message_bytes=12"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--max_message_bytes: 12 is out of range")));
}

TEST(ServerConfigTest, OpenAuthIsRefusedBeyondLoopback) {
  ServerConfig c = Valid();
  c.grpc_address = "0.0.0.0:7101";
  EXPECT_THAT(ValidateServerConfig(c),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--tokens_file: required")));
  c.tokens_file = "/etc/trainyard/tokens";
  EXPECT_OK(ValidateServerConfig(c));
}

TEST(ServerConfigTest, HalfTlsNamesTheMissingSetting) {
  ServerConfig c = Valid();
  c.tls_cert_file = "cert.pem";
  EXPECT_THAT(ValidateServerConfig(c),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--tls_key_file")));
  c = Valid();
  c.tls_client_ca_file = "ca.pem";
  EXPECT_THAT(ValidateServerConfig(c),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--tls_client_ca_file")));
}

TEST(ServerConfigTest, BadEnumsAndOriginNameTheSetting) {
  ServerConfig c = Valid();
  c.process.log_format = "xml";
  EXPECT_THAT(
      ValidateServerConfig(c),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--log_format")));
  c = Valid();
  c.process.time_origin = "soon";
  EXPECT_THAT(
      ValidateServerConfig(c),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--time_origin")));
  c = Valid();
  c.memtable_bytes = c.storage_memory_bytes;
  EXPECT_THAT(ValidateServerConfig(c),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--memtable_bytes")));
  c = Valid();
  c.data_dir = "";
  EXPECT_THAT(
      ValidateServerConfig(c),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--data_dir")));
}

TEST(ServerConfigTest, LoopbackDetection) {
  EXPECT_TRUE(IsLoopbackAddress("127.0.0.1:1"));
  EXPECT_TRUE(IsLoopbackAddress("localhost:1"));
  EXPECT_TRUE(IsLoopbackAddress("[::1]:1"));
  EXPECT_FALSE(IsLoopbackAddress("0.0.0.0:1"));
  EXPECT_FALSE(IsLoopbackAddress("[::]:1"));
  EXPECT_FALSE(IsLoopbackAddress("10.1.2.3:1"));
}

}  // namespace
}  // namespace trainyard::server

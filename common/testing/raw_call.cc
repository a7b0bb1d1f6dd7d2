// Copyright 2026 Trainyard authors.
#include "common/testing/raw_call.h"

#include <grpcpp/generic/generic_stub.h>

#include "absl/synchronization/notification.h"

namespace trainyard::testing {
namespace {

grpc::ByteBuffer ToByteBuffer(std::string_view bytes) {
  grpc::Slice slice(bytes.data(), bytes.size());
  return grpc::ByteBuffer(&slice, 1);
}

// Writes one message, half-closes, drains the responses: what a generated
// server-streaming client does, through the generic (bytes) stub.
class OneRequestStream final
    : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  OneRequestStream(grpc::GenericStub& stub, grpc::ClientContext& ctx,
                   const std::string& method, std::string_view request)
      : request_(ToByteBuffer(request)) {
    stub.PrepareBidiStreamingCall(&ctx, method, grpc::StubOptions(), this);
    StartWrite(&request_, grpc::WriteOptions().set_last_message());
    StartRead(&response_);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    if (ok) StartRead(&response_);
  }
  void OnDone(const grpc::Status& status) override {
    status_ = status;
    done_.Notify();
  }

  grpc::Status Wait() {
    done_.WaitForNotification();
    return status_;
  }

 private:
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
  grpc::Status status_;
  absl::Notification done_;
};

}  // namespace

grpc::Status RawUnaryCall(const std::shared_ptr<grpc::Channel>& channel,
                          std::string_view method, std::string_view request,
                          grpc::ClientContext& ctx) {
  grpc::GenericStub stub(channel);
  grpc::ByteBuffer in = ToByteBuffer(request);
  grpc::ByteBuffer out;
  grpc::Status status;
  absl::Notification done;
  stub.UnaryCall(&ctx, std::string(method), grpc::StubOptions(), &in, &out,
                 [&](grpc::Status s) {
                   status = std::move(s);
                   done.Notify();
                 });
  done.WaitForNotification();
  return status;
}

grpc::Status RawServerStreamCall(const std::shared_ptr<grpc::Channel>& channel,
                                 std::string_view method,
                                 std::string_view request,
                                 grpc::ClientContext& ctx) {
  grpc::GenericStub stub(channel);
  OneRequestStream call(stub, ctx, std::string(method), request);
  return call.Wait();
}

}  // namespace trainyard::testing

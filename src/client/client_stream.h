// The client side of one mucp stream, on its own connection: each message is one transport
// message carrying Micro-Stream; go-micro's `Micro-Error: EOS` ends it in either direction.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "micro/client.h"
#include "micro/transport.h"

namespace micro::client_detail {

struct StreamSetup {
  Context ctx;
  std::shared_ptr<Socket> sock;
  std::shared_ptr<const codec::Codec> codec;
  std::string content_type, service, endpoint, id;
  Duration timeout{0};  // per Send/Recv; zero: none
};

class ClientStreamImpl;

std::unique_ptr<ClientStreamImpl> NewClientStream(StreamSetup setup);

class ClientStreamImpl final : public ClientStream {
 public:
  explicit ClientStreamImpl(StreamSetup setup);
  ~ClientStreamImpl() override;

  // Sends the opening message (go-micro servers discard it).
  Status SendOpening(codec::WriteBody body);

  Context& context() override { return s_.ctx; }
  Status SendMsg(const google::protobuf::Message& msg) override;
  bool RecvMsg(google::protobuf::Message& msg) override;
  Status SendFrame(const codec::Frame& frame) override;
  bool RecvFrame(codec::Frame& frame) override;
  Status status() const override;
  Status CloseSend() override;
  Status Close() override;

 private:
  Status Send(codec::WriteBody body, bool eos);
  bool Recv(codec::ReadBody body);
  Status Fail(Status why);  // records the stream's first failure; returns it

  StreamSetup s_;
  mutable std::mutex mu_;  // status_ and closed_: a sender and a receiver thread may share them
  Status status_;
  std::atomic<bool> send_closed_ = false;
  bool closed_ = false;
  uint64_t cancel_id_ = 0;
};

}  // namespace micro::client_detail

// The server side of one mucp stream: messages the connection reads are pushed into an inbox
// that the (blocking) handler drains; the handler's sends go out through the connection's
// send lock. End of stream is go-micro's `Micro-Error: EOS` in either direction.
#pragma once

#include <asio/experimental/channel.hpp>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "micro/codec.h"
#include "micro/handler.h"
#include "micro/transport.h"

namespace micro::server_detail {

// An async mutex for one socket's writes: the I/O coroutine and handler threads both send.
class SendLock {
 public:
  explicit SendLock(const asio::any_io_executor& ex) : channel_(ex, 1) {}
  asio::awaitable<void> Lock();
  void Unlock();

 private:
  asio::experimental::channel<void(std::error_code, int)> channel_;
};

// Sends msg on sock under lock.
asio::awaitable<Status> LockedSend(Socket& sock, SendLock& lock, const Message& msg);

class ServerStreamImpl final : public ServerStream {
 public:
  ServerStreamImpl(Context ctx, std::shared_ptr<Socket> sock, std::shared_ptr<SendLock> lock,
                   std::shared_ptr<const codec::Codec> codec, std::string id, std::string stream_id,
                   std::string content_type);

  Context& context() override { return ctx_; }
  Status SendMsg(const google::protobuf::Message& msg) override;
  bool RecvMsg(google::protobuf::Message& msg) override;
  Status status() const override;

  // From the connection loop: a message for this stream (EOS included).
  void Push(Message msg);
  // The connection ended: wake a waiting RecvMsg with an error.
  void Abort(Error why);
  // The last message, sent once the handler returns: EOS, or the handler's error.
  Message FinalMessage(const Status& handler_status) const;

 private:
  Status SendFrame(Message msg);

  Context ctx_;
  std::shared_ptr<Socket> sock_;
  std::shared_ptr<SendLock> lock_;
  std::shared_ptr<const codec::Codec> codec_;
  std::string id_, stream_id_, content_type_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Message> inbox_;
  bool ended_ = false;          // EOS received
  std::optional<Error> error_;  // failure (connection gone, decode error)
};

}  // namespace micro::server_detail

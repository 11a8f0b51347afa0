#include "server/server_stream.h"

#include <google/protobuf/message.h>

#include <asio/use_awaitable.hpp>

#include "micro/plugin/io.h"

namespace micro::server_detail {

asio::awaitable<void> SendLock::Lock() {
  co_await channel_.async_send(std::error_code{}, 0, asio::use_awaitable);
}

void SendLock::Unlock() {
  channel_.try_receive([](std::error_code, int) {});
}

asio::awaitable<Status> LockedSend(Socket& sock, SendLock& lock, const Message& msg) {
  co_await lock.Lock();
  Status s = co_await sock.Send(msg);
  lock.Unlock();
  co_return s;
}

namespace {
asio::awaitable<Status> SendOn(std::shared_ptr<Socket> sock, std::shared_ptr<SendLock> lock,
                               Message msg) {
  co_return co_await LockedSend(*sock, *lock, msg);
}
}  // namespace

ServerStreamImpl::ServerStreamImpl(Context ctx, std::shared_ptr<Socket> sock,
                                   std::shared_ptr<SendLock> lock,
                                   std::shared_ptr<const codec::Codec> codec, std::string id,
                                   std::string stream_id, std::string content_type)
    : ctx_(std::move(ctx)),
      sock_(std::move(sock)),
      lock_(std::move(lock)),
      codec_(std::move(codec)),
      id_(std::move(id)),
      stream_id_(std::move(stream_id)),
      content_type_(std::move(content_type)) {}

Status ServerStreamImpl::SendFrame(Message msg) {
  if (!id_.empty()) msg.header.Set("Micro-Id", id_);
  msg.header.Set("Micro-Stream", stream_id_);
  return plugin::RunBlocking(sock_->executor(), SendOn(sock_, lock_, std::move(msg)),
                             error_ids::kServer);
}

Status ServerStreamImpl::SendMsg(const google::protobuf::Message& msg) {
  Message out;
  codec::Message head;
  head.type = codec::MessageType::kResponse;
  head.id = id_;
  if (Status s = codec_->Write(head, &msg, out.body); !s) return s;
  out.header = std::move(head.header);
  out.header.Set("Content-Type", content_type_);
  return SendFrame(std::move(out));
}

bool ServerStreamImpl::RecvMsg(google::protobuf::Message& msg) {
  Message in;
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !inbox_.empty() || ended_ || error_; });
    if (inbox_.empty()) return false;
    in = std::move(inbox_.front());
    inbox_.pop_front();
  }
  codec::Message head;
  head.type = codec::MessageType::kRequest;
  head.header = in.header;
  std::string_view payload;
  Status s = codec_->ReadHeader(in.body, head, payload);
  if (s) s = codec_->Read(payload, &msg);
  if (!s) {
    std::lock_guard lock(mu_);
    error_ = s.error();
    return false;
  }
  return true;
}

Status ServerStreamImpl::status() const {
  std::lock_guard lock(mu_);
  if (error_) return *error_;
  return {};
}

void ServerStreamImpl::Push(Message msg) {
  {
    std::lock_guard lock(mu_);
    if (GetHeader(msg.header, "Micro-Error").value_or("") == "EOS") {
      ended_ = true;
    } else if (auto err = GetHeader(msg.header, "Micro-Error"); err && !err->empty()) {
      error_ = Error::Parse(*err);
    } else {
      inbox_.push_back(std::move(msg));
    }
  }
  cv_.notify_all();
}

void ServerStreamImpl::Abort(Error why) {
  {
    std::lock_guard lock(mu_);
    if (!ended_ && !error_) error_ = std::move(why);
  }
  cv_.notify_all();
  ctx_.Cancel();
}

Message ServerStreamImpl::FinalMessage(const Status& handler_status) const {
  Message out;
  const std::string text = handler_status ? "EOS" : handler_status.error().ToJson();
  if (!id_.empty()) out.header.Set("Micro-Id", id_);
  out.header.Set("Micro-Stream", stream_id_);
  out.header.Set("Micro-Error", text);
  if (!handler_status) out.header.Set("X-Micro-Error", text);
  return out;
}

}  // namespace micro::server_detail

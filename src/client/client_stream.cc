#include "client/client_stream.h"

#include <google/protobuf/message.h>

#include "micro/plugin/io.h"

namespace micro::client_detail {

Error ClientError(int code, std::string detail);

namespace {

asio::awaitable<Status> SendOn(std::shared_ptr<Socket> sock, Message msg) {
  co_return co_await sock->Send(msg);
}

asio::awaitable<Status> RecvOn(std::shared_ptr<Socket> sock, Message* msg) {
  co_return co_await sock->Recv(*msg);
}

}  // namespace

std::unique_ptr<ClientStreamImpl> NewClientStream(StreamSetup setup) {
  return std::make_unique<ClientStreamImpl>(std::move(setup));
}

ClientStreamImpl::ClientStreamImpl(StreamSetup setup) : s_(std::move(setup)) {
  cancel_id_ = s_.ctx.OnCancel([sock = s_.sock] { sock->Close(); });
}

ClientStreamImpl::~ClientStreamImpl() {
  (void)Close();
  s_.ctx.RemoveOnCancel(cancel_id_);
}

Status ClientStreamImpl::Send(codec::WriteBody body, bool eos) {
  Message out;
  for (const auto& [k, v] : s_.ctx.metadata()) {
    if (!EqualsIgnoreCase(k, "Micro-Topic")) out.header.Set(k, v);
  }
  codec::Message head;
  head.type = eos ? codec::MessageType::kError : codec::MessageType::kRequest;
  head.id = s_.id;
  head.target = s_.service;
  head.method = head.endpoint = s_.endpoint;
  if (eos) {
    head.error = "EOS";
  } else if (Status s = s_.codec->Write(head, body, out.body); !s) {
    return s;
  }
  for (const auto& [k, v] : head.header) out.header.Set(k, v);
  out.header.Set("Content-Type", s_.content_type);
  out.header.Set("Accept", s_.content_type);
  out.header.Set("Micro-Id", s_.id);
  out.header.Set("Micro-Stream", s_.id);
  out.header.Set("Micro-Service", s_.service);
  out.header.Set("Micro-Method", s_.endpoint);
  out.header.Set("Micro-Endpoint", s_.endpoint);
  if (eos) out.header.Set("Micro-Error", "EOS");
  if (s_.timeout > Duration::zero()) {
    out.header.Set("Timeout", std::to_string(std::chrono::nanoseconds(s_.timeout).count()));
  }
  Status s =
      plugin::RunBlocking(s_.sock->executor(), SendOn(s_.sock, std::move(out)), error_ids::kClient);
  if (!s) {
    return Fail(errors::InternalServerError(error_ids::kClientTransport,
                                            "stream send failed: " + s.error().detail));
  }
  return s;
}

Status ClientStreamImpl::Fail(Status why) {
  std::lock_guard l(mu_);
  if (status_) status_ = std::move(why);
  return status_;
}

Status ClientStreamImpl::status() const {
  std::lock_guard l(mu_);
  return status_;
}

Status ClientStreamImpl::SendOpening(codec::WriteBody body) { return Send(body, false); }

Status ClientStreamImpl::SendMsg(const google::protobuf::Message& msg) {
  if (send_closed_) return ClientError(400, "stream send after CloseSend");
  return Send(&msg, false);
}

Status ClientStreamImpl::SendFrame(const codec::Frame& frame) {
  if (send_closed_) return ClientError(400, "stream send after CloseSend");
  return Send(&frame, false);
}

bool ClientStreamImpl::RecvMsg(google::protobuf::Message& msg) { return Recv(&msg); }

bool ClientStreamImpl::RecvFrame(codec::Frame& frame) { return Recv(&frame); }

bool ClientStreamImpl::Recv(codec::ReadBody body) {
  {
    std::lock_guard l(mu_);
    if (!status_ || closed_) return false;
  }
  Message in;
  Status s = plugin::RunBlocking(s_.sock->executor(), RecvOn(s_.sock, &in), error_ids::kClient);
  if (!s) {
    (void)Fail(s_.ctx.Done() ? ClientError(408, "stream: context deadline exceeded")
                             : ClientError(500, "stream: unexpected end: " + s.error().detail));
    return false;
  }
  if (auto err = GetHeader(in.header, "Micro-Error"); err && !err->empty()) {
    if (*err != "EOS") (void)Fail(Error::Parse(*err));
    std::lock_guard l(mu_);
    closed_ = true;
    return false;
  }
  codec::Message head;
  head.type = codec::MessageType::kResponse;
  head.header = in.header;
  std::string_view payload;
  s = s_.codec->ReadHeader(in.body, head, payload);
  if (s) s = s_.codec->Read(payload, body);
  if (!s) {
    (void)Fail(std::move(s));
    return false;
  }
  return true;
}

Status ClientStreamImpl::CloseSend() {
  if (send_closed_) return {};
  send_closed_ = true;
  return Send({}, true);
}

Status ClientStreamImpl::Close() {
  Status s;
  if (!send_closed_ && status()) s = CloseSend();
  {
    std::lock_guard l(mu_);
    closed_ = true;
  }
  s_.sock->Close();
  return s;
}

}  // namespace micro::client_detail

#include "http/websocket.h"

#include <openssl/evp.h>

#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <optional>

#include "http/websocket_frame.h"
#include "micro/errors.h"
#include "micro/logger.h"
#include "util/base64.h"

namespace micro::http {
namespace websocket_detail {

void FrameDecoder::Feed(const char* data, std::size_t size) {
  if (pos_ > 0 && pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ > 64 * 1024 && pos_ * 2 > buf_.size()) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(data, size);
}

FrameDecoder::Event FrameDecoder::Fail(uint16_t code, std::string why) {
  failed_ = true;
  failure_ = Event{.kind = Event::Kind::kError, .code = code, .error = std::move(why)};
  return failure_;
}

FrameDecoder::Event FrameDecoder::Next() {
  using Kind = Event::Kind;
  if (failed_) return failure_;
  for (;;) {
    const auto* in = reinterpret_cast<const uint8_t*>(buf_.data()) + pos_;
    const std::size_t avail = buf_.size() - pos_;
    if (avail < 2) return {};
    const bool fin = (in[0] & 0x80) != 0;
    const uint8_t opcode = in[0] & 0x0F;
    const bool masked = (in[1] & 0x80) != 0;
    uint64_t length = in[1] & 0x7F;
    if ((in[0] & 0x70) != 0) return Fail(kCloseProtocolError, "reserved bits set");
    const bool control = (opcode & 0x8) != 0;
    if (opcode != kContinuation && opcode != kText && opcode != kBinary && opcode != kClose &&
        opcode != kPing && opcode != kPong) {
      return Fail(kCloseProtocolError, "unknown opcode");
    }
    if (control && (!fin || length > 125)) {
      return Fail(kCloseProtocolError, "fragmented or long control frame");
    }
    if (!masked && require_mask_) return Fail(kCloseProtocolError, "unmasked client frame");
    if (!control) {
      if (opcode == kContinuation && !in_message_) {
        return Fail(kCloseProtocolError, "continuation frame without a message");
      }
      if (opcode != kContinuation && in_message_) {
        return Fail(kCloseProtocolError, "new message before the last one ended");
      }
    }
    std::size_t header = 2;
    if (length == 126) {
      if (avail < 4) return {};
      length = (uint64_t{in[2]} << 8) | in[3];
      header = 4;
    } else if (length == 127) {
      if (avail < 10) return {};
      length = 0;
      for (int i = 2; i < 10; ++i) length = (length << 8) | in[i];
      if ((length >> 63) != 0) return Fail(kCloseProtocolError, "frame length too large");
      header = 10;
    }
    if (!control) {
      const uint64_t so_far = opcode == kContinuation ? message_.size() : 0;
      if (length > max_message_bytes_ || so_far + length > max_message_bytes_) {
        return Fail(kCloseTooBig, "message larger than the limit");
      }
    }
    uint8_t mask[4] = {0, 0, 0, 0};
    if (masked) {
      if (avail < header + 4) return {};
      for (int i = 0; i < 4; ++i) mask[i] = in[header + i];
      header += 4;
    }
    if (avail - header < length) return {};
    const std::size_t n = static_cast<std::size_t>(length);
    const char* payload = buf_.data() + pos_ + header;
    pos_ += header + n;
    // Unmasks the n payload bytes appended to out at `at`.
    auto append = [&](std::string& out) {
      const std::size_t at = out.size();
      out.append(payload, n);
      if (masked) {
        for (std::size_t i = 0; i < n; ++i)
          out[at + i] = static_cast<char>(out[at + i] ^ mask[i & 3]);
      }
    };

    if (control) {
      Event ev;
      append(ev.data);
      if (opcode == kPing) {
        ev.kind = Kind::kPing;
      } else if (opcode == kPong) {
        ev.kind = Kind::kPong;
      } else {
        ev.kind = Kind::kClose;
        if (ev.data.empty()) {
          ev.code = kCloseNoStatus;
        } else if (ev.data.size() == 1) {
          return Fail(kCloseProtocolError, "close frame with a 1-byte payload");
        } else {
          ev.code = static_cast<uint16_t>((static_cast<uint8_t>(ev.data[0]) << 8) |
                                          static_cast<uint8_t>(ev.data[1]));
          const bool valid = (ev.code >= 1000 && ev.code <= 1003) ||
                             (ev.code >= 1007 && ev.code <= 1011) ||
                             (ev.code >= 3000 && ev.code <= 4999);
          if (!valid) return Fail(kCloseProtocolError, "invalid close code");
          ev.data.erase(0, 2);
          if (!IsValidUtf8(ev.data)) return Fail(kCloseInvalidData, "close reason is not UTF-8");
        }
      }
      return ev;
    }
    if (opcode != kContinuation) {
      in_message_ = true;
      message_binary_ = opcode == kBinary;
      message_.clear();
    }
    append(message_);
    if (!fin) continue;
    in_message_ = false;
    if (!message_binary_ && !IsValidUtf8(message_)) {
      return Fail(kCloseInvalidData, "text message is not UTF-8");
    }
    Event ev{.kind = Kind::kMessage, .binary = message_binary_, .data = std::move(message_)};
    message_ = std::string();
    return ev;
  }
}

std::string EncodeFrame(uint8_t opcode, std::string_view payload, bool fin, const uint8_t* mask) {
  std::string out;
  out.reserve(payload.size() + 14);
  out.push_back(static_cast<char>((fin ? 0x80 : 0) | (opcode & 0x0F)));
  const uint8_t mask_bit = mask ? 0x80 : 0;
  if (payload.size() < 126) {
    out.push_back(static_cast<char>(mask_bit | payload.size()));
  } else if (payload.size() <= 0xFFFF) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>(payload.size() >> 8));
    out.push_back(static_cast<char>(payload.size() & 0xFF));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    const uint64_t n = payload.size();
    for (int shift = 56; shift >= 0; shift -= 8)
      out.push_back(static_cast<char>((n >> shift) & 0xFF));
  }
  if (!mask) {
    out.append(payload);
    return out;
  }
  out.append(reinterpret_cast<const char*>(mask), 4);
  const std::size_t at = out.size();
  out.append(payload);
  for (std::size_t i = 0; i < payload.size(); ++i)
    out[at + i] = static_cast<char>(out[at + i] ^ mask[i & 3]);
  return out;
}

std::string ClosePayload(uint16_t code, std::string_view reason) {
  if (reason.size() > 123) {
    std::size_t cut = 123;
    while (cut > 0 && (static_cast<uint8_t>(reason[cut]) & 0xC0) == 0x80) --cut;  // whole chars
    reason = reason.substr(0, cut);
  }
  std::string out;
  out.push_back(static_cast<char>(code >> 8));
  out.push_back(static_cast<char>(code & 0xFF));
  out.append(reason);
  return out;
}

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    const uint8_t c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (n - i < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if (len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) return false;
    if (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) return false;
    i += len;
  }
  return true;
}

// Named, then anonymous: unity batches put several sources in one translation unit.
namespace {

constexpr std::string_view kWsErrorId = "go.micro.websocket";
constexpr auto kWsNoThrow = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::size_t kWsReadChunk = 16 * 1024;
// How long a closing side waits for the peer's close frame (or end of stream).
constexpr auto kLingerTime = std::chrono::seconds(1);

Error ClosedError(uint16_t code, std::string_view reason) {
  return errors::New(
      std::string(kWsErrorId),
      reason.empty() ? fmt::format("closed {}", code) : fmt::format("closed {}: {}", code, reason),
      499);
}

class WebSocketConn final : public WebSocket {
 public:
  WebSocketConn(ByteStream& raw, std::string protocol, std::size_t max_message_bytes)
      : raw_(raw),
        protocol_(std::move(protocol)),
        decoder_(max_message_bytes),
        max_message_bytes_(max_message_bytes),
        write_done_(raw.executor(), TimePoint::max()) {}

  asio::awaitable<Result<WebSocketMessage>> Read() override {
    if (end_) co_return *end_;
    reading_ = true;
    auto result = co_await ReadMessage();
    reading_ = false;
    co_return result;
  }

  asio::awaitable<Status> Write(std::string_view data, bool binary) override {
    if (end_) co_return *end_;
    if (close_sent_) co_return ClosedError(kCloseNormal, "close sent");
    co_return co_await SendFrame(binary ? kBinary : kText, data);
  }

  asio::awaitable<void> Close(uint16_t code, std::string_view reason) override {
    if (!close_sent_ && !end_) {
      close_sent_ = true;
      const std::string payload = ClosePayload(code, reason);
      (void)co_await SendFrame(kClose, payload);
      // The peer answers with its close; wait for it (bounded) unless a Read is waiting too.
      if (!reading_) co_await Linger(decoder_);
    }
    raw_.Close();
    if (!end_) end_ = ClosedError(code, reason);
  }

  const std::string& protocol() const override { return protocol_; }
  uint16_t close_code() const override { return close_code_; }

 private:
  using Kind = FrameDecoder::Event::Kind;

  // No co_await on temporaries or inside a switch here: g++ 12 miscompiles both in coroutines
  // (temporaries destroyed twice).
  asio::awaitable<Result<WebSocketMessage>> ReadMessage() {
    std::string buf;
    for (;;) {
      auto ev = decoder_.Next();
      if (ev.kind == Kind::kMessage) {
        co_return WebSocketMessage{.binary = ev.binary, .data = std::move(ev.data)};
      }
      if (ev.kind == Kind::kPing) {
        if (!close_sent_) (void)co_await SendFrame(kPong, ev.data);
        continue;
      }
      if (ev.kind == Kind::kPong) continue;
      if (ev.kind == Kind::kClose) {
        close_code_ = ev.code;
        if (!close_sent_) {
          close_sent_ = true;
          const std::string payload =
              ev.code == kCloseNoStatus ? std::string() : ClosePayload(ev.code, {});
          (void)co_await SendFrame(kClose, payload);
        }
        raw_.Close();
        end_ = ClosedError(ev.code, ev.data);
        co_return *end_;
      }
      if (ev.kind == Kind::kError) {
        log::Debug("websocket: closing with {}: {}", ev.code, ev.error);
        if (!close_sent_) {
          close_sent_ = true;
          const std::string payload = ClosePayload(ev.code, ev.error);
          (void)co_await SendFrame(kClose, payload);
          // Lets the peer read our close before the socket goes (no reset).
          FrameDecoder after(max_message_bytes_, false);
          co_await Linger(after);
        }
        raw_.Close();
        end_ = errors::BadRequest(std::string(kWsErrorId), "{} (closed {})", ev.error, ev.code);
        co_return *end_;
      }
      if (buf.empty()) buf.resize(kWsReadChunk);
      auto n = co_await raw_.ReadSome(buf.data(), buf.size());
      if (!n.ok() || *n == 0) {
        raw_.Close();
        if (close_sent_ && !end_) {  // Close() ended it
          end_ = ClosedError(kCloseNormal, {});
        } else if (!n.ok()) {
          end_ = errors::InternalServerError(std::string(kWsErrorId), "{}", n.error().detail);
        } else {
          close_code_ = kCloseAbnormal;
          end_ = ClosedError(kCloseAbnormal, "connection closed without a close frame");
        }
        co_return *end_;
      }
      decoder_.Feed(buf.data(), *n);
    }
  }

  // Reads (and drops) what the peer still sends until its close frame, the end of the stream,
  // an error or kLingerTime.
  asio::awaitable<void> Linger(FrameDecoder& decoder) {
    auto alive = std::make_shared<bool>(true);
    asio::steady_timer timer(raw_.executor(), kLingerTime);
    timer.async_wait([alive, &raw = raw_](std::error_code ec) {
      if (!ec && *alive) raw.Close();
    });
    std::string buf(kWsReadChunk, '\0');
    bool discard = false;  // out of step (the rest of a refused frame): drop until the end
    for (;;) {
      if (!discard) {
        auto ev = decoder.Next();
        if (ev.kind == Kind::kClose) {
          close_code_ = ev.code;
          break;
        }
        if (ev.kind == Kind::kError) {
          discard = true;
        } else if (ev.kind != Kind::kNeedMore) {
          continue;
        }
      }
      auto n = co_await raw_.ReadSome(buf.data(), buf.size());
      if (!n.ok() || *n == 0) break;
      if (!discard) decoder.Feed(buf.data(), *n);
    }
    *alive = false;
    timer.cancel();
  }

  // One frame at a time on the stream: Read's pongs and closes may meet a Write.
  asio::awaitable<Status> SendFrame(uint8_t opcode, std::string_view payload) {
    while (writing_) (void)co_await write_done_.async_wait(kWsNoThrow);
    writing_ = true;
    const std::string frame = EncodeFrame(opcode, payload);
    Status s = co_await raw_.Write(frame);
    writing_ = false;
    write_done_.cancel();  // wakes the next writer
    co_return s;
  }

  ByteStream& raw_;
  std::string protocol_;
  FrameDecoder decoder_;
  std::size_t max_message_bytes_;
  asio::steady_timer write_done_;
  bool writing_ = false;
  bool reading_ = false;
  bool close_sent_ = false;
  uint16_t close_code_ = 0;
  std::optional<Error> end_;
};

// Items of a comma-separated header value, trimmed.
std::vector<std::string_view> HeaderItems(std::string_view value) {
  std::vector<std::string_view> items;
  while (!value.empty()) {
    const auto comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (!item.empty()) items.push_back(item);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return items;
}

asio::awaitable<Error> RejectHandshake(ByteStream& raw, const std::string& why) {
  const std::string body = "400 Bad Request: " + why;
  const std::string reply = fmt::format(
      "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
      "Sec-WebSocket-Version: 13\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{}",
      body.size(), body);
  (void)co_await raw.Write(reply);
  co_return errors::BadRequest(std::string(kWsErrorId), "websocket handshake: {}", why);
}

}  // namespace
}  // namespace websocket_detail

std::string WebSocketAccept(std::string_view key) {
  static constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::string text(key);
  text.append(kGuid);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha1(), nullptr);
  return util::Base64Encode(std::string_view(reinterpret_cast<const char*>(digest), size));
}

asio::awaitable<Result<std::unique_ptr<WebSocket>>> AcceptWebSocket(ByteStream& raw,
                                                                    const ServerRequest& request,
                                                                    WebSocketOptions options) {
  using websocket_detail::RejectHandshake;
  const std::string_view key = request.header.GetOr("Sec-WebSocket-Key");
  const auto nonce = util::Base64Decode(key);
  std::string why;
  if (!request.WantsWebSocket()) {
    why = "not a websocket upgrade (GET with Upgrade, Connection, Sec-WebSocket-Key and -Version)";
  } else if (request.header.GetOr("Sec-WebSocket-Version") != "13") {
    why = "unsupported Sec-WebSocket-Version";
  } else if (!nonce || nonce->size() != 16) {
    why = "bad Sec-WebSocket-Key";
  }
  if (!why.empty()) {
    Error e = co_await RejectHandshake(raw, why);
    co_return e;
  }
  // Our preference wins among the subprotocols the client offers.
  std::string protocol;
  const auto offered =
      websocket_detail::HeaderItems(request.header.GetOr("Sec-WebSocket-Protocol"));
  for (const auto& ours : options.protocols) {
    if (std::find(offered.begin(), offered.end(), ours) != offered.end()) {
      protocol = ours;
      break;
    }
  }
  std::string reply = fmt::format(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: {}\r\n",
      WebSocketAccept(key));
  if (!protocol.empty()) reply += fmt::format("Sec-WebSocket-Protocol: {}\r\n", protocol);
  reply += "\r\n";
  Status written = co_await raw.Write(reply);
  if (!written) co_return std::move(written).error();
  co_return std::unique_ptr<WebSocket>(std::make_unique<websocket_detail::WebSocketConn>(
      raw, std::move(protocol), options.max_message_bytes));
}

}  // namespace micro::http

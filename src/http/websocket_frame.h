// RFC 6455 framing without any I/O, so it can be tested and fuzzed on its own: a decoder that
// turns a client's bytes into whole messages and control frames, a frame encoder, and the
// UTF-8 check text messages need.
//
// Threading: a FrameDecoder is used by one coroutine/thread at a time; the functions are pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace micro::http::websocket_detail {

enum Opcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// Close codes we send.
inline constexpr uint16_t kCloseNormal = 1000;
inline constexpr uint16_t kCloseProtocolError = 1002;
inline constexpr uint16_t kCloseNoStatus = 1005;  // received without a code (never sent)
inline constexpr uint16_t kCloseAbnormal = 1006;  // connection lost without a close (never sent)
inline constexpr uint16_t kCloseInvalidData = 1007;
inline constexpr uint16_t kCloseTooBig = 1009;

class FrameDecoder {
 public:
  struct Event {
    enum class Kind { kNeedMore, kMessage, kPing, kPong, kClose, kError };
    Kind kind = Kind::kNeedMore;
    bool binary = false;  // kMessage
    std::string data;     // kMessage: the message; kPing/kPong: payload; kClose: the reason
    // kClose: the peer's code (kCloseNoStatus when it sent none); kError: the code to close
    // with (kCloseProtocolError, kCloseInvalidData or kCloseTooBig).
    uint16_t code = 0;
    std::string error;  // kError: what was wrong
  };

  // Messages (all fragments together) over max_message_bytes are an error (1009), found from
  // a frame's header before its payload is buffered. Clients must mask (require_mask).
  explicit FrameDecoder(std::size_t max_message_bytes, bool require_mask = true)
      : max_message_bytes_(max_message_bytes), require_mask_(require_mask) {}

  // Appends bytes received.
  void Feed(const char* data, std::size_t size);
  // The next message or control frame from what was fed (control frames may come between the
  // fragments of a message). After kError every call returns the same error.
  Event Next();

  // Bytes fed and not decoded yet.
  std::size_t buffered() const { return buf_.size() - pos_; }

 private:
  Event Fail(uint16_t code, std::string why);

  std::size_t max_message_bytes_;
  bool require_mask_;
  std::string buf_;
  std::size_t pos_ = 0;  // decoded up to here
  std::string message_;  // fragments so far
  bool in_message_ = false;
  bool message_binary_ = false;
  bool failed_ = false;
  Event failure_;
};

// One frame (FIN set unless fin is false). A server sends frames unmasked (mask null); a
// client (tests) masks with the 4 bytes at mask.
std::string EncodeFrame(uint8_t opcode, std::string_view payload, bool fin = true,
                        const uint8_t* mask = nullptr);

// A close frame's payload: the code (big-endian) and the reason cut to fit 125 bytes.
std::string ClosePayload(uint16_t code, std::string_view reason);

// RFC 3629 UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool IsValidUtf8(std::string_view s);

}  // namespace micro::http::websocket_detail

// WebSocket frames from the network (http::AcceptWebSocket's peer): the decoder must never
// crash, hold more than its limit, or hand out a text message that is not UTF-8; a message it
// decodes must come back the same after encoding. The first byte picks the options and how
// the rest is split into reads.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "http/websocket_frame.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace micro::http::websocket_detail;
  using Kind = FrameDecoder::Event::Kind;
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  const bool require_mask = (flags & 1) != 0;
  const std::size_t limit = std::size_t{1} << (4 + (flags >> 4));  // 16 B .. 512 KiB
  const std::size_t step = 1 + ((flags >> 1) & 7) * 5;             // bytes per Feed
  const char* in = reinterpret_cast<const char*>(data) + 1;
  std::size_t left = size - 1;
  FrameDecoder decoder(limit, require_mask);
  bool done = false;
  while (!done) {
    auto ev = decoder.Next();
    switch (ev.kind) {
      case Kind::kNeedMore: {
        if (left == 0) {
          done = true;
          break;
        }
        const std::size_t n = left < step ? left : step;
        decoder.Feed(in, n);
        in += n;
        left -= n;
        break;
      }
      case Kind::kMessage: {
        if (ev.data.size() > limit) std::abort();
        if (!ev.binary && !IsValidUtf8(ev.data)) std::abort();
        const uint8_t mask[4] = {1, 2, 3, 4};
        const std::string frame = EncodeFrame(ev.binary ? kBinary : kText, ev.data, true, mask);
        FrameDecoder again(limit);
        again.Feed(frame.data(), frame.size());
        auto back = again.Next();
        if (back.kind != Kind::kMessage || back.data != ev.data || back.binary != ev.binary) {
          std::abort();
        }
        break;
      }
      case Kind::kPing:
      case Kind::kPong:
        if (ev.data.size() > 125) std::abort();
        break;
      case Kind::kClose:
        if (!IsValidUtf8(ev.data)) std::abort();
        done = true;
        break;
      case Kind::kError:
        if (ev.code != kCloseProtocolError && ev.code != kCloseInvalidData &&
            ev.code != kCloseTooBig) {
          std::abort();
        }
        done = true;
        break;
    }
  }
  return 0;
}

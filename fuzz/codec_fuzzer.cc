// Feeds arbitrary bytes to one codec's decoder, as a request and as a response, with and
// without a gRPC :path header. Any input must give ok or an Error: never a crash or a hang.
// Valid decodes are re-encoded and decoded again, which must succeed.
#include <google/protobuf/stubs/logging.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "codec_test.pb.h"
#include "micro/codec.h"

// protobuf logs every string field with invalid UTF-8 it parses to stderr: at a fuzzer's rate
// that logging, not the parsing, is most of the time. Errors still come back as statuses.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto codec = *micro::codec::Lookup(MICRO_FUZZ_CONTENT_TYPE);
  const std::string_view frame(reinterpret_cast<const char*>(data), size);
  for (auto type : {micro::codec::MessageType::kRequest, micro::codec::MessageType::kResponse}) {
    micro::codec::Message msg;
    msg.type = type;
    if (size > 0 && data[0] == '/') msg.header.Set(":path", std::string(frame.substr(0, 40)));
    std::string_view payload;
    if (!codec->ReadHeader(frame, msg, payload)) continue;
    micro::test::Everything decoded;
    if (!codec->Read(payload, &decoded)) continue;
    micro::codec::Frame raw;
    (void)codec->Read(payload, &raw);

    // What decoded must survive a round trip.
    micro::codec::Message out;
    out.type = type;
    out.endpoint = "H.M";
    std::string encoded;
    if (!codec->Write(out, &decoded, encoded)) continue;  // e.g. over the gRPC size limit
    micro::codec::Message in;
    in.type = type;
    in.header = out.header;
    micro::test::Everything again;
    if (!codec->ReadHeader(encoded, in, payload) || !codec->Read(payload, &again)) std::abort();
  }
  return 0;
}

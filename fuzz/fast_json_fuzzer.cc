// Differential: the fast protobuf <-> JSON path (src/codec/fast_json.h) against protobuf's JSON
// utility. Whatever the fast reader accepts, protobuf must read to the same message, and the
// fast writer must write what protobuf writes for it. Any disagreement aborts.
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "codec/fast_json.h"
#include "codec_test.pb.h"

// protobuf logs every string field with invalid UTF-8 it parses to stderr: at a fuzzer's rate
// that logging, not the parsing, is most of the time. Errors still come back as statuses.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  micro::test::Plain fast;
  if (!micro::codec::internal::FastReadJson(json, fast)) return 0;
  micro::test::Plain slow;
  google::protobuf::util::JsonParseOptions parse;
  parse.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(
           google::protobuf::StringPiece(json.data(), json.size()), &slow, parse)
           .ok() ||
      !google::protobuf::util::MessageDifferencer::Equals(fast, slow)) {
    std::abort();
  }
  for (bool original : {false, true}) {
    std::string mine;
    if (!micro::codec::internal::FastAppendJson(fast, {.original_field_names = original}, mine)) {
      continue;  // a non-ASCII string: protobuf's to write
    }
    google::protobuf::util::JsonPrintOptions print;
    print.preserve_proto_field_names = original;
    std::string theirs;
    if (!google::protobuf::util::MessageToJsonString(fast, &theirs, print).ok() || mine != theirs) {
      std::abort();
    }
  }
  return 0;
}

// A fast path between protobuf messages and JSON for the common shapes of RPC messages, beside
// protobuf's JSON utility (google::protobuf::util), which goes through a type resolver and an
// object-writer stack and costs ~3 µs for a 64-byte message and ~1 ms for 64 KiB of bytes.
//
// The fast path covers proto3 messages whose fields are integers, bool, string, bytes and
// nested messages of the same kind, singular or repeated, declared in field-number order
// (no maps, floats, enums, oneofs/optional or well-known types). For those it writes exactly the
// bytes protobuf's utility writes with the same options (tests/unit/fast_json_test.cc and
// fuzz/fast_json_fuzzer.cc compare the two), and reads the strict subset of JSON it writes
// (plus the other integer spellings and both field-name forms). Anything else, it declines and
// the caller uses protobuf's utility, which then also produces the error for bad input.
//
// Threading: stateless apart from a per-thread cache of which message types qualify.
#pragma once

#include <google/protobuf/message.h>

#include <string>
#include <string_view>

#include "micro/codec.h"

namespace micro::codec::internal {

// Appends msg's JSON to out and returns true, or returns false with out unchanged when the
// message (or one of its strings: only ASCII is written here) is not for the fast path.
bool FastAppendJson(const google::protobuf::Message& msg, const JsonOptions& options,
                    std::string& out);

// Decodes json into msg (which the caller has cleared) and returns true, or returns false when
// the type or the text is not for the fast path; msg's content is then unspecified and the
// caller clears it again before using protobuf's utility.
bool FastReadJson(std::string_view json, google::protobuf::Message& msg);

}  // namespace micro::codec::internal

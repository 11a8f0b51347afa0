// Shared body of the HTTP parser fuzz targets (fuzz/http_*_fuzzer.cc). Header-only and
// test-only: nothing in the library includes it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "transport/http_wire.h"

namespace micro::http {

// Our writer's output for m, parsed back, must give m's body: traps otherwise.
inline void CheckRoundTrip(const Message& m, HttpParser::Kind kind) {
  std::string out;
  if (kind == HttpParser::Kind::kRequest) {
    AppendRequestHead(out, "127.0.0.1:1", m.header, m.body.size(), false);
  } else {
    AppendResponseHead(out, &m.header, m.header, m.body.size());
  }
  out += m.body;
  HttpParser again(kind, 1 << 20, 1 << 26);
  Message back;
  again.Start(&back);
  std::size_t used = 0;
  if (again.Parse(out.data(), out.size(), &used) != ParseStatus::kComplete || used != out.size() ||
      back.body != m.body) {
    std::abort();
  }
}

inline void FuzzStream(const uint8_t* data, std::size_t size, HttpParser::Kind kind) {
  if (size == 0) return;
  const std::size_t step = 1 + data[0] % 97;
  const char* p = reinterpret_cast<const char*>(data + 1);
  const std::size_t n = size - 1;
  HttpParser parser(kind, 8192, 1 << 16);
  Message m;
  parser.Start(&m);
  std::size_t off = 0;
  while (off < n) {
    const std::size_t chunk = std::min(step, n - off);
    std::size_t used = 0;
    const ParseStatus st = parser.Parse(p + off, chunk, &used);
    off += used;
    if (st == ParseStatus::kError) return;
    if (st == ParseStatus::kComplete) {
      CheckRoundTrip(m, kind);
      parser.Start(&m);
    } else if (used != chunk) {
      std::abort();  // kNeedMore must consume everything
    }
  }
  if (parser.Finish() == ParseStatus::kComplete) CheckRoundTrip(m, kind);
}

}  // namespace micro::http

// Encodes go-micro's greeter request with every codec micro-cpp knows, decodes it back, and
// prints what travels on the wire. Run: ./codec_example
#include <micro/micro.h>

#include <cctype>
#include <cstdio>
#include <string>

#include "greeter.pb.h"

namespace {

// Printable text as it is, other bytes as \xNN.
std::string Show(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    if (c == '\n') {
      out += "\\n";
    } else if (std::isprint(c)) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace

int main() {
  greeter::Request request;
  request.set_name("John");
  int failures = 0;
  for (const std::string& content_type : micro::codec::ContentTypes()) {
    auto codec = micro::codec::Lookup(content_type);
    micro::codec::Message msg;
    msg.id = "0";
    msg.target = "greeter";
    msg.method = msg.endpoint = "Greeter.Hello";
    std::string frame;
    if (auto s = (*codec)->Write(msg, &request, frame); !s) {
      std::printf("%-26s encode failed: %s\n", content_type.c_str(), s.error().ToJson().c_str());
      ++failures;
      continue;
    }
    micro::codec::Message in;
    in.header = msg.header;
    std::string_view payload;
    greeter::Request back;
    auto s = (*codec)->ReadHeader(frame, in, payload);
    if (s) s = (*codec)->Read(payload, &back);
    const bool ok = s && back.name() == "John";
    failures += ok ? 0 : 1;
    std::printf("%-26s %-8s %s  %s\n", content_type.c_str(),
                std::string((*codec)->String()).c_str(), ok ? "ok  " : "FAIL", Show(frame).c_str());
  }
  auto unknown = micro::codec::Lookup("text/xml");
  std::printf("unknown type -> %s\n", unknown.error().ToJson().c_str());
  std::printf("%s\n",
              failures == 0 ? "codec example: all codecs round-trip" : "codec example: FAILED");
  return failures == 0 ? 0 : 1;
}

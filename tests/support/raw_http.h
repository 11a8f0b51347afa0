// A raw HTTP/1.1 peer for wire tests: bytes written as captured from go-micro, the answer read
// back without our HTTP parser (so a bug there cannot hide itself). Header-only, for tests.
#pragma once

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/streambuf.hpp>
#include <asio/write.hpp>
#include <istream>
#include <map>
#include <string>

#include "micro/metadata.h"

namespace micro::testing {

struct RawResponse {
  std::string status_line;
  std::map<std::string, std::string, CaseInsensitiveLess> headers;
  std::string body;
};

// Reads one response (Content-Length framed) from sock; buf keeps what came after it.
inline RawResponse ReadResponse(asio::ip::tcp::socket& sock, asio::streambuf& buf) {
  RawResponse r;
  asio::read_until(sock, buf, "\r\n\r\n");
  std::istream in(&buf);
  std::getline(in, r.status_line);
  r.status_line.pop_back();  // \r
  std::string line;
  while (std::getline(in, line) && line != "\r") {
    line.pop_back();
    const auto colon = line.find(':');
    r.headers[line.substr(0, colon)] = line.substr(colon + 2);
  }
  const size_t length = std::stoul(r.headers["Content-Length"]);
  if (buf.size() < length) asio::read(sock, buf, asio::transfer_exactly(length - buf.size()));
  r.body.resize(length);
  in.read(r.body.data(), static_cast<std::streamsize>(length));
  return r;
}

// Connects to addr ("127.0.0.1:port"), writes request, reads one response.
inline RawResponse Exchange(const std::string& addr, const std::string& request) {
  asio::io_context io;
  asio::ip::tcp::socket sock(io);
  sock.connect({asio::ip::make_address("127.0.0.1"),
                static_cast<unsigned short>(std::stoi(addr.substr(addr.rfind(':') + 1)))});
  asio::write(sock, asio::buffer(request));
  asio::streambuf buf;
  return ReadResponse(sock, buf);
}

}  // namespace micro::testing

// The captured go-micro v5.5.0 bytes of reference/go-micro-wire.md (connections 0-4),
// generated from its hex dumps. Each exchange: what the Go client sent, what the Go server
// answered.
#pragma once

#include <string_view>
#include <vector>

namespace micro::wire {

struct Exchange {
  std::string_view request;
  std::string_view response;
};

inline constexpr std::string_view kConn0Request0 =
    "POST / HTTP/1.1\r\n"
    "Host: 127.0.0.1:18080\r\n"
    "User-Agent: Go-http-client/1.1\r\n"
    "Content-Length: 16\r\n"
    "Accept: application/json\r\n"
    "Content-Type: application/json\r\n"
    "Micro-Endpoint: Greeter.Hello\r\n"
    "Micro-Id: 0\r\n"
    "Micro-Method: Greeter.Hello\r\n"
    "Micro-Service: greeter\r\n"
    "Timeout: 5000000000\r\n"
    "\r\n"
    "{\"name\":\"John\"}\n";
inline constexpr std::string_view kConn0Response0 =
    "HTTP/1.1 200 OK\r\n"
    "Content-Length: 21\r\n"
    "Accept: application/json\r\n"
    "Content-Type: application/json\r\n"
    "Micro-Endpoint: Greeter.Hello\r\n"
    "Micro-Id: 0\r\n"
    "Micro-Method: Greeter.Hello\r\n"
    "Micro-Service: greeter\r\n"
    "Timeout: 5000000000\r\n"
    "User-Agent: Go-http-client/1.1\r\n"
    "\r\n"
    "{\"msg\":\"Hello John\"}\n";
inline constexpr std::string_view kConn1Request0 =
    "POST / HTTP/1.1\r\n"
    "Host: 127.0.0.1:18080\r\n"
    "User-Agent: Go-http-client/1.1\r\n"
    "Content-Length: 6\r\n"
    "Accept: application/protobuf\r\n"
    "Content-Type: application/protobuf\r\n"
    "Micro-Endpoint: Greeter.Hello\r\n"
    "Micro-Id: 0\r\n"
    "Micro-Method: Greeter.Hello\r\n"
    "Micro-Service: greeter\r\n"
    "Timeout: 5000000000\r\n"
    "\r\n"
    "\n"
    "\x04"
    "John";
inline constexpr std::string_view kConn1Response0 =
    "HTTP/1.1 200 OK\r\n"
    "Content-Length: 12\r\n"
    "Accept: application/protobuf\r\n"
    "Content-Type: application/protobuf\r\n"
    "Micro-Endpoint: Greeter.Hello\r\n"
    "Micro-Id: 0\r\n"
    "Micro-Method: Greeter.Hello\r\n"
    "Micro-Service: greeter\r\n"
    "Timeout: 5000000000\r\n"
    "User-Agent: Go-http-client/1.1\r\n"
    "\r\n"
    "\n"
    "\n"
    "Hello John";
inline constexpr std::string_view kConn2Request0 =
    "POST / HTTP/1.1\r\n"
    "Host: 127.0.0.1:18080\r\n"
    "User-Agent: Go-http-client/1.1\r\n"
    "Content-Length: 16\r\n"
    "Accept: application/json\r\n"
    "Content-Type: application/json\r\n"
    "Micro-Endpoint: Greeter.Hello\r\n"
    "Micro-Id: 0\r\n"
    "Micro-Method: Greeter.Hello\r\n"
    "Micro-Service: greeter\r\n"
    "Timeout: 5000000000\r\n"
    "\r\n"
    "{\"name\":\"John\"}\n";
inline constexpr std::string_view kConn2Response0 =
    "HTTP/1.1 200 OK\r\n"
    "Content-Length: 21\r\n"
    "Accept: application/json\r\n"
    "Content-Type: application/json\r\n"
    "Micro-Endpoint: Greeter.Hello\r\n"
    "Micro-Id: 0\r\n"
    "Micro-Method: Greeter.Hello\r\n"
    "Micro-Service: greeter\r\n"
    "Timeout: 5000000000\r\n"
    "User-Agent: Go-http-client/1.1\r\n"
    "\r\n"
    "{\"msg\":\"Hello John\"}\n";
inline constexpr std::string_view kConn2Request1 =
    "POST / HTTP/1.1\r\n"
    "Host: 127.0.0.1:18080\r\n"
    "User-Agent: Go-http-client/1.1\r\n"
    "Content-Length: 16\r\n"
    "Accept: application/json\r\n"
    "Content-Type: application/json\r\n"
    "Micro-Endpoint: Greeter.Hello\r\n"
    "Micro-Id: 1\r\n"
    "Micro-Method: Greeter.Hello\r\n"
    "Micro-Service: greeter\r\n"
    "Timeout: 5000000000\r\n"
    "\r\n"
    "{\"name\":\"John\"}\n";
inline constexpr std::string_view kConn2Response1 =
    "HTTP/1.1 200 OK\r\n"
    "Content-Length: 21\r\n"
    "Accept: application/json\r\n"
    "Content-Type: application/json\r\n"
    "Micro-Endpoint: Greeter.Hello\r\n"
    "Micro-Id: 0\r\n"
    "Micro-Method: Greeter.Hello\r\n"
    "Micro-Service: greeter\r\n"
    "Timeout: 5000000000\r\n"
    "User-Agent: Go-http-client/1.1\r\n"
    "\r\n"
    "{\"msg\":\"Hello John\"}\n";
inline constexpr std::string_view kConn3Request0 =
    "POST / HTTP/1.1\r\n"
    "Host: 127.0.0.1:18080\r\n"
    "User-Agent: Go-http-client/1.1\r\n"
    "Content-Length: 16\r\n"
    "Accept: application/json\r\n"
    "Content-Type: application/json\r\n"
    "Micro-Endpoint: Greeter.Nope\r\n"
    "Micro-Id: 0\r\n"
    "Micro-Method: Greeter.Nope\r\n"
    "Micro-Service: greeter\r\n"
    "Timeout: 5000000000\r\n"
    "\r\n"
    "{\"name\":\"John\"}\n";
inline constexpr std::string_view kConn3Response0 =
    "HTTP/1.1 200 OK\r\n"
    "Accept: application/json\r\n"
    "Content-Type: application/json\r\n"
    "Micro-Endpoint: Greeter.Nope\r\n"
    "Micro-Error: rpc: can't find method Nope\r\n"
    "Micro-Id: 0\r\n"
    "Micro-Method: Greeter.Nope\r\n"
    "Micro-Service: greeter\r\n"
    "Timeout: 5000000000\r\n"
    "User-Agent: Go-http-client/1.1\r\n"
    "X-Micro-Error: rpc: can't find method Nope\r\n"
    "Content-Length: 0\r\n"
    "\r\n";
inline constexpr std::string_view kConn4Request0 =
    "POST / HTTP/1.1\r\n"
    "Host: 127.0.0.1:18080\r\n"
    "User-Agent: Go-http-client/1.1\r\n"
    "Content-Length: 16\r\n"
    "Accept: application/json\r\n"
    "Content-Type: application/json\r\n"
    "Micro-Endpoint: Greeter.Hello\r\n"
    "Micro-Id: 0\r\n"
    "Micro-Method: Greeter.Hello\r\n"
    "Micro-Service: greeter\r\n"
    "Timeout: 5000000000\r\n"
    "\r\n"
    "{\"name\":\"John\"}\n";
inline constexpr std::string_view kConn4Response0 =
    "HTTP/1.1 200 OK\r\n"
    "Content-Length: 21\r\n"
    "Accept: application/json\r\n"
    "Content-Type: application/json\r\n"
    "Micro-Endpoint: Greeter.Hello\r\n"
    "Micro-Id: 0\r\n"
    "Micro-Method: Greeter.Hello\r\n"
    "Micro-Service: greeter\r\n"
    "Timeout: 5000000000\r\n"
    "User-Agent: Go-http-client/1.1\r\n"
    "\r\n"
    "{\"msg\":\"Hello John\"}\n";

// Every connection's exchanges, in order.
inline const std::vector<std::vector<Exchange>>& Connections() {
  static const std::vector<std::vector<Exchange>> all = {
      {{kConn0Request0, kConn0Response0}},
      {{kConn1Request0, kConn1Response0}},
      {{kConn2Request0, kConn2Response0}, {kConn2Request1, kConn2Response1}},
      {{kConn3Request0, kConn3Response0}},
      {{kConn4Request0, kConn4Response0}},
  };
  return all;
}

}  // namespace micro::wire

// The etcd v3 JSON gateway, as used by the registry: POST JSON to one of several endpoints
// (failing over on connection errors), with an auth token when credentials are given, and
// the streamed /v3/watch. Gateway facts: keys and values are base64; int64 fields are JSON
// strings; fields holding their default are omitted.
//
// Threading: every coroutine runs on executor() (one thread); Post may also be called through
// PostSync from any other thread.
#pragma once

#include <micro/http_client.h>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace micro::etcd_detail {

using Json = nlohmann::json;

std::string Base64Encode(std::string_view in);
// False on malformed input.
bool Base64Decode(std::string_view in, std::string* out);
// An int64 field that etcd writes as a string (or a number); 0 when absent or malformed.
int64_t Int(const Json& object, std::string_view key);
// The end of a prefix range: the prefix with its last byte incremented.
std::string PrefixEnd(std::string prefix);

struct GatewayOptions {
  std::vector<std::string> endpoints;  // "host:port"
  bool secure = false;
  TlsOptions tls{};
  Duration timeout = std::chrono::seconds(5);
  std::string username;
  std::string password;
  asio::any_io_executor executor;
};

class Gateway {
 public:
  explicit Gateway(GatewayOptions options);

  // POST path with body; the decoded JSON answer of a 200, else an Error.
  asio::awaitable<Result<Json>> Post(std::string path, Json body);
  Result<Json> PostSync(std::string path, Json body);

  // One /v3/watch stream on the current endpoint; each decoded line goes to on_line (return
  // false to end). Ends when the stream does, on error, or when ctx is cancelled.
  asio::awaitable<Status> Watch(Json create_request, Context ctx,
                                std::function<bool(const Json& line)> on_line);
  // After a failed watch: move on to the next endpoint and refresh the auth token.
  asio::awaitable<void> Rotate();

  const asio::any_io_executor& executor() const { return options_.executor; }
  const GatewayOptions& options() const { return options_; }

 private:
  asio::awaitable<Status> Authenticate();
  http::Request MakeRequest(std::string path, std::string body);
  std::size_t current();

  GatewayOptions options_;
  http::Client client_;
  std::mutex mu_;
  std::size_t current_ = 0;  // the endpoint that answered last
  std::string token_;
};

}  // namespace micro::etcd_detail

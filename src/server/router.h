// The mucp router: finds the endpoint a request names, decodes it with the request's codec,
// runs the handler (through the wrappers) and encodes the answer, with go-micro's error texts.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "micro/codec.h"
#include "micro/handler.h"
#include "micro/transport.h"
#include "util/worker_pool.h"

namespace micro::server_detail {

// A request's routing fields, read from the transport headers as go-micro does (Micro-* with
// the X-Micro-* fallback; Micro-Endpoint falls back to Micro-Method).
struct RouteInfo {
  std::string id, service, method, endpoint, content_type, stream;
  bool legacy = false;  // no routing headers, or Micro-Target: a json-rpc/proto-rpc client
};
RouteInfo ReadRouteInfo(const Metadata& header);

// The codec for a request's content type (legacy clients get json-rpc / proto-rpc), or an
// "unsupported Content-Type" error.
Result<std::shared_ptr<const codec::Codec>> RequestCodec(const RouteInfo& route);

// The plain-text answer go-micro gives a request whose Content-Type it cannot decode.
Message UnsupportedContentType(std::string_view content_type);

// An error answer: empty body (or the codec's error envelope), Micro-Error and X-Micro-Error.
Message ErrorResponse(const codec::Codec* codec, const RouteInfo& route, std::string error_text);

// The context a handler gets: deadline from the `Timeout` header (nanoseconds), metadata =
// every request header plus Local and Remote.
Context RequestContext(const Metadata& header, std::string_view local, std::string_view remote);

struct RouterOptions {
  std::string server_name;                   // the error id of handler failures
  std::vector<HandlerWrapper> wrappers;      // first is outermost
  util::WorkerPool* handler_pool = nullptr;  // where sync handlers run; outlives the router
  bool inline_handlers = false;              // every sync unary handler is non-blocking
};

class Router {
 public:
  explicit Router(RouterOptions options) : options_(std::move(options)) {}

  // Adds a handler (see Server::Handle for the rules).
  Status Add(Handler handler);

  // The endpoint for "Handler.Method", or go-micro's plain-text error.
  Result<const Endpoint*> Find(std::string_view endpoint) const;

  // Serves one unary request and returns the answer to send. The request's header is borrowed
  // (moved out and back, not copied) while the codec reads it; both are unchanged afterwards.
  asio::awaitable<Message> ServeUnary(Message& request, std::string_view local,
                                      std::string_view remote);

  // Handlers that are advertised, sorted by name.
  std::vector<const Handler*> Advertised() const;

  // Runs fn on the handler pool; the calling coroutine resumes on its own executor. fn is
  // borrowed: it lives in the caller's frame until the result is back. An exception escaping
  // fn becomes a 500. A long fn (a sync stream handler, which may wait on its client for as
  // long as the stream stays open) gets a thread of its own from the pool, outside the
  // handler_threads limit, so open streams never starve unary handlers.
  template <class Fn>
  asio::awaitable<Status> OnPool(Fn& fn, bool long_running = false) const {
    return asio::async_initiate<const asio::use_awaitable_t<>&, void(Status)>(
        [this, &fn, long_running](auto handler) {
          this->PostToPool(fn, std::move(handler), long_running);
        },
        asio::use_awaitable);
  }

 private:
  struct Entry {
    Handler handler;
    std::map<std::string, HandlerFunc, std::less<>> chains;  // method -> wrapped unary call
  };
  HandlerFunc Innermost(const Endpoint& endpoint) const;

  // One post to the pool and one back to the awaiting coroutine's executor: no coroutine frame
  // or std::function per call (this hop is on every sync call's path).
  template <class Fn, class CompletionHandler>
  void PostToPool(Fn& fn, CompletionHandler handler, bool long_running) const {
    auto task = [this, &fn, handler = std::move(handler)]() mutable {
      Status status = RunGuarded(fn);
      const auto ex = asio::get_associated_executor(handler);
      asio::post(ex, [handler = std::move(handler), status = std::move(status)]() mutable {
        std::move(handler)(std::move(status));
      });
    };
    if (long_running) {
      options_.handler_pool->PostLong(std::move(task));
    } else {
      options_.handler_pool->Post(std::move(task));
    }
  }
  template <class Fn>
  Status RunGuarded(Fn& fn) const {
    try {
      return fn();
    } catch (const std::exception& e) {
      return errors::InternalServerError(options_.server_name, e.what());
    } catch (...) {
      return errors::InternalServerError(options_.server_name,
                                         "handler threw a non-standard exception");
    }
  }

  RouterOptions options_;
  mutable std::shared_mutex mu_;
  std::map<std::string, std::unique_ptr<Entry>, std::less<>> handlers_;
};

}  // namespace micro::server_detail

// Definition of micro::CallWithCallback (kept apart so client.h stays light to read).
#pragma once

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>

namespace micro {

template <class Rsp, class Req>
void CallWithCallback(Client& client, Context ctx, std::string service, std::string endpoint,
                      Req req, std::function<void(Result<Rsp>)> done, CallOptions opts) {
  asio::co_spawn(
      client.executor(),
      [](Client& c, Context context, std::string svc, std::string ep, Req request,
         std::function<void(Result<Rsp>)> callback, CallOptions o) -> asio::awaitable<void> {
        callback(co_await AsyncCall<Rsp>(c, std::move(context), std::move(svc), std::move(ep),
                                         std::move(request), std::move(o)));
      }(client, std::move(ctx), std::move(service), std::move(endpoint), std::move(req),
                                                                   std::move(done),
                                                                   std::move(opts)),
      asio::detached);
}

}  // namespace micro

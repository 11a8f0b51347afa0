#include "writers.h"

namespace micro::codegen {
namespace {

using google::protobuf::io::Printer;

bool HasUnary(const File& file) {
  for (const Service& s : file.services) {
    for (const Method& m : s.methods) {
      if (m.kind == MethodKind::kUnary) return true;
    }
  }
  return false;
}

// File-local helpers: a coroutine call that owns everything it uses (client included), and
// the callback form on top of it.
void WriteHelpers(Printer& p) {
  p.Print(
      "namespace {\n"
      "\n"
      "template <class Rsp, class Req>\n"
      "::asio::awaitable<::micro::Result<Rsp>> OwningAsyncCall(\n"
      "    ::std::shared_ptr<::micro::Client> client, ::micro::Context ctx, ::std::string "
      "service,\n"
      "    ::std::string_view endpoint, Req req, ::micro::CallOptions opts) {\n"
      "  ::std::string ep(endpoint);\n"
      "  ::micro::Result<Rsp> result = co_await ::micro::AsyncCall<Rsp>(\n"
      "      *client, ::std::move(ctx), ::std::move(service), ::std::move(ep), ::std::move(req),\n"
      "      ::std::move(opts));\n"
      "  co_return result;\n"
      "}\n"
      "\n"
      "template <class Rsp>\n"
      "void SpawnWithCallback(const ::std::shared_ptr<::micro::Client>& client,\n"
      "                       ::asio::awaitable<::micro::Result<Rsp>> call,\n"
      "                       ::std::function<void(::micro::Result<Rsp>)> done) {\n"
      "  ::asio::co_spawn(\n"
      "      client->executor(),\n"
      "      [](::asio::awaitable<::micro::Result<Rsp>> c,\n"
      "         ::std::function<void(::micro::Result<Rsp>)> d) -> ::asio::awaitable<void> {\n"
      "        ::micro::Result<Rsp> result = co_await ::std::move(c);\n"
      "        if (d) d(::std::move(result));\n"
      "      }(::std::move(call), ::std::move(done)),\n"
      "      ::asio::detached);\n"
      "}\n"
      "\n"
      "}  // namespace\n"
      "\n");
}

void WriteClientMethodDefinition(const Service& s, const Method& m, Printer& p) {
  Vars v = MethodVars(s, m);
  v["cls"] = s.name + "Service";
  switch (m.kind) {
    case MethodKind::kUnary:
      p.Print(
          v,
          "::micro::Result<$rsp$> $cls$::$name$(\n"
          "    const $req$& req, const ::micro::CallOptions& opts) {\n"
          "  ::micro::Context ctx;\n"
          "  return $name$(ctx, req, opts);\n"
          "}\n"
          "\n"
          "::micro::Result<$rsp$> $cls$::$name$(\n"
          "    ::micro::Context& ctx, const $req$& req, const ::micro::CallOptions& opts) {\n"
          "  return ::micro::Call<$rsp$>(*client_, ctx, service_name_, ::std::string($const$),\n"
          "      req, opts);\n"
          "}\n"
          "\n"
          "::asio::awaitable<::micro::Result<$rsp$>> $cls$::Async$name$(const $req$& req) {\n"
          "  ::micro::CallOptions opts;\n"
          "  return Async$name$(::micro::Context(), req, opts);\n"
          "}\n"
          "\n"
          "::asio::awaitable<::micro::Result<$rsp$>> $cls$::Async$name$(\n"
          "    const $req$& req, const ::micro::CallOptions& opts) {\n"
          "  return Async$name$(::micro::Context(), req, opts);\n"
          "}\n"
          "\n"
          "::asio::awaitable<::micro::Result<$rsp$>> $cls$::Async$name$(\n"
          "    const ::micro::Context& ctx, const $req$& req) {\n"
          "  ::micro::CallOptions opts;\n"
          "  return Async$name$(ctx, req, opts);\n"
          "}\n"
          "\n"
          "::asio::awaitable<::micro::Result<$rsp$>> $cls$::Async$name$(\n"
          "    const ::micro::Context& ctx, const $req$& req, const ::micro::CallOptions& opts) {\n"
          "  return OwningAsyncCall<$rsp$>(client_, ctx, service_name_, $const$, req, opts);\n"
          "}\n"
          "\n"
          "void $cls$::$name$(const $req$& req,\n"
          "    ::std::function<void(::micro::Result<$rsp$>)> done, ::micro::CallOptions opts) {\n"
          "  $name$(::micro::Context(), req, ::std::move(done), ::std::move(opts));\n"
          "}\n"
          "\n"
          "void $cls$::$name$(::micro::Context ctx, const $req$& req,\n"
          "    ::std::function<void(::micro::Result<$rsp$>)> done, ::micro::CallOptions opts) {\n"
          "  SpawnWithCallback<$rsp$>(client_, Async$name$(ctx, req, opts), ::std::move(done));\n"
          "}\n"
          "\n");
      break;
    case MethodKind::kServerStream:
      p.Print(v,
              "::micro::Result<$stream$> $cls$::$name$(\n"
              "    ::micro::Context& ctx, const $req$& req, const ::micro::CallOptions& opts) {\n"
              "  auto stream = ::micro::OpenStream<$req$, $rsp$>(*client_, ctx,\n"
              "      service_name_, ::std::string($const$), opts);\n"
              "  if (!stream) return stream;\n"
              "  if (::micro::Status sent = stream->Send(req); !sent) {\n"
              "    (void)stream->Close();\n"
              "    return sent;\n"
              "  }\n"
              "  return stream;\n"
              "}\n"
              "\n"
              "::micro::Result<$stream$> $cls$::$name$(\n"
              "    const $req$& req, const ::micro::CallOptions& opts) {\n"
              "  ::micro::Context ctx;\n"
              "  return $name$(ctx, req, opts);\n"
              "}\n"
              "\n");
      break;
    case MethodKind::kClientStream:
    case MethodKind::kBidiStream:
      p.Print(v,
              "::micro::Result<$stream$> $cls$::$name$(\n"
              "    ::micro::Context& ctx, const ::micro::CallOptions& opts) {\n"
              "  return ::micro::OpenStream<$req$, $rsp$>(*client_, ctx, service_name_,\n"
              "      ::std::string($const$), opts);\n"
              "}\n"
              "\n"
              "::micro::Result<$stream$> $cls$::$name$(\n"
              "    const ::micro::CallOptions& opts) {\n"
              "  ::micro::Context ctx;\n"
              "  return $name$(ctx, opts);\n"
              "}\n"
              "\n");
      break;
  }
}

void WriteEndpoint(const Service& s, const Method& m, bool async, Printer& p) {
  const Vars v = MethodVars(s, m);
  switch (m.kind) {
    case MethodKind::kUnary:
      p.Print(v, async ? "  h.endpoints.push_back(::micro::AsyncUnaryEndpoint<$req$, $rsp$>(\n"
                       : "  h.endpoints.push_back(::micro::UnaryEndpoint<$req$, $rsp$>(\n");
      p.Print(v,
              "      ::std::string($const$),\n"
              "      [handler](::micro::Context& ctx, const $req$& req, $rsp$& rsp) {\n"
              "        return handler->$name$(ctx, req, rsp);\n"
              "      }));\n");
      break;
    case MethodKind::kServerStream:
      p.Print(v,
              "  h.endpoints.push_back(::micro::StreamEndpoint<$req$, $rsp$>(\n"
              "      ::std::string($const$), ::micro::StreamKind::$kind$,\n"
              "      [handler](::micro::Context& ctx, $server_stream$& stream) {\n"
              "        $req$ req;  // the client's one request follows the opening message\n"
              "        if (!stream.Recv(req)) {\n"
              "          ::micro::Status status = stream.status();\n"
              "          if (!status) return status;\n"
              "          return ::micro::Status(::micro::errors::BadRequest(\n"
              "              ::std::string($const$), \"stream ended before the request\"));\n"
              "        }\n"
              "        return handler->$name$(ctx, req, stream);\n"
              "      }));\n");
      break;
    case MethodKind::kClientStream:
    case MethodKind::kBidiStream:
      p.Print(v,
              "  h.endpoints.push_back(::micro::StreamEndpoint<$req$, $rsp$>(\n"
              "      ::std::string($const$), ::micro::StreamKind::$kind$,\n"
              "      [handler](::micro::Context& ctx, $server_stream$& stream) {\n"
              "        return handler->$name$(ctx, stream);\n"
              "      }));\n");
      break;
  }
}

void WriteRegistration(const Service& s, bool async, Printer& p) {
  const Vars v = {{"service", s.name},
                  {"hconst", HandlerNameConstant(s)},
                  {"iface", s.name + (async ? "AsyncHandler" : "Handler")}};
  p.Print(v,
          "::micro::Handler New$service$Handler(::std::shared_ptr<$iface$> handler,\n"
          "    const ::micro::HandlerOptions& opts) {\n"
          "  ::micro::Handler h;\n"
          "  h.name = ::std::string($hconst$);\n");
  if (s.methods.empty()) p.Print("  (void)handler;\n");
  for (const Method& m : s.methods) WriteEndpoint(s, m, async, p);
  p.Print(v,
          "  ::micro::ApplyHandlerOptions(h, opts);\n"
          "  return h;\n"
          "}\n"
          "\n"
          "::micro::Status Register$service$Handler(::micro::Server& server,\n"
          "    ::std::shared_ptr<$iface$> handler, ::micro::HandlerOptions opts) {\n"
          "  if (!handler) {\n"
          "    return ::micro::errors::BadRequest(::std::string($hconst$), \"handler is null\");\n"
          "  }\n"
          "  return server.Handle(New$service$Handler(::std::move(handler), opts));\n"
          "}\n"
          "\n");
}

}  // namespace

void WriteSource(const File& file, Printer& p) {
  p.Print(
      "// Generated by protoc-gen-micro from $proto$. DO NOT EDIT.\n"
      "#include \"$stem$.micro.h\"\n",
      "proto", file.proto, "stem", file.stem);
  if (file.services.empty()) return;
  p.Print(
      "\n"
      "#include <micro/errors.h>\n"
      "\n"
      "#include <asio/co_spawn.hpp>\n"
      "#include <asio/detached.hpp>\n"
      "#include <utility>\n"
      "\n"
      "// g++ 11-12 report asio's coroutine frame allocation (its own operator new/delete pair)\n"
      "// as mismatched when inlining; a false positive.\n"
      "#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11\n"
      "#pragma GCC diagnostic ignored \"-Wmismatched-new-delete\"\n"
      "#endif\n"
      "\n");
  OpenNamespace(file, p);
  if (HasUnary(file)) WriteHelpers(p);
  for (const Service& s : file.services) {
    p.Print("// ---- service $service$ ----\n\n", "service", s.name);
    p.Print(
        "$service$Service::$service$Service(::std::string service_name,\n"
        "    ::std::shared_ptr<::micro::Client> client)\n"
        "    : service_name_(::std::move(service_name)), client_(::std::move(client)) {}\n"
        "\n",
        "service", s.name);
    for (const Method& m : s.methods) WriteClientMethodDefinition(s, m, p);
    WriteRegistration(s, false, p);
    WriteRegistration(s, true, p);
  }
  CloseNamespace(file, p);
}

}  // namespace micro::codegen

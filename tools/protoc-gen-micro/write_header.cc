#include "writers.h"

namespace micro::codegen {
namespace {

using google::protobuf::io::Printer;

void WriteConstants(const Service& s, Printer& p) {
  p.Print(
      "// The handler name and endpoint names of $service$ (\"Handler.Method\", as go-micro).\n"
      "inline constexpr ::std::string_view $hconst$ = \"$service$\";\n",
      "service", s.name, "hconst", HandlerNameConstant(s));
  for (const Method& m : s.methods) {
    p.Print(MethodVars(s, m), "inline constexpr ::std::string_view $const$ = \"$endpoint$\";\n");
  }
  p.Print("\n");
}

void WriteClientMethodDeclaration(const Service& s, const Method& m, Printer& p) {
  const Vars v = MethodVars(s, m);
  p.Print(v, "  // $endpoint$ ($kind_text$).\n");
  if (m.deprecated) p.Print("  // Deprecated in the .proto file.\n");
  switch (m.kind) {
    case MethodKind::kUnary:
      p.Print(
          v,
          "  virtual ::micro::Result<$rsp$> $name$(\n"
          "      const $req$& req, ::micro::CallArgs args = {});\n"
          "  ::asio::awaitable<::micro::Result<$rsp$>> Async$name$(\n"
          "      const $req$& req, ::micro::CallArgs args = {});\n"
          "  void $name$(const $req$& req, ::std::function<void(::micro::Result<$rsp$>)> done,\n"
          "      ::micro::CallArgs args = {});\n");
      break;
    case MethodKind::kServerStream:
      p.Print(v,
              "  // Opens the stream and sends req; then Recv until it returns false.\n"
              "  virtual ::micro::Result<$stream$> $name$(\n"
              "      const $req$& req, ::micro::CallArgs args = {});\n");
      break;
    case MethodKind::kClientStream:
    case MethodKind::kBidiStream:
      p.Print(v,
              "  // Opens the stream (its own connection): Send, Recv, CloseSend, Close.\n"
              "  virtual ::micro::Result<$stream$> $name$(::micro::CallArgs args = {});\n");
      break;
  }
}

void WriteClient(const Service& s, Printer& p) {
  p.Print(
      "// Typed client of the $service$ handler of a service (go-micro's New$service$Service).\n"
      "//\n"
      "//   $service$Service client(\"service.name\", micro_client);\n"
      "//   auto rsp = client.Method(req);                 // micro::Result<Response>\n"
      "//   auto rsp2 = co_await client.AsyncMethod(req);  // on an I/O executor\n"
      "//   client.Method(req, [](micro::Result<Response> r) { ... });  // callback\n"
      "//\n"
      "// Each form takes a micro::CallArgs last: a context, named options, both ({ctx, opts}) or\n"
      "// neither (a background context and the client's defaults). Sync forms block the caller\n"
      "// (from an I/O thread they fail at once); Async forms are coroutines for an I/O executor;\n"
      "// callback forms run `done` on an I/O thread. The request, context and options are copied\n"
      "// when an Async or callback call is made, and the client is kept alive until it "
      "completes.\n"
      "// Stream methods open a stream on its own connection (go-micro's opening message is an\n"
      "// empty placeholder). The sync methods are virtual so tests can mock them\n"
      "// (Mock$service$Service in the .micro.mock.h file).\n"
      "class $service$Service {\n"
      " public:\n"
      "  // service_name: the registered name of the service to call; client: not null.\n"
      "  $service$Service(::std::string service_name, ::std::shared_ptr<::micro::Client> client);\n"
      "  virtual ~$service$Service() = default;\n"
      "\n"
      "  const ::std::string& service_name() const { return service_name_; }\n"
      "  const ::std::shared_ptr<::micro::Client>& client() const { return client_; }\n",
      "service", s.name);
  for (const Method& m : s.methods) {
    p.Print("\n");
    WriteClientMethodDeclaration(s, m, p);
  }
  p.Print(
      "\n"
      " private:\n"
      "  ::std::string service_name_;\n"
      "  ::std::shared_ptr<::micro::Client> client_;\n"
      "};\n\n");
}

void WriteHandlerMethod(const Service& s, const Method& m, bool async, Printer& p) {
  const Vars v = MethodVars(s, m);
  p.Print(v, "  // $endpoint$ ($kind_text$)");
  switch (m.kind) {
    case MethodKind::kUnary:
      p.Print(v, async ? ".\n  virtual ::asio::awaitable<::micro::Status> $name$("
                       : ".\n  virtual ::micro::Status $name$(");
      p.Print(v, "::micro::Context& ctx, const $req$& req,\n      $rsp$& rsp) = 0;\n");
      break;
    case MethodKind::kServerStream:
      p.Print(v,
              ": req is the client's request; Send replies.\n"
              "  // Returning ends the stream (EOS), or sends the error.\n"
              "  virtual ::micro::Status $name$(::micro::Context& ctx, const $req$& req,\n"
              "      $server_stream$& stream) = 0;\n");
      break;
    case MethodKind::kClientStream:
      p.Print(v,
              ": Recv until it returns false (the client\n"
              "  // ended its side), Send the reply. Returning ends the stream (EOS).\n"
              "  virtual ::micro::Status $name$(::micro::Context& ctx,\n"
              "      $server_stream$& stream) = 0;\n");
      break;
    case MethodKind::kBidiStream:
      p.Print(v,
              ": Recv (false once the client ended its side)\n"
              "  // and Send in any order. Returning ends the stream (EOS).\n"
              "  virtual ::micro::Status $name$(::micro::Context& ctx,\n"
              "      $server_stream$& stream) = 0;\n");
      break;
  }
}

void WriteHandlers(const Service& s, Printer& p) {
  p.Print(
      "// Server side of $service$, sync: methods run on the server's handler pool and may block.\n"
      "// Return {} or a micro::Error (e.g. micro::errors::BadRequest(...)); a throw becomes a "
      "500.\n"
      "class $service$Handler {\n"
      " public:\n"
      "  virtual ~$service$Handler() = default;\n",
      "service", s.name);
  for (const Method& m : s.methods) WriteHandlerMethod(s, m, false, p);
  p.Print(
      "};\n\n"
      "// Server side of $service$ with coroutine unary methods: they run on the I/O threads and\n"
      "// must not block, only co_await. Stream methods are sync, as in $service$Handler.\n"
      "class $service$AsyncHandler {\n"
      " public:\n"
      "  virtual ~$service$AsyncHandler() = default;\n",
      "service", s.name);
  for (const Method& m : s.methods) WriteHandlerMethod(s, m, true, p);
  p.Print("};\n\n");
}

void WriteRegistration(const Service& s, Printer& p) {
  p.Print(
      "// The micro::Handler \"$service$\" serving `handler` (not null): one endpoint per method,\n"
      "// with its kind and request/response descriptors (the registry's endpoint descriptions),\n"
      "// stream endpoints with metadata stream=true. What Register$service$Handler hands to\n"
      "// Server::Handle; useful for tests and tools.\n"
      "::micro::Handler New$service$Handler(::std::shared_ptr<$service$Handler> handler,\n"
      "    const ::micro::HandlerOptions& opts = {});\n"
      "::micro::Handler New$service$Handler(::std::shared_ptr<$service$AsyncHandler> handler,\n"
      "    const ::micro::HandlerOptions& opts = {});\n"
      "\n"
      "// go-micro's Register$service$Handler: serves `handler` on `server` as \"$service$\" "
      "(call\n"
      "// before Start). Fails when handler is null or the server refuses the handler.\n"
      "::micro::Status Register$service$Handler(::micro::Server& server,\n"
      "    ::std::shared_ptr<$service$Handler> handler, ::micro::HandlerOptions opts = {});\n"
      "::micro::Status Register$service$Handler(::micro::Server& server,\n"
      "    ::std::shared_ptr<$service$AsyncHandler> handler, ::micro::HandlerOptions opts = {});\n"
      "\n",
      "service", s.name);
}

}  // namespace

void WriteHeader(const File& file, Printer& p) {
  p.Print(
      "// Generated by protoc-gen-micro from $proto$. DO NOT EDIT.\n"
      "//\n"
      "// Per service X: endpoint names (kXMethodEndpoint = \"X.Method\"), the typed client\n"
      "// XService, the handler interfaces XHandler (sync) and XAsyncHandler (coroutine), and\n"
      "// NewXHandler / RegisterXHandler. gmock mocks are in $stem$.micro.mock.h.\n"
      "#pragma once\n"
      "\n"
      "#include \"$stem$.pb.h\"\n",
      "proto", file.proto, "stem", file.stem);
  if (file.services.empty()) return;
  p.Print(
      "\n"
      "#include <micro/client.h>\n"
      "#include <micro/context.h>\n"
      "#include <micro/generated.h>\n"
      "#include <micro/handler.h>\n"
      "#include <micro/server.h>\n"
      "#include <micro/status.h>\n"
      "\n"
      "#include <asio/awaitable.hpp>\n"
      "#include <functional>\n"
      "#include <memory>\n"
      "#include <string>\n"
      "#include <string_view>\n"
      "\n");
  OpenNamespace(file, p);
  for (const Service& s : file.services) {
    p.Print("// ---- service $service$ ----\n\n", "service", s.name);
    WriteConstants(s, p);
    WriteClient(s, p);
    WriteHandlers(s, p);
    WriteRegistration(s, p);
  }
  CloseNamespace(file, p);
}

}  // namespace micro::codegen

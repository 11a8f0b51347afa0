#include "writers.h"

namespace micro::codegen {
namespace {

using google::protobuf::io::Printer;

void WriteClientMethodDefinition(const Service& s, const Method& m, Printer& p) {
  Vars v = MethodVars(s, m);
  v["cls"] = s.name + "Service";
  switch (m.kind) {
    case MethodKind::kUnary:
      p.Print(
          v,
          "::micro::Result<$rsp$> $cls$::$name$(\n"
          "    const $req$& req, ::micro::CallArgs args) {\n"
          "  return ::micro::generated::Call<$rsp$>(*client_, service_name_, $const$, req, args);\n"
          "}\n"
          "\n"
          "::asio::awaitable<::micro::Result<$rsp$>> $cls$::Async$name$(\n"
          "    const $req$& req, ::micro::CallArgs args) {\n"
          "  return ::micro::generated::AsyncCall<$rsp$>(client_, service_name_, $const$, req,\n"
          "      args);\n"
          "}\n"
          "\n"
          "void $cls$::$name$(const $req$& req,\n"
          "    ::std::function<void(::micro::Result<$rsp$>)> done, ::micro::CallArgs args) {\n"
          "  ::micro::generated::CallWithCallback<$rsp$>(client_, service_name_, $const$, req,\n"
          "      ::std::move(done), args);\n"
          "}\n"
          "\n");
      break;
    case MethodKind::kServerStream:
      p.Print(
          v,
          "::micro::Result<$stream$> $cls$::$name$(\n"
          "    const $req$& req, ::micro::CallArgs args) {\n"
          "  return ::micro::generated::OpenServerStream<$req$, $rsp$>(*client_, service_name_,\n"
          "      $const$, req, args);\n"
          "}\n"
          "\n");
      break;
    case MethodKind::kClientStream:
    case MethodKind::kBidiStream:
      p.Print(v,
              "::micro::Result<$stream$> $cls$::$name$(::micro::CallArgs args) {\n"
              "  return ::micro::generated::OpenStream<$req$, $rsp$>(*client_, service_name_,\n"
              "      $const$, args);\n"
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
      "#include <micro/generated.h>\n"
      "\n"
      "#include <utility>\n"
      "\n"
      "// g++ 11-12 report asio's coroutine frame allocation (its own operator new/delete pair)\n"
      "// as mismatched when inlining; a false positive.\n"
      "#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11\n"
      "#pragma GCC diagnostic ignored \"-Wmismatched-new-delete\"\n"
      "#endif\n"
      "\n");
  OpenNamespace(file, p);
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

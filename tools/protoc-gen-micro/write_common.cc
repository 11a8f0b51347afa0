#include "writers.h"

namespace micro::codegen {

Vars MethodVars(const Service& service, const Method& method) {
  return {
      {"service", service.name},
      {"name", method.name},
      {"endpoint", method.endpoint},
      {"req", method.request},
      {"rsp", method.response},
      {"kind", StreamKindName(method.kind)},
      {"kind_text", KindDescription(method.kind)},
      {"const", "k" + service.name + method.name + "Endpoint"},
      {"stream", "::micro::TypedClientStream<" + method.request + ", " + method.response + ">"},
      {"server_stream",
       "::micro::TypedServerStream<" + method.request + ", " + method.response + ">"},
  };
}

std::string HandlerNameConstant(const Service& service) {
  return "k" + service.name + "HandlerName";
}

void OpenNamespace(const File& file, google::protobuf::io::Printer& p) {
  if (!file.cpp_namespace.empty()) p.Print("namespace $ns$ {\n\n", "ns", file.cpp_namespace);
}

void CloseNamespace(const File& file, google::protobuf::io::Printer& p) {
  if (!file.cpp_namespace.empty()) p.Print("}  // namespace $ns$\n", "ns", file.cpp_namespace);
}

}  // namespace micro::codegen

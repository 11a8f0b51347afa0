// What protoc-gen-micro generates from: a proto file's services reduced to the names the C++
// output needs (qualified message class names as protoc's C++ generator spells them).
#pragma once

#include <google/protobuf/descriptor.h>

#include <string>
#include <vector>

namespace micro::codegen {

enum class MethodKind { kUnary, kClientStream, kServerStream, kBidiStream };

struct Method {
  std::string name;      // "Hello" (a C++ keyword gets a trailing '_')
  std::string endpoint;  // "Greeter.Hello" (go-micro: service name, not package-qualified)
  std::string request;   // "Request", or "::other::Request" outside the file's package
  std::string response;  // as request
  MethodKind kind = MethodKind::kUnary;
  bool deprecated = false;
};

struct Service {
  std::string name;  // "Greeter"
  std::vector<Method> methods;
};

struct File {
  std::string proto;          // "greeter.proto" (as protoc names it)
  std::string stem;           // "greeter": outputs are <stem>.micro.h, <stem>.pb.h, ...
  std::string cpp_namespace;  // "micro::codegen_test"; empty for no package
  std::vector<Service> services;
};

// protoc's C++ name for a message: "::pkg::sub::Outer_Inner" (keywords get a trailing '_').
std::string QualifiedClassName(const google::protobuf::Descriptor* message);
// The C++ namespace of a proto package: "a.b" -> "a::b" (keywords get a trailing '_').
std::string CppNamespace(const std::string& package);
// "dir/greeter.proto" -> "dir/greeter".
std::string StripProto(const std::string& filename);
// The micro::StreamKind enumerator for a kind ("kBidiStream").
const char* StreamKindName(MethodKind kind);
// A human word for a kind ("bidirectional stream").
const char* KindDescription(MethodKind kind);

File BuildModel(const google::protobuf::FileDescriptor* file);

}  // namespace micro::codegen

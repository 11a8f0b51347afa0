#include "generator.h"

#include <google/protobuf/io/printer.h>
#include <google/protobuf/io/zero_copy_stream.h>

#include <functional>
#include <memory>

#include "model.h"
#include "writers.h"

namespace micro::codegen {
namespace {

void WriteFile(google::protobuf::compiler::GeneratorContext* context, const std::string& name,
               const File& file, void (*write)(const File&, google::protobuf::io::Printer&)) {
  std::unique_ptr<google::protobuf::io::ZeroCopyOutputStream> out(context->Open(name));
  google::protobuf::io::Printer printer(out.get(), '$');
  write(file, printer);
}

bool CheckNames(const File& file, std::string* error) {
  for (const Service& s : file.services) {
    for (const Method& m : s.methods) {
      if (m.name.rfind("Async", 0) == 0) {
        for (const Method& other : s.methods) {
          if ("Async" + other.name == m.name && other.kind == MethodKind::kUnary) {
            *error = file.proto + ": method " + s.name + "." + m.name + " collides with the " +
                     "coroutine form of " + s.name + "." + other.name;
            return false;
          }
        }
      }
    }
  }
  return true;
}

}  // namespace

bool MicroGenerator::Generate(const google::protobuf::FileDescriptor* file,
                              const std::string& parameter,
                              google::protobuf::compiler::GeneratorContext* context,
                              std::string* error) const {
  if (!parameter.empty()) {
    *error = "protoc-gen-micro takes no parameters (got \"" + parameter + "\")";
    return false;
  }
  const File model = BuildModel(file);
  if (!CheckNames(model, error)) return false;
  WriteFile(context, model.stem + ".micro.h", model, WriteHeader);
  WriteFile(context, model.stem + ".micro.cc", model, WriteSource);
  WriteFile(context, model.stem + ".micro.mock.h", model, WriteMock);
  return true;
}

}  // namespace micro::codegen

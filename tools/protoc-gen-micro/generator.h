// The libprotoc CodeGenerator behind protoc-gen-micro.
#pragma once

#include <google/protobuf/compiler/code_generator.h>

#include <cstdint>
#include <string>

namespace micro::codegen {

// Writes <stem>.micro.h, <stem>.micro.cc and <stem>.micro.mock.h for every .proto file, also
// for files without services (then they hold no declarations), so build systems can always
// list the outputs. The plugin takes no parameters.
class MicroGenerator : public google::protobuf::compiler::CodeGenerator {
 public:
  bool Generate(const google::protobuf::FileDescriptor* file, const std::string& parameter,
                google::protobuf::compiler::GeneratorContext* context,
                std::string* error) const override;
  uint64_t GetSupportedFeatures() const override { return FEATURE_PROTO3_OPTIONAL; }
};

}  // namespace micro::codegen

// protoc-gen-micro: protoc --plugin=protoc-gen-micro=... --micro_out=DIR file.proto
#include <google/protobuf/compiler/plugin.h>

#include "generator.h"

int main(int argc, char* argv[]) {
  micro::codegen::MicroGenerator generator;
  return google::protobuf::compiler::PluginMain(argc, argv, &generator);
}

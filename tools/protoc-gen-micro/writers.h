// The three outputs of protoc-gen-micro for one .proto file.
#pragma once

#include <google/protobuf/io/printer.h>

#include <map>
#include <string>

#include "model.h"

namespace micro::codegen {

using Vars = std::map<std::string, std::string>;

// <stem>.micro.h: endpoint names, XService, XHandler, XAsyncHandler, NewXHandler,
// RegisterXHandler.
void WriteHeader(const File& file, google::protobuf::io::Printer& p);
// <stem>.micro.cc: their definitions.
void WriteSource(const File& file, google::protobuf::io::Printer& p);
// <stem>.micro.mock.h: gmock mocks MockXService and MockXHandler.
void WriteMock(const File& file, google::protobuf::io::Printer& p);

// Variables shared by the writers for one method: name, endpoint, req, rsp, kind, kind_text,
// const (the endpoint-name constant, e.g. kGreeterHelloEndpoint), service.
Vars MethodVars(const Service& service, const Method& method);
// "kGreeterHandlerName"
std::string HandlerNameConstant(const Service& service);
void OpenNamespace(const File& file, google::protobuf::io::Printer& p);
void CloseNamespace(const File& file, google::protobuf::io::Printer& p);

}  // namespace micro::codegen

// `micro new NAME`: a service skeleton that builds against the installed package.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string_view>

#include "micro/cli.h"

namespace micro::cli {
namespace {

constexpr std::string_view kProto =
    R"(// The {{name}} service's API. Edit it, rebuild: micro_generate regenerates the code.
syntax = "proto3";

package {{ident}};

service {{Camel}} {
  rpc Call(CallRequest) returns (CallResponse) {}
  rpc Stream(stream StreamRequest) returns (stream StreamResponse) {}
}

message CallRequest {
  string name = 1;
}

message CallResponse {
  string msg = 1;
}

message StreamRequest {
  int64 count = 1;
}

message StreamResponse {
  int64 count = 1;
}
)";

constexpr std::string_view kHandlerH =
    R"(// The {{name}} service's handler: implements the generated {{ident}}::{{Camel}}Handler.
#pragma once

#include "{{ident}}.micro.h"

namespace {{ident}} {

class {{Camel}}Impl final : public {{Camel}}Handler {
 public:
  // Answers "Hello <name>"; a 400 without a name.
  micro::Status Call(micro::Context& ctx, const CallRequest& req, CallResponse& rsp) override;
  // Echoes every count it receives until the client closes its side.
  micro::Status Stream(micro::Context& ctx,
                       micro::TypedServerStream<StreamRequest, StreamResponse>& stream) override;
};

}  // namespace {{ident}}
)";

constexpr std::string_view kHandlerCc = R"(#include "handler/{{ident}}.h"

namespace {{ident}} {

micro::Status {{Camel}}Impl::Call(micro::Context&, const CallRequest& req, CallResponse& rsp) {
  if (req.name().empty()) return micro::errors::BadRequest("{{name}}", "name is required");
  rsp.set_msg("Hello " + req.name());
  return {};
}

micro::Status {{Camel}}Impl::Stream(
    micro::Context&, micro::TypedServerStream<StreamRequest, StreamResponse>& stream) {
  StreamRequest req;
  while (stream.Recv(req)) {
    StreamResponse rsp;
    rsp.set_count(req.count());
    if (auto s = stream.Send(rsp); !s) return s;
  }
  return stream.status();
}

}  // namespace {{ident}}
)";

constexpr std::string_view kMain = R"(// The {{name}} service.
//   {{name}} [--registry=mdns] [--server_address=127.0.0.1:9090] ...   (go-micro's flags, MICRO_*)
#include <micro/micro.h>

#include "handler/{{ident}}.h"

int main(int argc, char** argv) {
  micro::Service service({.name = "{{name}}", .version = "latest"});
  if (auto s = service.Init(argc, argv); !s) return service.Fail(s);
  auto handler = std::make_shared<{{ident}}::{{Camel}}Impl>();
  if (auto s = {{ident}}::Register{{Camel}}Handler(service.Server(), handler); !s) {
    return service.Fail(s);
  }
  return service.Run();
}
)";

constexpr std::string_view kTest =
    R"(// The handler on its own, then the whole service in-process (memory registry, loopback).
#include <gtest/gtest.h>
#include <micro/micro.h>

#include "handler/{{ident}}.h"

namespace {

TEST({{Camel}}Test, CallSaysHello) {
  {{ident}}::{{Camel}}Impl handler;
  micro::Context ctx;
  {{ident}}::CallRequest req;
  req.set_name("Ada");
  {{ident}}::CallResponse rsp;
  ASSERT_TRUE(handler.Call(ctx, req, rsp).ok());
  EXPECT_EQ(rsp.msg(), "Hello Ada");
}

TEST({{Camel}}Test, CallWithoutNameIsBadRequest) {
  {{ident}}::{{Camel}}Impl handler;
  micro::Context ctx;
  {{ident}}::CallResponse rsp;
  auto s = handler.Call(ctx, {{ident}}::CallRequest(), rsp);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, 400);
}

TEST({{Camel}}Test, ServiceAnswersCallAndStream) {
  micro::Service service({.name = "{{name}}",
                          .address = "127.0.0.1:0",
                          .registry = "memory",
                          .handle_signals = false});
  ASSERT_TRUE({{ident}}::Register{{Camel}}Handler(service.Server(),
                                                  std::make_shared<{{ident}}::{{Camel}}Impl>())
                  .ok());
  ASSERT_TRUE(service.Start().ok());
  {{ident}}::{{Camel}}Service client("{{name}}", service.Client());

  {{ident}}::CallRequest req;
  req.set_name("Grace");
  auto rsp = client.Call(req);
  ASSERT_TRUE(rsp.ok()) << rsp.error();
  EXPECT_EQ(rsp->msg(), "Hello Grace");

  micro::Context ctx;
  auto stream = client.Stream(ctx);
  ASSERT_TRUE(stream.ok()) << stream.error();
  for (int64_t i = 1; i <= 3; ++i) {
    {{ident}}::StreamRequest in;
    in.set_count(i);
    ASSERT_TRUE(stream->Send(in).ok());
    {{ident}}::StreamResponse out;
    ASSERT_TRUE(stream->Recv(out)) << stream->status().error();
    EXPECT_EQ(out.count(), i);
  }
  (void)stream->Close();
  EXPECT_TRUE(service.Stop().ok());
}

}  // namespace
)";

constexpr std::string_view kCMake = R"(# The {{name}} service, built against an installed micro-cpp:
#   cmake -S . -B build -DCMAKE_PREFIX_PATH=<micro prefix> && cmake --build build
cmake_minimum_required(VERSION 3.20)
project({{ident}} CXX)
set(CMAKE_CXX_STANDARD 20)
set(CMAKE_CXX_STANDARD_REQUIRED ON)

find_package(micro CONFIG REQUIRED)  # micro::micro and micro_generate

# Messages, client and handler interface from {{ident}}.proto.
add_library({{ident}}_proto STATIC)
micro_generate({{ident}}_proto PROTOS {{ident}}.proto)

# (Designated initialisers that leave fields at their defaults are idiomatic C++20.)
set(warnings -Wall -Wextra -Wno-missing-field-initializers)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # g++ 12 misreports asio's coroutine frames (allocated and freed by asio) in headers, and
  # std::string members of option structs built with designated initialisers at -O2
  # (maybe-uninitialized, a known false positive of that release).
  list(APPEND warnings -Wno-mismatched-new-delete -Wno-maybe-uninitialized)
endif()

add_library({{ident}}_handler STATIC handler/{{ident}}.cc)
target_include_directories({{ident}}_handler PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries({{ident}}_handler PUBLIC {{ident}}_proto)
target_compile_options({{ident}}_handler PRIVATE ${warnings})

add_executable({{name}} main.cc)
target_link_libraries({{name}} PRIVATE {{ident}}_handler)
target_compile_options({{name}} PRIVATE ${warnings})
install(TARGETS {{name}} RUNTIME DESTINATION bin)

find_package(GTest CONFIG)
if(GTest_FOUND)
  enable_testing()
  add_executable({{ident}}_test {{ident}}_test.cc)
  target_link_libraries({{ident}}_test PRIVATE {{ident}}_handler GTest::gtest_main)
  target_compile_options({{ident}}_test PRIVATE ${warnings})
  add_test(NAME {{ident}}_test COMMAND {{ident}}_test)
endif()
)";

constexpr std::string_view kReadme = R"(# {{name}}

A micro-cpp service (created by `micro new {{name}}`).

| file | what |
|---|---|
| `{{ident}}.proto` | the API: `{{Camel}}.Call` and the bidirectional `{{Camel}}.Stream` |
| `handler/{{ident}}.{h,cc}` | the handler (`{{ident}}::{{Camel}}Impl`) |
| `main.cc` | the service: flags, registration, run until SIGINT/SIGTERM |
| `{{ident}}_test.cc` | GoogleTest: the handler, then the service in-process |
| `CMakeLists.txt` | `find_package(micro)`, `micro_generate` for the proto |

## Build and test

```sh
cmake -S . -B build -DCMAKE_PREFIX_PATH=/path/to/micro/prefix
cmake --build build
ctest --test-dir build
```

## Run and call

```sh
./build/{{name}}                                   # mDNS registry, HTTP transport
micro call {{name}} {{Camel}}.Call '{"name": "Ada"}'
echo '{"count": 1}' | micro stream {{name}} {{Camel}}.Stream
micro describe service {{name}}
```

Every go-micro flag works on both (`--registry=etcd --registry_address=127.0.0.1:2379`,
`--server_address=127.0.0.1:9090`) and so do the `MICRO_*` variables.
)";

bool ValidName(const std::string& name) {
  if (name.empty() || !std::isalpha(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

std::string Substitute(std::string_view text, const std::map<std::string, std::string>& vars) {
  std::string out(text);
  for (const auto& [key, value] : vars) {
    const std::string placeholder = "{{" + key + "}}";
    for (size_t at = out.find(placeholder); at != std::string::npos;
         at = out.find(placeholder, at + value.size())) {
      out.replace(at, placeholder.size(), value);
    }
  }
  return out;
}

}  // namespace

std::map<std::string, std::string> NewProjectFiles(const std::string& name) {
  if (!ValidName(name)) return {};
  std::string ident, camel;
  bool upper = true;
  for (char c : name) {
    const bool sep = c == '-' || c == '_';
    ident += sep ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (sep) {
      upper = true;
    } else {
      camel += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
      upper = false;
    }
  }
  const std::map<std::string, std::string> vars{{"name", name}, {"ident", ident}, {"Camel", camel}};
  return {
      {ident + ".proto", Substitute(kProto, vars)},
      {"handler/" + ident + ".h", Substitute(kHandlerH, vars)},
      {"handler/" + ident + ".cc", Substitute(kHandlerCc, vars)},
      {"main.cc", Substitute(kMain, vars)},
      {ident + "_test.cc", Substitute(kTest, vars)},
      {"CMakeLists.txt", Substitute(kCMake, vars)},
      {"README.md", Substitute(kReadme, vars)},
  };
}

int NewService(Env& env, const NewArgs& args) {
  namespace fs = std::filesystem;
  auto files = NewProjectFiles(args.name);
  if (files.empty()) {
    return env.Usage("\"" + args.name +
                     "\" is not a service name (a letter, then letters, digits, - or _)");
  }
  const fs::path dir = args.dir.empty() ? fs::path(args.name) : fs::path(args.dir);
  std::error_code ec;
  if (fs::exists(dir, ec) && !(fs::is_directory(dir, ec) && fs::is_empty(dir, ec))) {
    return env.Fail(Error{.id = "micro.cli",
                          .code = 409,
                          .detail = dir.string() + " already exists and is not empty",
                          .status = "Conflict"});
  }
  for (const auto& [path, content] : files) {
    const fs::path file = dir / path;
    fs::create_directories(file.parent_path(), ec);
    std::ofstream out(file, std::ios::binary);
    out << content;
    out.close();
    if (!out) {
      return env.Fail(Error{.id = "micro.cli",
                            .code = 500,
                            .detail = "cannot write " + file.string(),
                            .status = "Internal Server Error"});
    }
  }
  if (env.output() == Output::kJson) {
    nlohmann::ordered_json json{{"name", args.name}, {"dir", dir.string()}};
    json["files"] = nlohmann::ordered_json::array();
    for (const auto& [path, content] : files) json["files"].push_back(path);
    env.out() << json.dump() << "\n";
    return kOk;
  }
  env.out() << "Created service " << args.name << " in " << dir.string() << "\n";
  for (const auto& [path, content] : files) env.out() << "  " << path << "\n";
  env.out() << "\nNext:\n  cmake -S " << dir.string() << " -B " << (dir / "build").string()
            << " -DCMAKE_PREFIX_PATH=<micro prefix>\n  cmake --build " << (dir / "build").string()
            << "\n";
  return kOk;
}

}  // namespace micro::cli

// micro::cli: the `micro` command line (go-micro's CLI, docs/toolkit.md), as a library.
//
//   micro [plugin flags] services                       (alias: micro list services)
//   micro describe service NAME                         (alias: micro get service NAME)
//   micro call SERVICE ENDPOINT ['{"json":1}']          (the JSON from stdin when absent)
//   micro stream SERVICE ENDPOINT                       (one JSON request per stdin line)
//   micro publish TOPIC '{"json":1}'
//   micro new NAME [--dir D]
//   micro api [--address 127.0.0.1:8080] [--handler meta] ...   (the API gateway)
//   micro web [--address 127.0.0.1:8082] [--namespace go.micro.web]   (the dashboard)
//   micro sidecar [--address 127.0.0.1:8081] --app_name N --app_address H:P ...
//   micro health SERVICE [--address A] [--timeout 5s]          (Debug.Health on every node)
//
// tools/micro/main.cc is a thin main around Program; a new subcommand is one Add() block:
//
//   micro::cli::Program program;           // the built-in commands above
//   program.Add("hello", "Say hello", [](CLI::App& cmd) {
//     auto name = std::make_shared<std::string>("world");
//     cmd.add_option("--name", *name);    // CLI11 (<CLI/CLI.hpp>), options of the subcommand
//     return [name](micro::cli::Env& env) {
//       env.out() << "hello " << *name << "\n";
//       return micro::cli::kOk;
//     };
//   });
//   return program.Run(argc, argv);
//
// Every go-micro plugin flag (micro::Service::FlagNames(): --registry, --registry_address,
// --broker, --transport, --selector, --client_request_timeout, ...) is accepted before or after
// the subcommand, and the MICRO_* variables are read, exactly as micro::Service::Init reads
// them: a command that needs the network calls Env::Connect(), which builds a micro::Service
// (whose server is never started) from them. Global `--output table|json`: tables and pretty
// JSON for people, JSON (one document, or one line per stream answer) for scripts.
//
// Exit codes (ExitCode): 0 ok; 1 the call, publish or registry failed (a go-micro error JSON
// {"id","code","detail","status"} on stderr); 2 usage (bad arguments, flag values, plugin names
// or request JSON: a message and a hint on stderr); 3 not found (describe of an unknown service).
//
// Errors are written to Env::err(), results to Env::out(); nothing here exits the process or
// throws (CLI11's parse errors are caught and become exit code 2, `--help` 0).
// Threading: a Program (and its Env) is used from one thread; `stream` runs one extra thread
// of its own that reads answers while the caller's thread sends stdin lines.
// Ownership: Program owns its Env and the Service it builds; the streams in Io are borrowed
// and must outlive Run().
#pragma once

#include <micro/service.h>
#include <micro/status.h>

#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;  // CLI11 (<CLI/CLI.hpp>): include it where subcommands declare options
}  // namespace CLI

namespace micro::cli {

enum ExitCode : int { kOk = 0, kFailed = 1, kUsage = 2, kNotFound = 3 };

enum class Output { kTable, kJson };

// An environment lookup: MICRO_* variables (std::getenv for the real program).
using Getenv = std::function<std::optional<std::string>(const std::string&)>;
Getenv ProcessEnv();

// Where commands read and write (borrowed). StdIo(): std::cin, std::cout, std::cerr.
struct Io {
  std::istream* in = nullptr;
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
};
Io StdIo();

// What a running command gets.
class Env {
 public:
  Env(Io io, Getenv getenv, ServiceOptions base);
  ~Env();
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;

  // The Service built from `base`, the MICRO_* variables and the plugin flags given on the
  // command line (Init, on first use). Its client, registry and broker are ready; its server
  // is never started. A bad flag value or unknown plugin name is a 400 Error (exit kUsage).
  Result<Service*> Connect();

  Output output() const { return output_; }
  std::istream& in() { return *io_.in; }
  std::ostream& out() { return *io_.out; }
  std::ostream& err() { return *io_.err; }

  // Writes the error's go-micro JSON to err() and returns `code`.
  int Fail(const Error& error, int code = kFailed);
  // Writes "micro: <message>" to err() and returns kUsage.
  int Usage(std::string_view message);

 private:
  friend class Program;
  Io io_;
  Getenv getenv_;
  ServiceOptions base_;
  std::vector<std::string> service_args_;  // "--registry=etcd", ... for Service::Init
  Output output_ = Output::kTable;
  std::unique_ptr<Service> service_;
};

// Runs one parsed subcommand; returns the exit code.
using Action = std::function<int(Env&)>;
// Declares a subcommand's options and arguments on `command` and returns its Action (which
// typically captures shared_ptrs to the option values).
using Setup = std::function<Action(CLI::App& command)>;

class Program {
 public:
  // base: the Service's options before MICRO_* variables and flags apply (name "micro.cli").
  explicit Program(Io io = StdIo(), Getenv getenv = ProcessEnv(), ServiceOptions base = {});
  ~Program();
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;

  // Adds a top-level subcommand.
  void Add(std::string name, std::string description, Setup setup);
  // Parses args (without the program name) and runs the chosen subcommand.
  int Run(const std::vector<std::string>& args);
  int Run(int argc, char** argv);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// --- the built-in commands (what Program's subcommands run) -----------------------------

// `micro services`: NAME / VERSIONS / NODES, sorted by name. JSON:
// [{"name":"greeter","versions":["latest"],"nodes":1}, ...].
int ListServices(Env& env);

// `micro describe service NAME`: each version's metadata, nodes (id, address, metadata) and
// endpoints with their request/response fields. JSON: the registry's go-micro JSON, an array
// with one Service per version. kNotFound when the registry has no such service.
int DescribeService(Env& env, const std::string& name);

struct CallSpec {
  std::string service;
  std::string endpoint;
  std::optional<std::string> body;              // absent: all of stdin; empty: {}
  std::string address;                          // "host:port": this node, no registry lookup
  std::map<std::string, std::string> metadata;  // sent as request headers
  std::optional<Duration> timeout;              // the whole call (and the `Timeout` header)
  std::string content_type = "application/json";
};

// `micro call`: the body goes out as a raw codec::Frame; the answer is printed as pretty JSON
// (compact with --output json; raw bytes when it is not JSON).
int Call(Env& env, const CallSpec& args);

// `micro stream`: opens a stream, sends each non-empty stdin line as one message, prints each
// answer on a line of its own (compact JSON) as it arrives; at EOF closes the sending side and
// prints the remaining answers. (CallSpec::body is unused.)
int Stream(Env& env, const CallSpec& args);

// `micro publish TOPIC JSON`: one message on the configured broker, content type
// application/json, body as given; waits (up to the broker's drain timeout) for delivery.
int Publish(Env& env, const std::string& topic, const std::string& json);

struct NewArgs {
  std::string name;  // the service name, e.g. "helloworld" or "user-service"
  std::string dir;   // empty: ./<name>
};

// `micro new NAME`: writes a service skeleton (see NewProjectFiles) into dir, which must not
// exist or be empty.
int NewService(Env& env, const NewArgs& args);

// `micro api [--address A] [--handler H] [--resolver R] [--namespace NS] [--enable_rpc B]
// [--enable_cors B] [--max_body N] [--read_timeout D]`: serves the API gateway (micro::api,
// defaults from the MICRO_API_* variables) until SIGINT/SIGTERM, then returns kOk. A bad
// handler/resolver name is kUsage; a port that cannot be bound kFailed.
void AddApiCommand(Program& program);

// `micro web [--address A] [--namespace NS] [--poll_interval D]`: serves the web dashboard
// (micro::web, defaults from MICRO_WEB_*) until SIGINT/SIGTERM, then returns kOk. A port that
// cannot be bound is kFailed.
void AddWebCommand(Program& program);

// `micro sidecar [--address A] [--app_name N --app_address H:P] [--healthcheck_url U]
// [--health_interval D] [--app_timeout D] [--handler rpc|proxy] [--namespace NS]`: serves the
// sidecar (micro::sidecar, defaults from MICRO_SIDECAR_*) until SIGINT/SIGTERM, deregistering
// the app before it returns kOk. Mesh calls arrive on --server_address (default 127.0.0.1:0).
// Bad options are kUsage; a port that cannot be bound kFailed.
void AddSidecarCommand(Program& program);
// `micro health SERVICE [--address host:port] [--timeout 5s]`: calls Debug.Health on every
// node of the service (or the one address) and prints "service  NAME", then VERSION / NODE /
// ADDRESS / STATUS per node (the status, or the call's error JSON). JSON: [{"service",
// "version","node","address","status"[,"error"]}]. kOk when every node answers "ok", kFailed
// otherwise, kNotFound for an unknown service.
void AddHealthCommand(Program& program);

// The skeleton's files, path relative to the project folder -> content: <name>.proto,
// handler/<name>.h, handler/<name>.cc, main.cc, <name>_test.cc, CMakeLists.txt (using
// find_package(micro) and micro_generate), README.md. An empty map for an invalid name
// (a name must start with a letter and hold only letters, digits, '-' and '_').
std::map<std::string, std::string> NewProjectFiles(const std::string& name);

}  // namespace micro::cli

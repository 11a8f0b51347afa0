// Program and Env: CLI11 parsing, the plugin flags handed to Service::Init, dispatch.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <iostream>

#include "micro/cli.h"

namespace micro::cli {

Getenv ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

Io StdIo() { return {&std::cin, &std::cout, &std::cerr}; }

Env::Env(Io io, Getenv getenv, ServiceOptions base)
    : io_(io), getenv_(std::move(getenv)), base_(std::move(base)) {}

Env::~Env() = default;

Result<Service*> Env::Connect() {
  if (service_) return service_.get();
  auto service = std::make_unique<Service>(base_);
  if (Status s = service->Init(service_args_, getenv_); !s) return std::move(s).error();
  service_ = std::move(service);
  return service_.get();
}

int Env::Fail(const Error& error, int code) {
  err() << error.ToJson() << "\n";
  return code;
}

int Env::Usage(std::string_view message) {
  err() << "micro: " << message << "\n(run `micro --help` for usage)\n";
  return kUsage;
}

struct Program::Impl {
  Env env;
  CLI::App app{"micro: call, inspect and create go-micro services", "micro"};
  std::string output = "table";
  // Plugin flags: name -> value (the last occurrence), server_metadata: every occurrence.
  std::map<std::string, std::string> flags;
  std::vector<std::string> server_metadata;
  std::vector<std::pair<CLI::App*, Action>> actions;

  Impl(Io io, Getenv getenv, ServiceOptions base) : env(io, std::move(getenv), std::move(base)) {
    app.fallthrough();  // parent options (plugin flags, --output) after the subcommand too
    app.require_subcommand(0, 1);
    app.add_option("--output,-o", output, "table (for people) or json (for scripts)")
        ->check(CLI::IsMember({"table", "json"}));
    for (const std::string& name : Service::FlagNames()) {
      const std::string env_name = [&] {
        std::string e = "MICRO_";
        for (char c : name) e += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        return e;
      }();
      if (name == "server_metadata") {
        app.add_option("--" + name, server_metadata, "k=v (repeatable); $" + env_name)
            ->allow_extra_args(false)
            ->group("Plugin flags (go-micro's, also read from MICRO_*)");
      } else {
        app.add_option("--" + name, flags[name], "$" + env_name)
            ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast)
            ->group("Plugin flags (go-micro's, also read from MICRO_*)");
      }
    }
    const std::string usage = Service::Usage();  // the extra variables and plugin names
    const auto extra = usage.find("  MICRO_PROXY");
    app.footer((extra == std::string::npos ? usage : usage.substr(extra)) +
               "\nExit codes: 0 ok, 1 call/runtime error (go-micro error JSON on stderr), "
               "2 usage error, 3 not found.");
  }

  void Add(CLI::App& parent, const std::string& name, const std::string& description,
           const Setup& setup) {
    CLI::App* cmd = parent.add_subcommand(name, description);
    actions.emplace_back(cmd, setup(*cmd));
  }

  // The plugin flags that were given, as Service::Init arguments.
  std::vector<std::string> ServiceArgs() {
    std::vector<std::string> args;
    for (const std::string& name : Service::FlagNames()) {
      if (app.count("--" + name) == 0) continue;
      if (name == "server_metadata") {
        for (const auto& kv : server_metadata) args.push_back("--" + name + "=" + kv);
      } else {
        args.push_back("--" + name + "=" + flags[name]);
      }
    }
    return args;
  }
};

Program::Program(Io io, Getenv getenv, ServiceOptions base) {
  if (base.name == ServiceOptions{}.name) base.name = "micro.cli";
  base.handle_signals = false;
  if (base.threads == 0) base.threads = 2;
  impl_ = std::make_unique<Impl>(io, std::move(getenv), std::move(base));

  // Built-in commands.
  Add("services", "List the services in the registry (NAME, VERSIONS, NODES)",
      [](CLI::App&) { return [](Env& env) { return ListServices(env); }; });
  CLI::App& list = *impl_->app.add_subcommand("list", "List resources (list services)");
  list.require_subcommand(1);
  impl_->Add(list, "services", "List the services in the registry",
             [](CLI::App&) { return [](Env& env) { return ListServices(env); }; });
  auto describe = [](CLI::App& cmd) {
    auto name = std::make_shared<std::string>();
    cmd.add_option("name", *name, "the service name")->required();
    return Action([name](Env& env) { return DescribeService(env, *name); });
  };
  for (const char* verb : {"describe", "get"}) {
    CLI::App& parent = *impl_->app.add_subcommand(
        verb, std::string(verb) + " a resource (" + verb + " service NAME)");
    parent.require_subcommand(1);
    impl_->Add(parent, "service", "Show a service's versions, nodes and endpoints", describe);
  }

  auto call_options = [](CLI::App& cmd, CallSpec& spec, std::string& timeout,
                         std::vector<std::string>& metadata) {
    cmd.add_option("service", spec.service, "the service name")->required();
    cmd.add_option("endpoint", spec.endpoint, "the endpoint, e.g. Greeter.Hello")->required();
    cmd.add_option("--address", spec.address, "host:port of one node (skips the registry)");
    cmd.add_option("--metadata,-m", metadata, "k=v request metadata (repeatable)")
        ->allow_extra_args(false);
    cmd.add_option("--timeout", timeout, "Go duration for the whole call, e.g. 5s, 300ms");
    cmd.add_option("--content_type", spec.content_type, "request content type")
        ->capture_default_str();
  };
  // Fills the parsed metadata and timeout in; an error text for bad values.
  auto finish = [](CallSpec& spec, const std::string& timeout,
                   const std::vector<std::string>& metadata) -> std::optional<std::string> {
    for (const auto& kv : metadata) {
      const auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) return "--metadata \"" + kv + "\" is not k=v";
      spec.metadata[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    if (!timeout.empty()) {
      auto d = ParseGoDuration(timeout);
      if (!d) return "--timeout: " + d.error().detail;
      if (*d <= Duration::zero()) return "--timeout must be positive";
      spec.timeout = *d;
    }
    return std::nullopt;
  };

  Add("call", "Call an endpoint with a JSON request (from stdin when absent)",
      [call_options, finish](CLI::App& cmd) {
        struct State {
          CallSpec spec;
          std::string body, timeout;
          std::vector<std::string> metadata;
          CLI::Option* body_option = nullptr;
        };
        auto st = std::make_shared<State>();
        call_options(cmd, st->spec, st->timeout, st->metadata);
        st->body_option = cmd.add_option("request", st->body, "the request JSON");
        return Action([st, finish](Env& env) {
          if (auto bad = finish(st->spec, st->timeout, st->metadata)) return env.Usage(*bad);
          if (st->body_option->count() > 0) st->spec.body = st->body;
          return Call(env, st->spec);
        });
      });
  Add("stream", "Open a stream: one JSON request per stdin line, one answer per output line",
      [call_options, finish](CLI::App& cmd) {
        struct State {
          CallSpec spec;
          std::string timeout;
          std::vector<std::string> metadata;
        };
        auto st = std::make_shared<State>();
        call_options(cmd, st->spec, st->timeout, st->metadata);
        return Action([st, finish](Env& env) {
          if (auto bad = finish(st->spec, st->timeout, st->metadata)) return env.Usage(*bad);
          return Stream(env, st->spec);
        });
      });
  Add("publish", "Publish a JSON message to a topic on the broker", [](CLI::App& cmd) {
    auto topic = std::make_shared<std::string>();
    auto json = std::make_shared<std::string>();
    cmd.add_option("topic", *topic, "the topic")->required();
    cmd.add_option("message", *json, "the message JSON")->required();
    return Action([topic, json](Env& env) { return Publish(env, *topic, *json); });
  });
  Add("new", "Create a service skeleton (proto, handler, main, CMake, test, README)",
      [](CLI::App& cmd) {
        auto args = std::make_shared<NewArgs>();
        cmd.add_option("name", args->name, "the service name")->required();
        cmd.add_option("--dir", args->dir, "where to create it (default ./NAME)");
        return Action([args](Env& env) { return NewService(env, *args); });
      });
  AddApiCommand(*this);
  AddWebCommand(*this);
  AddSidecarCommand(*this);
  AddHealthCommand(*this);
}

Program::~Program() = default;

void Program::Add(std::string name, std::string description, Setup setup) {
  impl_->Add(impl_->app, name, description, setup);
}

int Program::Run(int argc, char** argv) {
  return Run(std::vector<std::string>(argv + 1, argv + argc));
}

int Program::Run(const std::vector<std::string>& args) {
  Env& env = impl_->env;
  try {
    impl_->app.parse(std::vector<std::string>(args.rbegin(), args.rend()));  // CLI11: reversed
  } catch (const CLI::ParseError& e) {
    const int code = impl_->app.exit(e, env.out(), env.err());
    return code == 0 ? kOk : kUsage;
  }
  env.output_ = impl_->output == "json" ? Output::kJson : Output::kTable;
  env.service_args_ = impl_->ServiceArgs();
  // The deepest subcommand that was parsed (`list services` rather than `list`).
  for (auto it = impl_->actions.rbegin(); it != impl_->actions.rend(); ++it) {
    if (it->first->parsed()) {
      try {
        return it->second(env);
      } catch (const std::exception& e) {
        return env.Fail(Error{.id = "micro.cli", .code = 500, .detail = e.what()});
      }
    }
  }
  env.out() << impl_->app.help();
  return kUsage;
}

}  // namespace micro::cli

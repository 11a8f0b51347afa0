// The commands that talk to services: services, describe, call, stream, publish.
#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "micro/cli.h"
#include "micro/client.h"
#include "micro/codec.h"

namespace micro::cli {
namespace {

using OrderedJson = nlohmann::ordered_json;

// A JSON answer as the output mode wants it; bytes that are not JSON as they are.
std::string FormatAnswer(const std::string& raw, Output output) {
  auto json = OrderedJson::parse(raw, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return raw;
  return output == Output::kJson ? json.dump() : json.dump(2);
}

// Connect() or the exit code for its failure (bad flags, unknown plugin names: usage).
Result<Service*> Connected(Env& env, int& code) {
  auto service = env.Connect();
  if (!service) code = env.Usage(service.error().detail);
  return service;
}

std::string JoinMap(const registry::StringMap& m) {
  std::string out;
  for (const auto& [k, v] : m) {
    if (!out.empty()) out += ',';
    out += k + "=" + v;
  }
  return out;
}

// Columns padded to their widest cell (two spaces apart), as `micro services` prints them.
void PrintTable(std::ostream& out, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    width.resize(std::max(width.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    out << line << "\n";
  }
}

// A request/response type as go-micro's CLI prints it:  name type {  fields  }.
void PrintValue(std::ostream& out, const registry::Value& v, int depth) {
  const std::string indent(static_cast<size_t>(depth) * 2, ' ');
  out << indent << v.name << " " << v.type;
  if (v.values.empty()) {
    out << "\n";
    return;
  }
  out << " {\n";
  for (const auto& field : v.values) PrintValue(out, field, depth + 1);
  out << indent << "}\n";
}

// "Request: {" fields "}"; nothing when the endpoint has no such type (a subscriber's response).
void PrintFields(std::ostream& out, std::string_view label,
                 const std::optional<registry::Value>& v) {
  if (!v) return;
  out << "\n" << label << ": {\n";
  for (const auto& field : v->values) PrintValue(out, field, 1);
  out << "}\n";
}

// Reads all of `in`.
std::string ReadAll(std::istream& in) {
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool IsJsonType(std::string_view content_type) {
  return codec::NormalizeContentType(content_type) == "application/json";
}

// A usage error text when `body` is not JSON but the content type says it is.
std::optional<std::string> BadJson(std::string_view body, std::string_view content_type) {
  if (!IsJsonType(content_type)) return std::nullopt;
  if (nlohmann::json::accept(body)) return std::nullopt;
  return fmt::format("the request is not valid JSON: {}", body);
}

CallOptions OptionsFor(const CallSpec& spec) {
  CallOptions opts;
  if (!spec.address.empty()) opts.address = {spec.address};
  if (spec.timeout) {
    opts.request_timeout = *spec.timeout;
    // The attempt's timeout (and the `Timeout` header the server sees) is no longer.
    opts.connection_timeout = std::min<Duration>(*spec.timeout, std::chrono::seconds(5));
  }
  opts.content_type = spec.content_type;
  return opts;
}

Context ContextFor(const CallSpec& spec) {
  Context ctx;
  for (const auto& [k, v] : spec.metadata) ctx.metadata().Set(k, v);
  return ctx;
}

}  // namespace

int ListServices(Env& env) {
  int code = kOk;
  auto service = Connected(env, code);
  if (!service) return code;
  auto registry = (*service)->Registry();
  auto listed = registry->ListServices();
  if (!listed) return env.Fail(listed.error());
  std::set<std::string> names;
  for (const auto& s : *listed) names.insert(s.name);

  OrderedJson json = OrderedJson::array();
  std::vector<std::vector<std::string>> rows{{"NAME", "VERSIONS", "NODES"}};
  for (const auto& name : names) {
    std::vector<std::string> versions;
    size_t nodes = 0;
    if (auto found = registry->GetService(name); found) {
      for (const auto& s : *found) {
        versions.push_back(s.version);
        nodes += s.nodes.size();
      }
    } else {
      for (const auto& s : *listed) {
        if (s.name == name) versions.push_back(s.version);
      }
    }
    std::sort(versions.begin(), versions.end());
    versions.erase(std::unique(versions.begin(), versions.end()), versions.end());
    std::string joined;
    for (const auto& v : versions) joined += (joined.empty() ? "" : ",") + v;
    rows.push_back({name, joined, std::to_string(nodes)});
    json.push_back({{"name", name}, {"versions", versions}, {"nodes", nodes}});
  }
  if (env.output() == Output::kJson) {
    env.out() << json.dump() << "\n";
  } else {
    PrintTable(env.out(), rows);
  }
  return kOk;
}

int DescribeService(Env& env, const std::string& name) {
  int code = kOk;
  auto service = Connected(env, code);
  if (!service) return code;
  auto found = (*service)->Registry()->GetService(name);
  if (found && found->empty()) found = registry::ErrNotFound();  // mdns: nothing heard
  if (!found) {
    if (registry::IsNotFound(found.error())) {
      Error e = found.error();
      e.detail = fmt::format("service {}: not found", name);
      return env.Fail(e, kNotFound);
    }
    return env.Fail(found.error());
  }
  if (found->empty()) {
    return env.Fail(registry::ErrNotFound(), kNotFound);
  }
  if (env.output() == Output::kJson) {
    std::string out = "[";
    for (size_t i = 0; i < found->size(); ++i) {
      if (i) out += ",";
      out += registry::ToJson((*found)[i]);
    }
    env.out() << out << "]\n";
    return kOk;
  }
  std::ostream& out = env.out();
  for (size_t i = 0; i < found->size(); ++i) {
    const registry::Service& s = (*found)[i];
    if (i) out << "\n";
    out << "service  " << s.name << "\n";
    out << "version  " << s.version << "\n";
    if (!s.metadata.empty()) out << "metadata " << JoinMap(s.metadata) << "\n";
    out << "\n";
    std::vector<std::vector<std::string>> rows{{"ID", "ADDRESS", "METADATA"}};
    for (const auto& n : s.nodes) rows.push_back({n.id, n.address, JoinMap(n.metadata)});
    PrintTable(out, rows);
    for (const auto& e : s.endpoints) {
      out << "\nEndpoint: " << e.name << "\n";
      if (!e.metadata.empty()) out << "Metadata: " << JoinMap(e.metadata) << "\n";
      PrintFields(out, "Request", e.request);
      PrintFields(out, "Response", e.response);
    }
  }
  return kOk;
}

int Call(Env& env, const CallSpec& spec) {
  std::string body = spec.body ? *spec.body : ReadAll(env.in());
  if (body.find_first_not_of(" \t\r\n") == std::string::npos && IsJsonType(spec.content_type)) {
    body = "{}";
  }
  if (auto bad = BadJson(body, spec.content_type)) return env.Usage(*bad);
  int code = kOk;
  auto service = Connected(env, code);
  if (!service) return code;
  auto client = (*service)->Client();
  Context ctx = ContextFor(spec);
  const CallOptions opts = OptionsFor(spec);
  const codec::Frame request{body};
  codec::Frame response;
  const ClientRequest req{spec.service, spec.endpoint, spec.content_type, &request};
  if (Status s = client->Call(ctx, req, &response, opts); !s) return env.Fail(s.error());
  std::string text = FormatAnswer(response.data, env.output());
  if (!text.empty() && text.back() != '\n') text += '\n';
  env.out() << text << std::flush;
  return kOk;
}

int Stream(Env& env, const CallSpec& spec) {
  int code = kOk;
  auto service = Connected(env, code);
  if (!service) return code;
  auto client = (*service)->Client();
  Context ctx = ContextFor(spec);
  const CallOptions opts = OptionsFor(spec);
  // The opening message, which go-micro servers (and ours) discard.
  const codec::Frame opening{IsJsonType(spec.content_type) ? "{}" : ""};
  const ClientRequest req{spec.service, spec.endpoint, spec.content_type, &opening};
  auto stream = client->Stream(ctx, req, opts);
  if (!stream) return env.Fail(stream.error());
  ClientStream& s = **stream;

  // Answers are printed as they arrive, by a thread of their own: a server may answer every
  // request, some, or only at the end.
  std::ostream& out = env.out();
  std::thread reader([&s, &out] {
    codec::Frame answer;
    while (s.RecvFrame(answer)) {
      std::string text = FormatAnswer(answer.data, Output::kJson);
      while (!text.empty() && text.back() == '\n') text.pop_back();
      out << text << "\n" << std::flush;
      answer.data.clear();
    }
  });
  std::string line;
  int result = kOk;
  while (std::getline(env.in(), line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (auto bad = BadJson(line, spec.content_type)) {
      env.err() << "micro: " << *bad << " (line skipped)\n";
      result = kUsage;
      continue;
    }
    if (Status sent = s.SendFrame(codec::Frame{line}); !sent) break;
  }
  (void)s.CloseSend();
  reader.join();
  Status status = s.status();
  (void)s.Close();
  if (!status) return env.Fail(status.error());
  return result;
}

int Publish(Env& env, const std::string& topic, const std::string& json) {
  if (auto bad = BadJson(json, "application/json")) return env.Usage(*bad);
  int code = kOk;
  auto service = Connected(env, code);
  if (!service) return code;
  Context ctx;
  const codec::Frame frame{json};
  Status s =
      (*service)->Client()->Publish(ctx, topic, &frame, {.content_type = "application/json"});
  if (!s) return env.Fail(s.error());
  // The http broker queues: wait (up to its drain timeout) until the message is delivered.
  if (Status d = (*service)->Broker()->Disconnect(); !d) return env.Fail(d.error());
  return kOk;
}

}  // namespace micro::cli

// OTLP/HTTP JSON export of finished spans: a bounded queue drained by a thread of its own.
#include <nlohmann/json.hpp>

#include "micro/http_client.h"
#include "micro/logger.h"
#include "micro/trace.h"
#include "micro/version.h"

namespace micro::trace {
namespace {

using OtlpJson = nlohmann::ordered_json;

OtlpJson StringAttribute(const std::string& key, const std::string& value) {
  return {{"key", key}, {"value", {{"stringValue", value}}}};
}

}  // namespace

struct OtlpHttpExporter::Target {
  std::string host_port;
  std::string path = "/v1/traces";
  std::unique_ptr<http::Client> client;
};

OtlpHttpExporter::OtlpHttpExporter(OtlpOptions options)
    : options_(std::move(options)), target_(std::make_unique<Target>()) {
  std::string_view a = options_.address;
  bool secure = false;
  if (a.rfind("http://", 0) == 0) {
    a.remove_prefix(7);
  } else if (a.rfind("https://", 0) == 0) {
    a.remove_prefix(8);
    secure = true;
  }
  if (const auto slash = a.find('/'); slash != std::string_view::npos) {
    if (a.size() > slash + 1) target_->path = std::string(a.substr(slash));
    a = a.substr(0, slash);
  }
  target_->host_port = std::string(a);
  target_->client = std::make_unique<http::Client>(http::ClientOptions{
      .secure = secure, .connect_timeout = options_.timeout, .request_timeout = options_.timeout});
  thread_ = std::thread([this] { Run(); });
}

OtlpHttpExporter::~OtlpHttpExporter() { Shutdown(); }

void OtlpHttpExporter::Export(Span span) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || queue_.size() >= options_.max_queue) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    queue_.push_back(std::move(span));
    if (queue_.size() < options_.max_batch) return;
  }
  cv_.notify_one();
}

void OtlpHttpExporter::Shutdown() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void OtlpHttpExporter::Run() {
  for (;;) {
    std::vector<Span> batch;
    bool last = false;
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, options_.interval,
                   [&] { return stopping_ || queue_.size() >= options_.max_batch; });
      const std::size_t n = std::min(queue_.size(), options_.max_batch);
      batch.reserve(n);
      for (std::size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      last = stopping_ && queue_.empty();
    }
    if (!batch.empty()) {
      if (Post(batch)) {
        exported_.fetch_add(batch.size(), std::memory_order_relaxed);
      } else {
        failed_.fetch_add(batch.size(), std::memory_order_relaxed);
        if (stopping_) last = true;  // the collector is gone: do not wait on it for each batch
      }
    }
    if (last) {
      std::lock_guard lock(mu_);
      dropped_.fetch_add(queue_.size(), std::memory_order_relaxed);
      queue_.clear();
      return;
    }
  }
}

bool OtlpHttpExporter::Post(const std::vector<Span>& batch) {
  http::Request req{.method = "POST", .target = target_->path, .body = ToOtlpJson(batch, options_)};
  req.header.Set("Content-Type", "application/json");
  auto rsp = target_->client->SendSync(target_->host_port, std::move(req));
  const bool ok = rsp.ok() && rsp->status >= 200 && rsp->status < 300;
  if (!ok && !failing_) {
    log::Warn("trace export to {} failed: {}", options_.address,
              rsp.ok() ? "HTTP " + std::to_string(rsp->status) : rsp.error().detail);
  } else if (ok && failing_) {
    log::Info("trace export to {} works again", options_.address);
  }
  failing_ = !ok;
  return ok;
}

std::string OtlpHttpExporter::ToOtlpJson(const std::vector<Span>& spans,
                                         const OtlpOptions& options) {
  OtlpJson resource_attrs = OtlpJson::array();
  resource_attrs.push_back(StringAttribute("service.name", options.service_name));
  if (!options.service_version.empty()) {
    resource_attrs.push_back(StringAttribute("service.version", options.service_version));
  }
  resource_attrs.push_back(StringAttribute("telemetry.sdk.name", "micro-cpp"));
  resource_attrs.push_back(StringAttribute("telemetry.sdk.language", "cpp"));
  OtlpJson list = OtlpJson::array();
  for (const Span& s : spans) {
    OtlpJson j;
    j["traceId"] = Hex(s.trace_id);
    j["spanId"] = Hex(s.span_id);
    if (!s.IsRoot()) j["parentSpanId"] = Hex(s.parent_span_id);
    if (!s.tracestate.empty()) j["traceState"] = s.tracestate;
    j["name"] = s.name;
    j["kind"] = static_cast<int>(s.kind);
    j["startTimeUnixNano"] = std::to_string(s.start_unix_nanos);
    j["endTimeUnixNano"] = std::to_string(s.end_unix_nanos);
    OtlpJson attrs = OtlpJson::array();
    for (const auto& [k, v] : s.attributes) attrs.push_back(StringAttribute(k, v));
    j["attributes"] = std::move(attrs);
    if (s.error) {
      j["status"] = {{"code", 2}, {"message", s.status_message}};
    } else {
      j["status"] = OtlpJson::object();
    }
    list.push_back(std::move(j));
  }
  OtlpJson scope = {{"scope", {{"name", "micro-cpp"}, {"version", kVersion}}},
                    {"spans", std::move(list)}};
  OtlpJson body = {
      {"resourceSpans", OtlpJson::array({{{"resource", {{"attributes", resource_attrs}}},
                                          {"scopeSpans", OtlpJson::array({scope})}}})}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace micro::trace

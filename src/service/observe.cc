#include "service/observe.h"

#include "micro/logger.h"

namespace micro::service_detail {
namespace {

Result<bool> ParseBool(std::string_view flag, std::string_view v) {
  if (v == "true" || v == "1") return true;
  if (v == "false" || v == "0") return false;
  return errors::BadRequest(error_ids::kService, "--{}: \"{}\" is not a bool", flag, v);
}

}  // namespace

bool IsObservabilityFlag(std::string_view name) {
  return name == "debug_handler" || name == "debug_address" || name == "metrics" ||
         name == "tracing" || name == "tracer_address" || name == "tracer_sample" ||
         name == "log_format";
}

Status ApplyObservabilityFlag(ServiceOptions& o, std::string_view name, const std::string& v) {
  if (name == "debug_handler" || name == "metrics" || name == "tracing") {
    auto b = ParseBool(name, v);
    if (!b) return b.status();
    (name == "metrics" ? o.metrics : name == "tracing" ? o.tracing : o.debug_handler) = *b;
  } else if (name == "debug_address") {
    o.debug_address = v;
  } else if (name == "tracer_address") {
    o.tracer_address = v;
  } else if (name == "tracer_sample") {
    auto r = trace::ParseSampleRatio(v);
    if (!r) return errors::BadRequest(error_ids::kService, "--tracer_sample: {}", r.error().detail);
    o.tracer_sample = *r;
  } else if (name == "log_format") {
    if (!log::ParseFormat(v)) {
      return errors::BadRequest(error_ids::kService, "--log_format: \"{}\" is not text or json", v);
    }
    o.log_format = v;
  }
  return {};
}

Result<std::shared_ptr<Observer>> MakeObserver(const ServiceOptions& o) {
  if (!o.log_format.empty()) {
    auto format = log::ParseFormat(o.log_format);
    if (!format) {
      return errors::BadRequest(error_ids::kService, "log format \"{}\" is not text or json",
                                o.log_format);
    }
    log::SetFormat(*format);
  }
  log::SetGlobalFields({{"service", o.name}});
  std::shared_ptr<trace::Tracer> tracer;
  if (o.tracing) {
    trace::TracerOptions to{.service = o.name};
    to.sample_ratio = o.tracer_sample.value_or(o.tracer_address.empty() ? 0.0 : 1.0);
    if (!o.tracer_address.empty()) {
      to.exporter = std::make_shared<trace::OtlpHttpExporter>(trace::OtlpOptions{
          .address = o.tracer_address, .service_name = o.name, .service_version = o.version});
    }
    tracer = std::make_shared<trace::Tracer>(std::move(to));
  }
  return std::make_shared<Observer>(ObserverOptions{
      .service = o.name, .version = o.version, .metrics = o.metrics, .tracer = std::move(tracer)});
}

}  // namespace micro::service_detail

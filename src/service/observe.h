// The Service's observability settings: flags and the Observer they build.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "micro/observability.h"
#include "micro/service.h"

namespace micro::service_detail {

bool IsObservabilityFlag(std::string_view name);
Status ApplyObservabilityFlag(ServiceOptions& o, std::string_view name, const std::string& v);
// The tracer (with an OTLP exporter when tracer_address is set), the log format, and the
// "service" log field.
Result<std::shared_ptr<Observer>> MakeObserver(const ServiceOptions& o);

}  // namespace micro::service_detail

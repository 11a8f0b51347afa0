// Makes "nats" known to the name tables when micro::nats is linked (see CMakeLists.txt: the
// anchor symbol below is what pulls this object file into every program that links us).
#include "micro/nats/nats.h"

extern "C" {
// Referenced by the linker option of the micro::nats target; never called.
extern const int micro_nats_plugin_anchor;
const int micro_nats_plugin_anchor = 1;
}

namespace micro::nats {
namespace {

const bool registered = [] {
  Registries().Register("nats", [](const RegistryOptions& o) { return NewRegistry(o); });
  Transports().Register("nats", [](const TransportOptions& o) { return NewTransport(o); });
  Brokers().Register("nats", [](const BrokerOptions& o) { return NewBroker(o); });
  return true;
}();

}  // namespace
}  // namespace micro::nats

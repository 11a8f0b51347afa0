// Makes "nats" known to the registry, transport and broker tables whenever micro::nats is
// linked (see <micro/plugin/register.h> and micro_add_plugin in CMakeLists.txt).
#include <micro/nats/nats.h>
#include <micro/plugin/register.h>

MICRO_PLUGIN(nats) {
  using namespace micro;
  Registries().Register("nats", [](const RegistryOptions& o) { return nats::NewRegistry(o); });
  Transports().Register("nats", [](const TransportOptions& o) { return nats::NewTransport(o); });
  Brokers().Register("nats", [](const BrokerOptions& o) { return nats::NewBroker(o); });
}

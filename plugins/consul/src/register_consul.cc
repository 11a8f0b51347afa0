// Adds "consul" to micro::Registries() when micro::consul is linked. The CMake target forces
// this object file into every link (--undefined=micro_consul_plugin_anchor).
#include "micro/consul/consul.h"

extern "C" {
extern const int micro_consul_plugin_anchor;
const int micro_consul_plugin_anchor =
    micro::Registries().Register(
        "consul", [](const micro::RegistryOptions& o) { return micro::consul::NewRegistry(o); })
        ? 1
        : 0;
}

// Adds "consul" to micro::Registries() whenever micro::consul is linked (see
// <micro/plugin/register.h> and micro_add_plugin in CMakeLists.txt).
#include <micro/consul/consul.h>
#include <micro/plugin/register.h>

MICRO_PLUGIN(consul) {
  micro::Registries().Register(
      "consul", [](const micro::RegistryOptions& o) { return micro::consul::NewRegistry(o); });
}

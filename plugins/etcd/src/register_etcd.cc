// Adds "etcd" to micro::Registries() whenever micro::etcd is linked (see
// <micro/plugin/register.h> and micro_add_plugin in CMakeLists.txt).
#include <micro/etcd/etcd.h>
#include <micro/plugin/register.h>

MICRO_PLUGIN(etcd) {
  micro::Registries().Register(
      "etcd", [](const micro::RegistryOptions& o) { return micro::etcd::NewRegistry(o); });
}

// Adds "etcd" to micro::Registries() when micro::etcd is linked. The CMake target forces this
// object file into every link (--undefined=micro_etcd_plugin_anchor), so the initialiser
// cannot be dropped even though nothing refers to it.
#include "micro/etcd/etcd.h"

extern "C" {
// Referenced only by the linker flag.
extern const int micro_etcd_plugin_anchor;
const int micro_etcd_plugin_anchor =
    micro::Registries().Register(
        "etcd", [](const micro::RegistryOptions& o) { return micro::etcd::NewRegistry(o); })
        ? 1
        : 0;
}

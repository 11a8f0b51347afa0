// Linking micro::file adds "file" to micro::Registries(): micro_add_plugin(NAME file ...) makes
// every link pull this object file in (see <micro/plugin/register.h>).
#include <micro/file/file.h>
#include <micro/plugin/register.h>

MICRO_PLUGIN(file) {
  micro::Registries().Register(
      "file", [](const micro::RegistryOptions& o) { return micro::file::NewRegistry(o); });
}

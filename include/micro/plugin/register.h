// Registering a plugin by linking it: the one way every plugin (ours and yours) makes its names
// known to the tables of <micro/plugin.h> (micro::Registries(), Transports(), Brokers(),
// Selectors()) and its codecs to micro::codec.
//
// In exactly one source file of the plugin library:
//
//   #include <micro/plugin/register.h>
//   MICRO_PLUGIN(file) {
//     micro::Registries().Register("file", [](const micro::RegistryOptions& o) {
//       return micro::file::NewRegistry(o);
//     });
//   }
//
// and build the library with micro_add_plugin(NAME file ...) (installed with the package,
// cmake/MicroPlugin.cmake). The block runs once, during static initialisation, before main.
//
// Why a macro: a static library's object file is only linked when something refers to it, and
// nothing refers to a file that only registers. MICRO_PLUGIN(name) defines the C symbol
// `micro_plugin_anchor_<name>`; micro_add_plugin adds `-Wl,--undefined=micro_plugin_anchor_<name>`
// to everything that links the plugin, which pulls that one object file in (static libraries)
// or keeps the shared library as a dependency (shared libraries). Linking is then enough, for
// in-tree and out-of-tree plugins, static and shared, after `cmake --install` too.
//
// Contract: `name` is a C identifier unique among the plugins of one program (it names the
// anchor, not the table entries, which the body chooses). The body must not throw; it may only
// call functions that are safe during static initialisation (the table accessors are: each is
// a function-local static). Registering a name twice replaces the earlier factory.
#pragma once

#define MICRO_PLUGIN(name)                                                  \
  static void MicroPluginRegister_##name();                                 \
  extern "C" {                                                              \
  extern const int micro_plugin_anchor_##name;                              \
  const int micro_plugin_anchor_##name = (MicroPluginRegister_##name(), 1); \
  }                                                                         \
  static void MicroPluginRegister_##name()

// micro::file: a Registry kept as JSON files in a directory that processes on one machine
// share. For local development without multicast: no daemon, nothing to install, and
// `ls`/`cat` show what is registered.
//
//   target_link_libraries(app PRIVATE micro::file)   // then, with no code change:
//   ./app --registry=file --registry_address=/tmp/micro-registry   (or MICRO_REGISTRY=file)
//   auto reg = micro::file::NewRegistry({.addrs = {"/tmp/micro-registry"}});   // explicitly
//
// Layout: `<dir>/<service>/<node id>.json`, one file per node, holding
// {"expires": <unix ms, 0 = never>, "service": <go-micro JSON of the service with that node>}.
// Names are escaped for the file system (bytes outside [A-Za-z0-9_.-], and a leading '.', become
// %XX). Files are replaced atomically (written aside, then renamed), so a reader never sees half
// a file. Register with a TTL sets `expires`; an expired node is invisible to every reader and is
// deleted by the next Register or Deregister of its service.
//
// RegistryOptions: addrs[0] = the directory (default MICRO_REGISTRY_ADDRESS, else
// $TMPDIR/micro-registry, else /tmp/micro-registry); created when missing.
// params: "file.poll_ms" how often a Watcher rescans (default 100).
//
// Watch: each Watcher has a thread that rescans the directory (or the one service's folder)
// every poll interval and turns differences into events: a new node file = create, a changed
// one = update, a removed or expired one = delete (with the node's last contents).
//
// Errors: a directory that cannot be created or written = 500 (id "go.micro.registry") naming
// the path and the system error; an unreadable or malformed file is skipped (another process may
// be halfway through deleting it). GetService of a service without live nodes = ErrNotFound().
// Threading: every method from any thread, concurrently; processes coordinate only through the
// atomic renames. Ownership: Watchers may outlive the registry (then ErrWatcherStopped()).
#pragma once

#include <micro/registry.h>

#include <memory>

namespace micro::file {

Result<std::shared_ptr<Registry>> NewRegistry(RegistryOptions options);

}  // namespace micro::file

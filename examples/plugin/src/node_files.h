// The on-disk side of the file registry: one JSON file per node (see <micro/file/file.h>).
#pragma once

#include <micro/registry.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

namespace micro::file_detail {

// A node as found on disk: its service (with exactly that node) and the service's JSON, which
// is what a watcher compares to tell an update from a refresh.
struct NodeFile {
  registry::Service service;
  std::string service_json;
  int64_t expires_ms = 0;  // unix milliseconds; 0 = never
};

// Keyed by the file's path.
using NodeFiles = std::map<std::string, NodeFile>;

int64_t UnixMillis();

// The folder (or file) name for a service name or node id: bytes outside [A-Za-z0-9_.-], and
// a leading '.', become %XX, so no name can escape the folder or hide as a dotfile.
std::string EscapeName(std::string_view name);

// Writes the node file of service.nodes[0] atomically (aside, then renamed into place).
Status WriteNode(const std::filesystem::path& root, const registry::Service& service,
                 int64_t expires_ms);
// Removes one node's file, and the service's folder once it is empty. A missing file is fine.
Status RemoveNode(const std::filesystem::path& root, std::string_view service,
                  std::string_view node_id);
// Deletes node files of `service` whose expiry has passed.
void RemoveExpired(const std::filesystem::path& root, std::string_view service);

// The live (unexpired, readable) node files of one service, or of every service when
// `service` is empty. Files that vanish or are malformed meanwhile are skipped.
NodeFiles ScanNodes(const std::filesystem::path& root, std::string_view service);

}  // namespace micro::file_detail

#include "node_files.h"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <system_error>

namespace micro::file_detail {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kErrorId = error_ids::kRegistry;
constexpr std::string_view kSuffix = ".json";

Error FileError(std::string_view what, const fs::path& path, const std::error_code& ec) {
  return errors::InternalServerError(std::string(kErrorId), "file registry: {} {}: {}", what,
                                     path.string(), ec.message());
}

// The parsed file, or nothing when it is not a node file (yet, or any more).
std::optional<NodeFile> ReadNode(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  auto doc = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("service") || !doc["service"].is_object()) {
    return std::nullopt;
  }
  NodeFile node;
  if (auto it = doc.find("expires"); it != doc.end() && it->is_number_integer()) {
    node.expires_ms = it->get<int64_t>();
  }
  node.service_json = doc["service"].dump();
  auto service = registry::ServiceFromJson(node.service_json);
  if (!service.ok() || service->nodes.size() != 1) return std::nullopt;
  node.service = std::move(*service);
  return node;
}

bool Expired(const NodeFile& node, int64_t now_ms) {
  return node.expires_ms != 0 && node.expires_ms <= now_ms;
}

bool IsNodeFileName(const std::string& name) {
  return !name.empty() && name.front() != '.' && name.size() > kSuffix.size() &&
         name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0;
}

void ScanFolder(const fs::path& folder, int64_t now_ms, NodeFiles& out) {
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    if (!IsNodeFileName(it->path().filename().string())) continue;
    auto node = ReadNode(it->path());
    if (node && !Expired(*node, now_ms)) out.emplace(it->path().string(), std::move(*node));
  }
}

}  // namespace

int64_t UnixMillis() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string EscapeName(std::string_view name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    const bool plain = std::isalnum(c) || c == '_' || c == '-' || (c == '.' && i > 0);
    if (plain) {
      out += static_cast<char>(c);
    } else {
      constexpr char kHex[] = "0123456789ABCDEF";
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out.empty() ? "%" : out;
}

Status WriteNode(const fs::path& root, const registry::Service& service, int64_t expires_ms) {
  static std::atomic<uint64_t> counter{0};
  const fs::path folder = root / EscapeName(service.name);
  const std::string file = EscapeName(service.nodes.at(0).id) + std::string(kSuffix);
  const fs::path aside = folder / fmt::format(".{}.{}.{}.tmp", file, getpid(), counter++);
  const std::string text =
      fmt::format("{{\"expires\":{},\"service\":{}}}\n", expires_ms, registry::ToJson(service));
  // Twice: another process may remove the (empty) folder between our mkdir and our write.
  std::error_code ec;
  for (int attempt = 0; attempt < 2; ++attempt) {
    fs::create_directories(folder, ec);
    if (ec) return FileError("cannot create", folder, ec);
    {
      std::ofstream out(aside, std::ios::binary | std::ios::trunc);
      if (!out) continue;
      out << text;
      out.close();
      if (!out) return FileError("cannot write", aside, std::make_error_code(std::errc::io_error));
    }
    fs::rename(aside, folder / file, ec);
    if (!ec) return {};
    fs::remove(aside);
  }
  return FileError("cannot write", folder / file,
                   ec ? ec : std::make_error_code(std::errc::no_such_file_or_directory));
}

Status RemoveNode(const fs::path& root, std::string_view service, std::string_view node_id) {
  const fs::path folder = root / EscapeName(service);
  const fs::path path = folder / (EscapeName(node_id) + std::string(kSuffix));
  std::error_code ec;
  fs::remove(path, ec);
  if (ec) return FileError("cannot remove", path, ec);
  fs::remove(folder, ec);  // fails, harmlessly, while other nodes (or a writer's file) are there
  return {};
}

void RemoveExpired(const fs::path& root, std::string_view service) {
  const fs::path folder = root / EscapeName(service);
  const int64_t now = UnixMillis();
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    if (!IsNodeFileName(it->path().filename().string())) continue;
    auto node = ReadNode(it->path());
    std::error_code ignored;
    if (node && Expired(*node, now)) fs::remove(it->path(), ignored);
  }
}

NodeFiles ScanNodes(const fs::path& root, std::string_view service) {
  NodeFiles out;
  const int64_t now = UnixMillis();
  if (!service.empty()) {
    ScanFolder(root / EscapeName(service), now, out);
    return out;
  }
  std::error_code ec;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code not_dir;
    if (it->is_directory(not_dir)) ScanFolder(it->path(), now, out);
  }
  return out;
}

}  // namespace micro::file_detail

// The content-type table: which codec serves which Content-Type.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>
#include <mutex>
#include <shared_mutex>

#include "codec/body.h"

namespace micro::codec {
namespace {

struct Table {
  std::shared_mutex mu;
  std::map<std::string, std::shared_ptr<const Codec>, std::less<>> codecs;

  Table() {
    codecs["application/json"] = NewJsonCodec();
    codecs["application/protobuf"] = NewProtoCodec();
    codecs["application/octet-stream"] = NewBytesCodec();
    codecs["application/json-rpc"] = NewJsonRpcCodec();
    codecs["application/proto-rpc"] = NewProtoRpcCodec();
    codecs["application/grpc"] = NewGrpcCodec("application/grpc");
    codecs["application/grpc+proto"] = NewGrpcCodec("application/grpc+proto");
    codecs["application/grpc+json"] = NewGrpcCodec("application/grpc+json");
  }

  static Table& Get() {
    static Table* table = new Table();  // never destroyed: I/O threads may outlive main
    return *table;
  }
};

}  // namespace

std::string NormalizeContentType(std::string_view content_type) {
  const auto semi = content_type.find(';');
  if (semi != std::string_view::npos) content_type = content_type.substr(0, semi);
  while (!content_type.empty() && (content_type.back() == ' ' || content_type.back() == '\t')) {
    content_type.remove_suffix(1);
  }
  while (!content_type.empty() && (content_type.front() == ' ' || content_type.front() == '\t')) {
    content_type.remove_prefix(1);
  }
  std::string out(content_type);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

Result<std::shared_ptr<const Codec>> Lookup(std::string_view content_type) {
  auto& table = Table::Get();
  {
    std::shared_lock lock(table.mu);
    // Fast path: the exact, already-normal value (what every micro peer sends).
    if (auto it = table.codecs.find(content_type); it != table.codecs.end()) return it->second;
  }
  const std::string normal = NormalizeContentType(content_type);
  std::shared_lock lock(table.mu);
  if (auto it = table.codecs.find(normal); it != table.codecs.end()) return it->second;
  std::vector<std::string_view> known;
  for (const auto& [name, codec] : table.codecs) known.push_back(name);
  return errors::BadRequest(std::string(internal::kErrorId),
                            "unsupported Content-Type: \"{}\" (known: {})", content_type,
                            fmt::join(known, ", "));
}

void RegisterCodec(std::string_view content_type, std::shared_ptr<const Codec> codec) {
  auto& table = Table::Get();
  std::unique_lock lock(table.mu);
  table.codecs[NormalizeContentType(content_type)] = std::move(codec);
}

std::vector<std::string> ContentTypes() {
  auto& table = Table::Get();
  std::shared_lock lock(table.mu);
  std::vector<std::string> out;
  for (const auto& [name, codec] : table.codecs) out.push_back(name);
  return out;
}

}  // namespace micro::codec

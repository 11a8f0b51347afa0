// The dashboard's files (src/web/assets/), compiled into the library by
// cmake/MicroEmbedAssets.cmake: nothing is read from disk or fetched at run time.
#pragma once

#include <cstddef>
#include <string_view>

namespace micro::web_detail {

struct Asset {
  std::string_view path;  // "/index.html", "/app.js", ...
  std::string_view data;
};

extern const Asset kAssets[];
extern const std::size_t kAssetCount;

// The asset at path, or nullptr.
const Asset* FindAsset(std::string_view path);

// The Content-Type for an asset's file name ("text/html; charset=utf-8", ...).
std::string_view AssetContentType(std::string_view path);

}  // namespace micro::web_detail

#pragma once

// The console's pages (HTML, CSS, JavaScript) from provision/web/assets/, compiled into the
// executable by cmake/embed_assets.cmake: nothing is fetched at run time, no CDN.

#include <string_view>
#include <vector>

namespace labctl::web {

struct Asset {
  std::string_view name;  // "app.js"
  std::string_view content_type;
  std::string_view body;
};

const std::vector<Asset>& assets();
// The asset named `name`, or nullptr.
const Asset* find_asset(std::string_view name);

}  // namespace labctl::web

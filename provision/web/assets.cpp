#include "provision/web/assets.hpp"

namespace labctl::web {

const Asset* find_asset(std::string_view name) {
  for (const Asset& asset : assets()) {
    if (asset.name == name) {
      return &asset;
    }
  }
  return nullptr;
}

}  // namespace labctl::web

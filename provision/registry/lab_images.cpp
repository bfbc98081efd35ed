#include "provision/registry/lab_images.hpp"

#include <algorithm>

#include "stacks/squashtm/render.hpp"

namespace labctl::registry {
namespace {

class Uses {
 public:
  Status add(const std::string& image, const std::string& user, const ErrorSite* site) {
    auto ref = parse_reference(image);
    if (!ref) {
      return ref.error();
    }
    auto it = std::find_if(m_uses.begin(), m_uses.end(),
                           [&](const ImageUse& u) { return u.ref.name() == ref->name(); });
    if (it == m_uses.end()) {
      m_uses.push_back({*ref, {}, {}});
      it = std::prev(m_uses.end());
    }
    it->users.push_back(user);
    if (site != nullptr && site->line > 0 &&
        std::none_of(it->sites.begin(), it->sites.end(), [&](const ErrorSite& s) {
          return s.line == site->line && s.column == site->column && s.file == site->file;
        })) {
      it->sites.push_back(*site);
    }
    return {};
  }
  std::vector<ImageUse> take() { return std::move(m_uses); }

 private:
  std::vector<ImageUse> m_uses;
};

bool in_scope(const LabImageOptions& options, const std::string& team) {
  return options.teams.empty() ||
         std::find(options.teams.begin(), options.teams.end(), team) != options.teams.end();
}

}  // namespace

const char* db_image(model::DbKind db) {
  switch (db) {
    case model::DbKind::postgresql:
      return squashtm::k_postgres_image;
    case model::DbKind::mariadb:
      return squashtm::k_mariadb_image;
    default:
      return nullptr;  // h2: inside the application
  }
}

Result<Reference> squash_image(const model::Instance& instance) {
  return parse_reference(instance.image + ":" + instance.version);
}

Result<std::vector<ImageUse>> lab_images(const model::Lab& lab, const LabImageOptions& options) {
  Uses uses;
  for (const model::Team& team : lab.teams) {
    if (!in_scope(options, team.name)) {
      continue;
    }
    for (const model::Vm& vm : team.vms) {
      const std::string where = team.name + "/" + vm.key;
      for (const model::Instance& instance : vm.instances) {
        const std::string user = where + "/" + instance.name;
        Status st = uses.add(instance.image + ":" + instance.version, user, &instance.version_site);
        if (st && db_image(instance.db) != nullptr) {
          st = uses.add(db_image(instance.db), user, nullptr);
        }
        if (!st) {
          return st.error();
        }
      }
      if (vm.instances.empty()) {
        continue;
      }
      if (options.proxy) {
        (void)uses.add(squashtm::k_proxy_image, where + " (proxy)", nullptr);
      }
      if (options.autoheal) {
        (void)uses.add(squashtm::k_autoheal_image, where + " (autoheal)", nullptr);
      }
    }
  }
  return uses.take();
}

}  // namespace labctl::registry

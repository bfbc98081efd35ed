#include <fmt/format.h>

#include "provision/cli/common.hpp"
#include "provision/model/loader.hpp"

namespace labctl::cli {

void add_validate(Registry r) {
  auto* sub = r.app.add_subcommand("validate", "Check a lab file; print a summary");
  auto file = std::make_shared<std::string>();
  sub->add_option("FILE", *file, "Lab file (default: -f, $LABCTL_FILE, ./labctl.yaml)");
  sub->callback([r, file] {
    r.command = [r, file]() -> Status {
      GlobalOptions global = r.global;
      if (!file->empty()) {
        global.file = *file;
      }
      auto lab = load(global);
      if (!lab) {
        return lab.error();
      }
      std::size_t vms = 0;
      for (const model::Team& team : lab->teams) {
        vms += team.vms.size();
      }
      fmt::print("{}: ok: classroom {}, {} teams, {} VMs\n", lab->file, lab->classroom,
                 lab->teams.size(), vms);
      return {};
    };
  });
}

}  // namespace labctl::cli

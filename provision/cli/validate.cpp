#include <fmt/format.h>

#include "provision/cli/common.hpp"
#include "provision/model/loader.hpp"

namespace labctl::cli {

namespace {

void print_summary(const GlobalOptions& global, const model::Lab& lab) {
  std::size_t vms = 0;
  for (const model::Team& team : lab.teams) {
    vms += team.vms.size();
  }
  if (global.json) {
    global.output->document = {{"file", lab.file},
                               {"classroom", lab.classroom},
                               {"teams", lab.teams.size()},
                               {"vms", vms}};
  } else {
    fmt::print("{}: ok: classroom {}, {} teams, {} VMs\n", lab.file, lab.classroom,
               lab.teams.size(), vms);
  }
}

}  // namespace

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
      // The lab is valid; what its hosts must provide is checked here too (nothing connects).
      if (auto st = converge::check_host_setups(hosts_of(global), *lab); !st) {
        return st;
      }
      print_summary(global, *lab);
      return {};
    };
  });
}

}  // namespace labctl::cli

#include <fmt/format.h>

#include "provision/cli/converge.hpp"
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
      plan::Scope all;
      all.all = true;
      std::string problems;
      for (const auto& [uri, teams] : teams_by_host(global, *lab, all)) {
        if (auto st = hv::check_host_setup(uri, teams); !st) {
          problems += fmt::format("\n  {}: {}", uri, st.error().message);
        }
      }
      if (!problems.empty()) {
        return Error::failure(lab->file + ": valid, but a host is not ready:" + problems);
      }
      print_summary(global, *lab);
      return {};
    };
  });
}

}  // namespace labctl::cli

#include "provision/converge/reset.hpp"

#include <fmt/format.h>

#include "provision/converge/session.hpp"

namespace labctl::converge {

Result<std::vector<const model::Vm*>> reset_targets(const model::Lab& lab, const model::Team& team,
                                                    const std::string& vm_key) {
  std::vector<const model::Vm*> vms;
  for (const model::Vm& vm : team.vms) {
    if (vm_key.empty() || vm.key == vm_key) {
      vms.push_back(&vm);
    }
  }
  if (vms.empty()) {
    return Error::usage(fmt::format("{}: team {} has no VM '{}'", lab.file, team.name, vm_key));
  }
  return vms;
}

Result<std::vector<ready::VmReadiness>> reset_vms(model::Lab& lab, const HostChoice& hosts,
                                                  const std::string& team,
                                                  const std::string& vm_key, const Options& options,
                                                  sys::Reporter& reporter) {
  const model::Team* found = lab.find_team(team);
  if (found == nullptr) {
    return Error::usage(fmt::format("{}: no team '{}'", lab.file, team));
  }
  auto vms = reset_targets(lab, *found, vm_key);
  if (!vms) {
    return vms.error();
  }
  auto uri = host_uri(hosts, lab, found);  // before the state directory is made
  if (!uri) {
    return uri.error();
  }
  auto state = sys::StateDir::open(lab.classroom);
  if (!state) {
    return state.error();
  }
  Session session(lab, options);
  session.use_state(*state);
  session.report_to(reporter);
  return session.reset(*uri, *found, vm_key, *vms);
}

}  // namespace labctl::converge

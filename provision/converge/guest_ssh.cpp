#include "provision/converge/guest_ssh.hpp"

namespace labctl::converge {

Result<ready::SshTarget> ssh_target(const model::Lab& lab, const sys::StateDir& state,
                                    const model::Vm& vm) {
  auto host = state.host_key(vm.name);
  if (!host) {
    return host.error();
  }
  std::string ip;
  for (const model::Nic& nic : vm.nics) {
    if (!nic.ip.empty()) {
      ip = nic.ip;
      break;
    }
  }
  if (ip.empty()) {
    return Error::failure(vm.name + ": no static address to reach it at");
  }
  return ready::SshTarget{
      ip, 22, lab.admin_user, state.private_key_path().string(), host->public_line, 10};
}

Result<std::unique_ptr<apply::SshRemote>> connect_remote(const model::Lab& lab,
                                                         const sys::StateDir& state,
                                                         const model::Vm& vm) {
  auto target = ssh_target(lab, state, vm);
  if (!target) {
    return target.error();
  }
  auto session = ready::SshSession::connect(*target);
  if (!session) {
    return session.error();
  }
  return std::make_unique<apply::SshRemote>(std::move(*session));
}

}  // namespace labctl::converge

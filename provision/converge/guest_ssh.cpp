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

namespace {

// The VM's target, from the state directory opened read-only.
Result<std::pair<sys::StateDir, ready::SshTarget>> read_only_target(const model::Lab& lab,
                                                                    const model::Vm& vm) {
  auto state = sys::StateDir::open_read_only(lab.classroom);
  auto target = state ? ssh_target(lab, *state, vm) : Result<ready::SshTarget>(state.error());
  if (!target) {
    return target.error();
  }
  return std::pair{std::move(*state), std::move(*target)};
}

}  // namespace

Result<GuestCommand> run_on_vm(const model::Lab& lab, const model::Vm& vm,
                               const std::vector<std::string>& words) {
  auto found = read_only_target(lab, vm);
  if (!found) {
    return found.error();
  }
  GuestCommand out;
  for (const std::string& word : words) {
    out.command += (out.command.empty() ? "" : " ") + word;
  }
  auto session = ready::SshSession::connect(found->second);
  auto result =
      session ? (*session)->exec(out.command) : Result<ready::ExecResult>(session.error());
  if (!result) {
    return result.error();
  }
  out.result = std::move(*result);
  return out;
}

Result<InteractiveSsh> interactive_ssh(const model::Lab& lab, const model::Vm& vm) {
  auto found = read_only_target(lab, vm);
  if (!found) {
    return found.error();
  }
  const auto& [state, target] = *found;
  return InteractiveSsh{target.private_key_file, state.known_hosts_path().string(),
                        target.user + "@" + target.host};
}

}  // namespace labctl::converge

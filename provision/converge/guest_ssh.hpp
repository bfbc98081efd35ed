#pragma once

// labctl's own SSH to a classroom VM: the target (the VM's static address, the admin user
// with the classroom's key, the VM's pinned host key, all from the state directory) and a
// root remote for the stack over a fresh session. Here, not in apply/, because it needs
// ready/'s libssh session.

#include <memory>
#include <string>
#include <vector>

#include "provision/apply/ssh_remote.hpp"
#include "provision/model/lab.hpp"
#include "provision/ready/ssh.hpp"
#include "provision/result.hpp"
#include "provision/sys/state.hpp"

namespace labctl::converge {

Result<ready::SshTarget> ssh_target(const model::Lab& lab, const sys::StateDir& state,
                                    const model::Vm& vm);

// An SSH session to the VM with the classroom's key and the VM's pinned host key.
Result<std::unique_ptr<apply::SshRemote>> connect_remote(const model::Lab& lab,
                                                         const sys::StateDir& state,
                                                         const model::Vm& vm);

// `labctl ssh TEAM VM -- CMD`: the command words, joined by spaces, run on the VM over
// labctl's own session (the state directory read only: the keys are `up`'s).
struct GuestCommand {
  std::string command;  // the words as run
  ready::ExecResult result;
};
Result<GuestCommand> run_on_vm(const model::Lab& lab, const model::Vm& vm,
                               const std::vector<std::string>& words);

// What an interactive `labctl ssh TEAM VM` gives OpenSSH's client: the classroom's key, the
// state directory's exact known_hosts and the login.
struct InteractiveSsh {
  std::string key_file;
  std::string known_hosts;
  std::string login;  // user@host
};
Result<InteractiveSsh> interactive_ssh(const model::Lab& lab, const model::Vm& vm);

}  // namespace labctl::converge

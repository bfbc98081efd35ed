#include <unistd.h>

#include <fmt/format.h>

#include "provision/apply/guest.hpp"
#include "provision/cli/common.hpp"
#include "provision/sys/state.hpp"

namespace labctl::cli {

namespace {

struct SshArgs {
  std::string team;
  std::string vm;
  std::vector<std::string> command;
};

Status run_ssh(const GlobalOptions& global, const SshArgs& args) {
  auto found = find_vm(global, args.team, args.vm);
  if (!found) {
    return found.error();
  }
  const auto& [lab, vm] = *found;
  auto state = sys::StateDir::open(lab.classroom);
  if (!state) {
    return state.error();
  }
  auto target = apply::ssh_target(lab, *state, *vm);
  if (!target) {
    return target.error();
  }
  if (args.command.empty()) {
    // An interactive session: OpenSSH's client, with the classroom's key and exact known_hosts.
    const std::string key = target->private_key_file;
    const std::string known = "UserKnownHostsFile=" + state->known_hosts_path().string();
    const std::string login = target->user + "@" + target->host;
    ::execlp("ssh", "ssh", "-i", key.c_str(), "-o", known.c_str(), "-o",
             "StrictHostKeyChecking=yes", "-o", "IdentitiesOnly=yes", login.c_str(), nullptr);
    return Error::failure("cannot run ssh (install openssh-client)");
  }
  std::string command;
  for (const std::string& word : args.command) {
    command += (command.empty() ? "" : " ") + word;
  }
  auto session = ready::SshSession::connect(*target);
  if (!session) {
    return session.error();
  }
  auto result = (*session)->exec(command);
  if (!result) {
    return result.error();
  }
  fmt::print("{}", result->out);
  fmt::print(stderr, "{}", result->err);
  if (result->exit_code != 0) {
    return Error::failure(fmt::format("{} on {}/{} exited {}", args.command[0], args.team, args.vm,
                                      result->exit_code));
  }
  return {};
}

}  // namespace

void add_ssh(Registry r) {
  auto* sub = r.app.add_subcommand("ssh", "Open a session on a VM, or run CMD there (after --)");
  auto args = std::make_shared<SshArgs>();
  sub->add_option("TEAM", args->team, "Team")->required();
  sub->add_option("VM", args->vm, "VM")->required();
  sub->add_option("CMD", args->command, "Command to run (after --)");
  sub->callback([r, args] { r.command = [r, args] { return run_ssh(r.global, *args); }; });
}

}  // namespace labctl::cli

#include <unistd.h>

#include <fmt/format.h>

#include "provision/cli/common.hpp"
#include "provision/converge/guest_ssh.hpp"
#include "provision/sys/state.hpp"

namespace labctl::cli {

namespace {

struct SshArgs {
  std::string team;
  std::string vm;
  std::vector<std::string> command;
};

// An interactive session: OpenSSH's client, with the classroom's key and exact known_hosts.
Status run_interactive(const sys::StateDir& state, const ready::SshTarget& target) {
  const std::string key = target.private_key_file;
  const std::string known = "UserKnownHostsFile=" + state.known_hosts_path().string();
  const std::string login = target.user + "@" + target.host;
  ::execlp("ssh", "ssh", "-i", key.c_str(), "-o", known.c_str(), "-o", "StrictHostKeyChecking=yes",
           "-o", "IdentitiesOnly=yes", login.c_str(), nullptr);
  return Error::failure("cannot run ssh (install openssh-client)");
}

Status run_command(const GlobalOptions& global, const SshArgs& args,
                   const ready::SshTarget& target) {
  std::string command;
  for (const std::string& word : args.command) {
    command += (command.empty() ? "" : " ") + word;
  }
  auto session = ready::SshSession::connect(target);
  auto result = session ? (*session)->exec(command) : Result<ready::ExecResult>(session.error());
  if (!result) {
    return result.error();
  }
  if (global.json) {
    global.output->document = {{"team", args.team},     {"vm", args.vm},
                               {"command", command},    {"exit_code", result->exit_code},
                               {"stdout", result->out}, {"stderr", result->err}};
  } else {
    fmt::print("{}", result->out);
    fmt::print(stderr, "{}", result->err);
  }
  if (result->exit_code != 0) {
    return Error::failure(fmt::format("{} on {}/{} exited {}", args.command[0], args.team, args.vm,
                                      result->exit_code));
  }
  return {};
}

Status run_ssh(const GlobalOptions& global, const SshArgs& args) {
  if (args.command.empty() && global.json) {
    return Error::usage("an interactive ssh session has no JSON output: give a command after --");
  }
  auto found = find_vm(global, args.team, args.vm);
  if (!found) {
    return found.error();
  }
  const auto& [lab, vm] = *found;
  auto state = sys::StateDir::open_read_only(lab.classroom);  // the keys are `up`'s
  auto target =
      state ? converge::ssh_target(lab, *state, *vm) : Result<ready::SshTarget>(state.error());
  if (!target) {
    return target.error();
  }
  return args.command.empty() ? run_interactive(*state, *target)
                              : run_command(global, args, *target);
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

#include <unistd.h>

#include <fmt/format.h>

#include "provision/cli/common.hpp"
#include "provision/converge/guest_ssh.hpp"

namespace labctl::cli {

namespace {

struct SshArgs {
  std::string team;
  std::string vm;
  std::vector<std::string> command;
};

// An interactive session: OpenSSH's client, with the classroom's key and exact known_hosts.
Status run_interactive(const converge::InteractiveSsh& ssh) {
  const std::string known = "UserKnownHostsFile=" + ssh.known_hosts;
  ::execlp("ssh", "ssh", "-i", ssh.key_file.c_str(), "-o", known.c_str(), "-o",
           "StrictHostKeyChecking=yes", "-o", "IdentitiesOnly=yes", ssh.login.c_str(), nullptr);
  return Error::failure("cannot run ssh (install openssh-client)");
}

Status run_command(const GlobalOptions& global, const SshArgs& args,
                   const converge::GuestCommand& ran) {
  const ready::ExecResult& result = ran.result;
  if (global.json) {
    global.output->document = {{"team", args.team},      {"vm", args.vm},
                               {"command", ran.command}, {"exit_code", result.exit_code},
                               {"stdout", result.out},   {"stderr", result.err}};
  } else {
    fmt::print("{}", result.out);
    fmt::print(stderr, "{}", result.err);
  }
  if (result.exit_code != 0) {
    return Error::failure(fmt::format("{} on {}/{} exited {}", args.command[0], args.team, args.vm,
                                      result.exit_code));
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
  if (args.command.empty()) {
    auto ssh = converge::interactive_ssh(lab, *vm);
    return ssh ? run_interactive(*ssh) : Status(ssh.error());
  }
  auto ran = converge::run_on_vm(lab, *vm, args.command);
  return ran ? run_command(global, args, *ran) : Status(ran.error());
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

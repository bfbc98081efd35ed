#include "provision/ready/stages.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <fstream>
#include <thread>

#include <fmt/format.h>

namespace labctl::ready {

namespace {

using Clock = std::chrono::steady_clock;

struct Check {
  bool done = false;
  std::string message;  // what the last attempt saw
  bool fatal = false;   // no point in retrying (e.g. cloud-init finished in error)
};

Check check_domain(const Deps& deps, const model::Vm& vm, Stage stage) {
  auto state = deps.hypervisor->domain_state(vm.name);
  if (!state) {
    return {false, state.error().message, stage == Stage::defined};
  }
  if (stage == Stage::defined) {
    return {true, ""};
  }
  return {*state == hv::PowerState::running, "VM is " + hv::to_string(*state)};
}

Check check_ssh(const Deps& deps, const model::Vm& vm, const std::string& command,
                const std::string& what) {
  auto target = deps.ssh_target(vm);
  if (!target) {
    return {false, target.error().message, true};
  }
  auto session = SshSession::connect(*target);
  if (!session) {
    return {false, session.error().message};
  }
  if (command.empty()) {
    return {true, ""};
  }
  auto result = (*session)->exec(command);
  if (!result) {
    return {false, result.error().message};
  }
  if (result->exit_code != 0) {
    std::string out = result->out + result->err;
    while (!out.empty() && out.back() == '\n') {
      out.pop_back();
    }
    return {false, fmt::format("{} exited {}: {}", what, result->exit_code, out)};
  }
  return {true, ""};
}

Check check_stack(const Deps& deps, const model::Vm& vm) {
  for (const model::Instance& instance : deps.instances ? deps.instances(vm) : vm.instances) {
    if (!deps.instance_healthy || !deps.instance_healthy(vm_address(vm), instance)) {
      return {false,
              fmt::format("instance {} does not answer on port {}", instance.name, instance.port)};
    }
  }
  return {true, ""};
}

Check check(const Deps& deps, const model::Vm& vm, Stage stage) {
  switch (stage) {
    case Stage::defined:
    case Stage::running:
      return check_domain(deps, vm, stage);
    case Stage::address:
      return {host_answers(vm_address(vm), 22, std::chrono::milliseconds(1500)),
              "no answer from " + vm_address(vm)};
    case Stage::ssh:
      return check_ssh(deps, vm, "", "");
    case Stage::cloud_init: {
      Check c = check_ssh(
          deps, vm, "timeout 1200 cloud-init status --wait >/dev/null; cloud-init status --long",
          "cloud-init status");
      // `status --wait` returned, so cloud-init is finished: an error will not go away.
      c.fatal = !c.done && c.message.starts_with("cloud-init status exited");
      return c;
    }
    case Stage::docker:
      return check_ssh(deps, vm, "sudo -n docker info --format '{{.ServerVersion}}'",
                       "docker info");
    case Stage::stack:
      return check_stack(deps, vm);
    case Stage::none:
      break;
  }
  return {true, ""};
}

std::chrono::seconds timeout_of(const Timeouts& t, Stage stage) {
  switch (stage) {
    case Stage::running:
      return t.running;
    case Stage::address:
      return t.address;
    case Stage::ssh:
      return t.ssh;
    case Stage::cloud_init:
      return t.cloud_init;
    case Stage::docker:
      return t.docker;
    case Stage::stack:
      return t.stack;
    default:
      return std::chrono::seconds(10);
  }
}

bool stopping(const Deps& deps) {
  return deps.stop != nullptr && deps.stop->load();
}

Status deploy(const model::Vm& vm, const Deps& deps, sys::Reporter& reporter) {
  reporter.report({vm.team, vm.key, "deploy stack", sys::EventState::running});
  const auto start = Clock::now();
  Status deployed = deps.deploy(vm);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  reporter.report({vm.team, vm.key, "deploy stack",
                   deployed ? sys::EventState::done : sys::EventState::failed,
                   deployed ? "" : deployed.error().message, seconds});
  return deployed;
}

VmReadiness wait_one(const model::Vm& vm, const Deps& deps, const Timeouts& timeouts, Stage target,
                     sys::Reporter& reporter) {
  VmReadiness r{vm.team, vm.key};
  const auto start = Clock::now();
  for (int s = static_cast<int>(Stage::defined); s <= static_cast<int>(target); ++s) {
    const auto stage = static_cast<Stage>(s);
    if (stage == Stage::stack && deps.deploy) {
      if (auto st = deploy(vm, deps, reporter); !st) {
        r.failed = stage;
        r.message = st.error().message;
        break;
      }
    }
    const auto deadline = Clock::now() + timeout_of(timeouts, stage);
    reporter.report({vm.team, vm.key, "stage " + to_string(stage), sys::EventState::running});
    Check c = check(deps, vm, stage);
    while (!c.done && !c.fatal && Clock::now() < deadline && !stopping(deps)) {
      std::this_thread::sleep_for(timeouts.poll);
      c = check(deps, vm, stage);
    }
    const double at = std::chrono::duration<double>(Clock::now() - start).count();
    if (!c.done) {
      r.failed = stage;
      r.message = stopping(deps)
                      ? "stopped by request"
                      : (c.fatal ? c.message
                                 : fmt::format("timed out after {}s: {}",
                                               timeout_of(timeouts, stage).count(), c.message));
      if (deps.serial_log) {
        r.serial_tail = tail_lines(deps.serial_log(vm), 15);
      }
      reporter.report(
          {vm.team, vm.key, "stage " + to_string(stage), sys::EventState::failed, r.message, at});
      break;
    }
    r.reached = stage;
    r.stage_seconds.emplace_back(stage, at);
    reporter.report({vm.team, vm.key, "stage " + to_string(stage), sys::EventState::done, "", at});
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return r;
}

}  // namespace

std::string to_string(Stage stage) {
  switch (stage) {
    case Stage::none:
      return "-";
    case Stage::defined:
      return "defined";
    case Stage::running:
      return "running";
    case Stage::address:
      return "address";
    case Stage::ssh:
      return "ssh";
    case Stage::cloud_init:
      return "cloud-init done";
    case Stage::docker:
      return "docker up";
    case Stage::stack:
      return "stack healthy";
  }
  return "?";
}

std::vector<VmReadiness> wait_ready(const model::Lab& /*lab*/,
                                    const std::vector<const model::Vm*>& vms, const Deps& deps,
                                    const Timeouts& timeouts, Stage target,
                                    sys::Reporter& reporter) {
  std::vector<VmReadiness> results(vms.size());
  {
    std::vector<std::jthread> threads;
    for (std::size_t i = 0; i < vms.size(); ++i) {
      threads.emplace_back(
          [&, i] { results[i] = wait_one(*vms[i], deps, timeouts, target, reporter); });
    }
  }
  return results;
}

VmReadiness probe(const model::Lab& /*lab*/, const model::Vm& vm, const Deps& deps) {
  VmReadiness r{vm.team, vm.key};
  for (int s = static_cast<int>(Stage::defined); s <= static_cast<int>(Stage::stack); ++s) {
    const auto stage = static_cast<Stage>(s);
    // `status` must not wait on a VM still booting: cloud-init is asked, not awaited.
    Check c = stage == Stage::cloud_init
                  ? check_ssh(deps, vm, "cloud-init status | grep -q 'status: done'", "cloud-init")
                  : check(deps, vm, stage);
    if (!c.done) {
      r.failed = stage;
      r.message = c.message;
      break;
    }
    r.reached = stage;
  }
  return r;
}

std::string vm_address(const model::Vm& vm) {
  for (const model::Nic& nic : vm.nics) {
    if (!nic.ip.empty()) {
      return nic.ip;
    }
  }
  return "";
}

bool host_answers(const std::string& ip, int port, std::chrono::milliseconds timeout) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::inet_pton(AF_INET, ip.c_str(), &addr.sin_addr) != 1) {
    return false;
  }
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  bool answered = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    answered = true;
  } else if (errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) == 1) {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      answered = err == 0 || err == ECONNREFUSED;
    }
  } else {
    answered = errno == ECONNREFUSED;
  }
  ::close(fd);
  return answered;
}

std::vector<std::string> tail_lines(const std::string& path, std::size_t count) {
  std::ifstream in(path);
  std::deque<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (line.empty()) {
      continue;
    }
    lines.push_back(line);
    if (lines.size() > count) {
      lines.pop_front();
    }
  }
  return {lines.begin(), lines.end()};
}

}  // namespace labctl::ready

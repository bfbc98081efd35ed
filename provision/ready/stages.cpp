#include "provision/ready/stages.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <fstream>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "provision/ready/console.hpp"
#include "provision/sys/shell.hpp"

namespace labctl::ready {

namespace {

using SteadyClock = std::chrono::steady_clock;

class RealClock : public Clock {
 public:
  SteadyClock::time_point now() const override { return SteadyClock::now(); }
  void sleep(std::chrono::milliseconds duration) const override {
    std::this_thread::sleep_for(duration);
  }
};

const Clock& clock_of(const Deps& deps) {
  return deps.clock != nullptr ? *deps.clock : real_clock();
}

// The longest one guest-side wait (one SSH exec) may take before labctl looks again.
constexpr long k_guest_wait_seconds = 15;

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

// The VM's SSH session, opened by the ssh stage and kept for the stages after it: each new
// connection costs the guest an sshd start and a key exchange, which under TCG is seconds
// taken from the boot being waited for. Dropped when it fails, and opened again.
using SessionSlot = std::unique_ptr<sys::Shell>;

Result<std::unique_ptr<sys::Shell>> connect(const Deps& deps, const SshTarget& target) {
  if (deps.connect) {
    return deps.connect(target);
  }
  auto session = SshSession::connect(target);
  if (!session) {
    return session.error();
  }
  return std::unique_ptr<sys::Shell>(std::move(*session));
}

Result<sys::Shell*> session_of(const Deps& deps, const model::Vm& vm, SessionSlot& slot) {
  if (!slot) {
    auto target = deps.ssh_target(vm);
    if (!target) {
      return target.error();
    }
    auto session = connect(deps, *target);
    if (!session) {
      return Error::failure(session.error().message);
    }
    slot = std::move(*session);
  }
  return slot.get();
}

bool tcp_answers(const Deps& deps, const std::string& ip, int port,
                 std::chrono::milliseconds timeout) {
  return deps.tcp_answers ? deps.tcp_answers(ip, port, timeout) : host_answers(ip, port, timeout);
}

// The ssh stage: labctl logs in with the classroom key, the host key pinned.
Check check_ssh(const Deps& deps, const model::Vm& vm, SessionSlot& slot) {
  if (auto target = deps.ssh_target(vm); !target) {
    return {false, target.error().message, true};
  }
  auto session = session_of(deps, vm, slot);
  if (!session) {
    return {false, session.error().message};
  }
  return {true, ""};
}

Check check_stack(const Deps& deps, const model::Vm& vm) {
  const Result<std::vector<model::Instance>> instances =
      deps.instances ? deps.instances(vm) : Result<std::vector<model::Instance>>(vm.instances);
  if (!instances) {
    return {false, instances.error().message, true};
  }
  for (const model::Instance& instance : *instances) {
    if (!deps.instance_healthy || !deps.instance_healthy(vm_address(vm), instance)) {
      return {false,
              fmt::format("instance {} does not answer on port {}", instance.name, instance.port)};
    }
  }
  return {true, ""};
}

Check check_of(const StageOutcome& o) {
  return {o.done, o.message, o.fatal};
}

// One SSH exec of a guest-side wait command, its answer given to `read`.
Check check_guest(const Deps& deps, const model::Vm& vm, SessionSlot& slot,
                  const std::string& command,
                  const std::function<StageOutcome(const sys::ProcessResult&)>& read) {
  if (auto target = deps.ssh_target(vm); !target) {
    return {false, target.error().message, true};
  }
  auto session = session_of(deps, vm, slot);
  if (!session) {
    return {false, session.error().message};
  }
  auto result = (*session)->exec(command);
  if (!result) {
    slot.reset();
    return {false, result.error().message};
  }
  return check_of(read(*result));
}

// Once it succeeded, only stdout is the answer (stray stderr, e.g. from a profile, is not).
std::string answer_of(int exit_code, const std::string& out, const std::string& err) {
  return exit_code == 0 ? out : out + err;
}

// The cloud-init stage, with Docker's first look kept in `docker` for the docker stage.
Check check_cloud_init(const Deps& deps, const model::Vm& vm, int wait_seconds, SessionSlot& slot,
                       std::optional<StageOutcome>& docker) {
  return check_guest(deps, vm, slot, cloud_init_then_docker_command(wait_seconds),
                     [&](const sys::ProcessResult& r) {
                       auto both = cloud_init_then_docker_outcome(r.exit_code, r.out, r.err);
                       docker = std::move(both.docker);
                       return both.cloud_init;
                     });
}

Check check_docker(const Deps& deps, const model::Vm& vm, int wait_seconds, SessionSlot& slot,
                   const std::optional<StageOutcome>& seen) {
  if (seen && seen->done) {
    return {true, ""};
  }
  return check_guest(deps, vm, slot, docker_wait_command(wait_seconds),
                     [](const sys::ProcessResult& r) {
                       return docker_outcome(r.exit_code, answer_of(r.exit_code, r.out, r.err));
                     });
}

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text.pop_back();
  }
  return text;
}

// What the stages of one VM keep between their checks.
struct Guest {
  SessionSlot session;
  std::optional<StageOutcome> docker;  // Docker's first look, taken by the cloud-init stage
};

// `wait_seconds`: how long the guest-side commands may wait (0 for `status`: look once).
Check check(const Deps& deps, const model::Vm& vm, Stage stage, int wait_seconds, Guest& guest) {
  SessionSlot& slot = guest.session;
  switch (stage) {
    case Stage::defined:
    case Stage::running:
      return check_domain(deps, vm, stage);
    case Stage::address:
      return {tcp_answers(deps, vm_address(vm), 22, std::chrono::milliseconds(1500)),
              "no answer from " + vm_address(vm)};
    case Stage::ssh:
      return check_ssh(deps, vm, slot);
    case Stage::cloud_init:
      return check_cloud_init(deps, vm, wait_seconds, slot, guest.docker);
    case Stage::docker:
      return check_docker(deps, vm, wait_seconds, slot, guest.docker);
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
      return t.stages.running;
    case Stage::address:
      return t.stages.address;
    case Stage::ssh:
      return t.stages.ssh;
    case Stage::cloud_init:
      return t.stages.cloud_init;
    case Stage::docker:
      return t.stages.docker;
    case Stage::stack:
      return t.stages.stack;
    default:
      return std::chrono::seconds(10);
  }
}

bool stopping(const Deps& deps) {
  return deps.stop != nullptr && deps.stop->load();
}

Status deploy(const model::Vm& vm, const Deps& deps, SessionSlot& slot, sys::Reporter& reporter) {
  reporter.report({vm.team, vm.key, "deploy stack", sys::EventState::running});
  const auto start = clock_of(deps).now();
  auto session = session_of(deps, vm, slot);
  Status deployed = session ? deps.deploy(vm, **session) : Status(session.error());
  const double seconds = std::chrono::duration<double>(clock_of(deps).now() - start).count();
  reporter.report({vm.team, vm.key, "deploy stack",
                   deployed ? sys::EventState::done : sys::EventState::failed,
                   deployed ? "" : deployed.error().message, seconds});
  return deployed;
}

std::optional<ConsoleFailure> console_failure(std::optional<ConsoleWatch>& console) {
  return console ? console->poll() : std::nullopt;
}

// The latest the first login waits for cloud-init's final message: this long before the ssh
// stage's deadline (at most half of the stage), so that a login can still be tried in time.
constexpr std::chrono::seconds k_login_margin{60};
// How often that wait reads the console (a local file): the login follows the message closely.
constexpr std::chrono::milliseconds k_console_poll{250};

// Under TCG one login costs the guest seconds of CPU (sshd, PAM, a user session), and the
// guest-side waits after it run every second: all taken from the boot being waited for,
// which on a host with fewer cores than vCPUs delays every VM. So while the console shows
// cloud-init at work, the first login waits for its final message (a failure on the console
// ends the wait too). A console that says nothing of cloud-init (an image that writes
// elsewhere, a VM booted long ago) does not delay it; nor does the wait decide anything:
// the stages after it check the guest itself, as before.
std::optional<ConsoleFailure> await_cloud_init_on_console(
    std::optional<ConsoleWatch>& console, const Deps& deps, const Timeouts& timeouts,
    std::chrono::steady_clock::time_point deadline) {
  if (!console) {
    return std::nullopt;
  }
  const auto margin = std::min<std::chrono::steady_clock::duration>(
      k_login_margin, timeout_of(timeouts, Stage::ssh) / 2);
  const Clock& clock = clock_of(deps);
  std::optional<ConsoleFailure> failure;
  while (!(failure = console->poll()) && console->cloud_init() == CloudInit::running &&
         clock.now() < deadline - margin && !stopping(deps)) {
    clock.sleep(std::min(timeouts.poll, k_console_poll));
  }
  return failure;
}

// Why a stage did not complete: a stop request, a failure seen on the console (at once,
// not at the timeout), a fatal check, or the timeout.
std::string failure_message(const Deps& deps, const Timeouts& timeouts, Stage stage, const Check& c,
                            const std::optional<ConsoleFailure>& failure) {
  if (stopping(deps)) {
    return "stopped by request";
  }
  if (failure) {
    return fmt::format("the console shows a {}: {}", failure->what, failure->summary);
  }
  if (c.fatal) {
    return c.message;
  }
  return fmt::format("timed out after {}s: {}", timeout_of(timeouts, stage).count(), c.message);
}

VmReadiness wait_one(const model::Vm& vm, const Deps& deps, const Timeouts& timeouts, Stage target,
                     sys::Reporter& reporter) {
  VmReadiness r{vm.team, vm.key};
  Guest guest;
  std::optional<ConsoleWatch> console;
  if (deps.serial_log) {
    console.emplace(deps.serial_log(vm));
  }
  const Clock& clock = clock_of(deps);
  const auto start = clock.now();
  for (int s = static_cast<int>(Stage::defined); s <= static_cast<int>(target); ++s) {
    const auto stage = static_cast<Stage>(s);
    if (stage == Stage::stack && deps.deploy) {
      if (auto st = deploy(vm, deps, guest.session, reporter); !st) {
        r.failed = stage;
        r.message = st.error().message;
        break;
      }
    }
    const auto deadline = clock.now() + timeout_of(timeouts, stage);
    reporter.report({vm.team, vm.key, "stage " + to_string(stage), sys::EventState::running});
    // The guest-side waits end by the stage's deadline, and return at least every
    // k_guest_wait_seconds so that a stop request (Ctrl-C) is seen between them.
    const auto left = [&] {
      return static_cast<int>(std::clamp<long>(
          std::chrono::duration_cast<std::chrono::seconds>(deadline - clock.now()).count(), 0,
          k_guest_wait_seconds));
    };
    std::optional<ConsoleFailure> failure;
    if (stage == Stage::ssh) {
      failure = await_cloud_init_on_console(console, deps, timeouts, deadline);
    }
    Check c = failure ? Check{} : check(deps, vm, stage, left(), guest);
    while (!failure && !c.done && !c.fatal && clock.now() < deadline && !stopping(deps) &&
           !(failure = console_failure(console))) {
      clock.sleep(timeouts.poll);
      c = check(deps, vm, stage, left(), guest);
    }
    if (failure) {
      // The rest of a traceback (its error line) may come in the console's next write.
      clock.sleep(timeouts.poll);
      failure = console_failure(console);
    }
    const double at = std::chrono::duration<double>(clock.now() - start).count();
    if (!c.done) {
      r.failed = stage;
      r.message = failure_message(deps, timeouts, stage, c, failure);
      if (failure) {
        r.serial_tail = failure->lines;
      } else if (deps.serial_log) {
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
  r.seconds = std::chrono::duration<double>(clock.now() - start).count();
  return r;
}

}  // namespace

const Clock& real_clock() {
  static const RealClock clock;
  return clock;
}

std::string cloud_init_wait_command(int seconds, const std::string& result_file) {
  const std::string file = sys::shell_quote(result_file);
  return fmt::format(
      "end=$(($(date +%s)+{})); until [ -e {} ]; do "
      "[ \"$(date +%s)\" -lt \"$end\" ] || {{ echo 'cloud-init is still running (no '{}')'; "
      "exit 3; }}; sleep 1; done; cat {}",
      std::max(seconds, 0), file, file, file);
}

StageOutcome cloud_init_outcome(int exit_code, const std::string& out) {
  if (exit_code != 0) {
    return {false, false, trimmed(out)};
  }
  const auto result = nlohmann::json::parse(out, nullptr, false);
  if (result.is_discarded() || !result.contains("v1") || !result["v1"].is_object()) {
    return {false, true, "cloud-init's result.json is not what cloud-init writes: " + trimmed(out)};
  }
  const auto& errors = result["v1"].value("errors", nlohmann::json::array());
  if (!errors.is_array() || errors.empty()) {
    return {true, false, ""};
  }
  std::string list;
  for (const auto& e : errors) {
    list += (list.empty() ? "" : "; ") + (e.is_string() ? e.get<std::string>() : e.dump());
  }
  return {false, true, "cloud-init finished with errors: " + list};
}

std::string cloud_init_then_docker_command(int seconds, const std::string& result_file,
                                           const std::string& socket) {
  // `cat` (the wait's last command) succeeds only once cloud-init is done: then Docker.
  return fmt::format("{} && {{ echo; echo '{}'; {}; }}",
                     cloud_init_wait_command(seconds, result_file), k_docker_part,
                     docker_wait_command(0, socket));
}

CloudInitThenDocker cloud_init_then_docker_outcome(int exit_code, const std::string& out,
                                                   const std::string& err) {
  const std::string line = fmt::format("\n{}\n", k_docker_part);
  const auto at = out.find(line);
  if (at == std::string::npos) {
    return {cloud_init_outcome(exit_code, answer_of(exit_code, out, err)), std::nullopt};
  }
  const std::string docker = out.substr(at + line.size());
  return {cloud_init_outcome(0, out.substr(0, at)),
          docker_outcome(exit_code, answer_of(exit_code, docker, err))};
}

std::string docker_wait_command(int seconds, const std::string& socket) {
  const std::string sock = sys::shell_quote(socket);
  // Without curl, or without access to the socket, Docker's own client answers (once).
  return fmt::format(
      "if command -v curl >/dev/null 2>&1 && [ -w {} ]; then "
      "end=$(($(date +%s)+{})); "
      "until out=$(curl -fsS --max-time 10 --unix-socket {} http://localhost/version 2>&1); do "
      "[ \"$(date +%s)\" -lt \"$end\" ] || {{ echo \"$out\"; exit 1; }}; sleep 1; done; "
      "echo \"$out\"; "
      "else exec sudo -n docker info --format '{{{{.ServerVersion}}}}'; fi",
      sock, std::max(seconds, 0), sock);
}

StageOutcome docker_outcome(int exit_code, const std::string& out) {
  if (exit_code != 0) {
    return {false, false, fmt::format("docker exited {}: {}", exit_code, trimmed(out))};
  }
  // curl: the API's JSON; docker info: the server version alone.
  const auto version = nlohmann::json::parse(out, nullptr, false);
  if (!version.is_discarded() && version.is_object()) {
    return {version.contains("ApiVersion"), false, "docker answered: " + trimmed(out)};
  }
  return {!trimmed(out).empty(), false, "docker info printed nothing"};
}

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
  Guest guest;
  for (int s = static_cast<int>(Stage::defined); s <= static_cast<int>(Stage::stack); ++s) {
    const auto stage = static_cast<Stage>(s);
    // `status` must not wait on a VM still booting: each stage is looked at once.
    Check c = check(deps, vm, stage, 0, guest);
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

#pragma once

// Readiness, stage by stage, for each VM: defined -> running -> address -> ssh ->
// cloud-init done -> docker up -> stack healthy. `up` waits for every stage with a timeout
// per stage; `status` probes each stage once, quickly. While the VM's console shows cloud-init
// at work, the ssh stage's first login waits for its final message: a login during the boot
// takes guest CPU from the boot itself.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hypervisors/hypervisor.hpp"
#include "provision/model/lab.hpp"
#include "provision/ready/ssh.hpp"
#include "provision/sys/reporter.hpp"

namespace labctl::ready {

enum class Stage { none, defined, running, address, ssh, cloud_init, docker, stack };

std::string to_string(
    Stage stage);  // "defined", ..., "cloud-init done", "docker up", "stack healthy"

struct Timeouts {
  model::StageTimeouts stages;  // per stage (the lab file's `timeouts:`)
  std::chrono::milliseconds poll{1000};
};

// The time of the waits: the steady clock and real sleeps, or a test's.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::steady_clock::time_point now() const = 0;
  virtual void sleep(std::chrono::milliseconds duration) const = 0;
};
const Clock& real_clock();

// What the stage checks need from the rest of labctl. Every seam has a real default when
// unset, so that the wait loop runs on fakes in unit tests.
struct Deps {
  hv::Hypervisor* hypervisor = nullptr;
  std::function<Result<SshTarget>(const model::Vm&)> ssh_target;
  // True when the instance answers on http://IP:PORT/squash/isSquashAlive.
  std::function<bool(const std::string& ip, const model::Instance&)> instance_healthy;
  std::function<std::string(const model::Vm&)> serial_log;  // path of the VM's serial log
  // The VM's instances now (the lab file's as `squash add|rm` changed them); unset: the lab's.
  // An error (the record cannot be read) fails the stack stage at once.
  std::function<Result<std::vector<model::Instance>>(const model::Vm&)> instances;
  // Run once Docker is up, before waiting for the stack (deploys it); unset: nothing to run.
  // `session`: the stages' own SSH session to the VM, so that the deploy needs no connection
  // of its own (a key exchange, under TCG seconds).
  std::function<Status(const model::Vm&, sys::Shell& session)> deploy;
  const std::atomic<bool>* stop = nullptr;
  const Clock* clock = nullptr;  // null: real_clock()
  // Something answers on ip:port within the timeout (the address stage); unset: host_answers.
  std::function<bool(const std::string& ip, int port, std::chrono::milliseconds timeout)>
      tcp_answers;
  // Opens a shell on the VM (the ssh stage and those after it); unset: SshSession::connect.
  std::function<Result<std::unique_ptr<sys::Shell>>(const SshTarget&)> connect;
};

struct VmReadiness {
  std::string team;
  std::string vm;
  Stage reached = Stage::none;
  Stage failed = Stage::none;            // the stage that did not complete, if any
  std::string message;                   // why, e.g. "cloud-init finished with errors: ..."
  std::vector<std::string> serial_tail;  // last lines of the serial log when failed
  double seconds = 0;
  std::vector<std::pair<Stage, double>> stage_seconds;  // when each stage was reached
};

// Waits for every VM in parallel until it reaches `target` or a stage times out.
std::vector<VmReadiness> wait_ready(const model::Lab& lab, const std::vector<const model::Vm*>& vms,
                                    const Deps& deps, const Timeouts& timeouts, Stage target,
                                    sys::Reporter& reporter);

// One quick probe per stage, for `status`: the highest stage reached now.
VmReadiness probe(const model::Lab& lab, const model::Vm& vm, const Deps& deps);

// The guest side of the cloud-init and docker stages: one SSH exec each, which waits inside
// the guest (at most `seconds`; 0: look once) and prints what it saw. Neither starts Python
// or Docker's client: under TCG each `cloud-init status` costs 10-30 s of Python start-up
// and each `docker info` several seconds, taken from the boot they are waiting for.
// cloud-init is done when its final stage has written `result_file` (what `cloud-init
// status` reads); Docker is up when its API answers GET /version on `socket` (through curl;
// `sudo -n docker info` once instead when curl is missing or the socket is not writable).
inline constexpr const char* k_cloud_init_result = "/run/cloud-init/result.json";
inline constexpr const char* k_docker_socket = "/var/run/docker.sock";
std::string cloud_init_wait_command(int seconds,
                                    const std::string& result_file = k_cloud_init_result);
std::string docker_wait_command(int seconds, const std::string& socket = k_docker_socket);

// What one run of such a command means: done, not yet (retry), or failed for good.
struct StageOutcome {
  bool done = false;
  bool fatal = false;
  std::string message;
};
StageOutcome cloud_init_outcome(int exit_code, const std::string& out);
StageOutcome docker_outcome(int exit_code, const std::string& out);

// What `up` runs for the cloud-init stage: its wait and, once cloud-init is done, one look at
// Docker (docker_wait_command(0)) whose answer follows a k_docker_part line, so that the
// docker stage needs no exec of its own (under TCG a channel and a shell, about a second)
// when Docker is already up. When that part ran, the exit code is Docker's.
inline constexpr const char* k_docker_part = "--- labctl: docker ---";
std::string cloud_init_then_docker_command(int seconds,
                                           const std::string& result_file = k_cloud_init_result,
                                           const std::string& socket = k_docker_socket);
struct CloudInitThenDocker {
  StageOutcome cloud_init;
  std::optional<StageOutcome> docker;  // empty when the Docker part did not run
};
CloudInitThenDocker cloud_init_then_docker_outcome(int exit_code, const std::string& out,
                                                   const std::string& err);

// The address labctl reaches the VM at: its first NIC with an address.
std::string vm_address(const model::Vm& vm);

// True when something answers (accepts or refuses) on ip:port within the timeout.
bool host_answers(const std::string& ip, int port, std::chrono::milliseconds timeout);

// The last `count` lines of a text file ("" lines skipped).
std::vector<std::string> tail_lines(const std::string& path, std::size_t count);

}  // namespace labctl::ready

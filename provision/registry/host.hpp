#pragma once

// The host side of the registry supervisor: the detached process, its liveness, the HTTP
// probe, the port check and the host-only address. Internal to provision/registry/.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "provision/result.hpp"
#include "provision/sys/process.hpp"

namespace labctl::registry {

// Runs argv in its own session (double fork: init adopts it, labctl never has to reap it),
// stdin from /dev/null, stdout and stderr appended to `log`. The pid once exec succeeded;
// an exec failure is an Error naming the program and errno.
Result<pid_t> spawn_detached(const std::vector<std::string>& argv,
                             const std::filesystem::path& log);

// The pid is alive (not a zombie) and runs a program named like `binary`.
bool is_process_of(pid_t pid, const std::filesystem::path& binary);

// SIGTERM, up to `timeout` for it to end, then SIGKILL (and up to 2 s more). True when
// SIGKILL was needed; an Error when the process outlived that too.
Result<bool> terminate(pid_t pid, const std::filesystem::path& binary,
                       std::chrono::milliseconds timeout);

// The HTTP status of GET url (0 when nothing answered within `timeout`); no proxy is used.
long http_status(const std::string& url, std::chrono::milliseconds timeout);

// "" when ADDRESS:PORT can be bound now, else why not ("Address already in use").
std::string bind_problem(const std::string& address, int port);

// The last line of the log, from byte `from` on (this start's part), that tells why the
// registry ended (a fatal message or a panic), else its last line; "" when there is none.
std::string last_failure(const std::filesystem::path& log, std::uintmax_t from = 0);

struct AddressChange {
  std::string interface;  // "" when nothing was needed (loopback, or already local)
  bool interface_created = false;
  bool address_added = false;
};

bool is_loopback(const std::string& address);
// Makes `address` local: nothing for loopback or an address the host already has; else the
// dummy `interface` (created when missing) gets ADDRESS/32 and is set up. A failure undoes
// what this call changed.
Result<AddressChange> ensure_address(sys::ProcessRunner& runner, const std::string& interface,
                                     const std::string& address);
// Undoes an AddressChange (deletes the device it created, or the address it added).
Status undo_address(sys::ProcessRunner& runner, const AddressChange& change,
                    const std::string& address);

}  // namespace labctl::registry

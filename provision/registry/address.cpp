// The registry's host-only address: a dummy interface with ADDRESS/32, through `ip`.

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "provision/registry/host.hpp"
#include "provision/sys/printable.hpp"

namespace labctl::registry {

namespace {

Result<bool> address_is_local(sys::ProcessRunner& runner, const std::string& address) {
  auto listed = sys::run_checked(runner, {"ip", "-o", "-4", "addr", "show"});
  if (!listed) {
    return listed.error();
  }
  return listed->find(" inet " + address + "/") != std::string::npos;
}

Result<bool> device_exists(sys::ProcessRunner& runner, const std::string& interface) {
  auto shown = runner.run({"ip", "link", "show", "dev", interface});
  if (!shown) {
    return shown.error();
  }
  return shown->exit_code == 0;
}

Status run_ip(sys::ProcessRunner& runner, const std::vector<std::string>& argv) {
  if (auto done = sys::run_checked(runner, argv); !done) {
    return Error::failure(
        fmt::format("`{}` failed: {}", fmt::join(argv, " "), done.error().message));
  }
  return {};
}

// A dummy device; a kernel built without the dummy driver (this project's sandbox has none)
// gets an empty bridge instead, which holds a local address just as well.
Status add_device(sys::ProcessRunner& runner, const std::string& interface) {
  const std::vector<std::string> dummy = {"ip", "link", "add", interface, "type", "dummy"};
  auto added = runner.run(dummy);
  if (!added) {
    return added.error();
  }
  if (added->exit_code == 0) {
    return {};
  }
  if (added->err.find("Unknown device type") == std::string::npos) {
    std::string why = added->err;
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) {
      why.pop_back();
    }
    return Error::failure(
        fmt::format("`{}` failed: {}", fmt::join(dummy, " "), sys::printable(why)));
  }
  return run_ip(runner, {"ip", "link", "add", interface, "type", "bridge"});
}

// Adds the address and brings the device up; the caller undoes on failure.
Status configure(sys::ProcessRunner& runner, AddressChange& change, const std::string& address) {
  if (auto st = run_ip(runner, {"ip", "addr", "add", address + "/32", "dev", change.interface});
      !st) {
    return st;
  }
  change.address_added = true;
  return run_ip(runner, {"ip", "link", "set", "dev", change.interface, "up"});
}

}  // namespace

bool is_loopback(const std::string& address) {
  return address.starts_with("127.");
}

Result<AddressChange> ensure_address(sys::ProcessRunner& runner, const std::string& interface,
                                     const std::string& address) {
  AddressChange change;
  if (is_loopback(address)) {
    return change;
  }
  auto local = address_is_local(runner, address);
  if (!local) {
    return local.error();
  }
  if (*local) {
    return change;  // the host has it already (a LAN address the lab asked for, or ours)
  }
  auto exists = device_exists(runner, interface);
  if (!exists) {
    return exists.error();
  }
  change.interface = interface;
  if (!*exists) {
    if (auto st = add_device(runner, interface); !st) {
      return st.error();
    }
    change.interface_created = true;
  }
  if (auto st = configure(runner, change, address); !st) {
    (void)undo_address(runner, change, address);
    return st.error();
  }
  return change;
}

Status undo_address(sys::ProcessRunner& runner, const AddressChange& change,
                    const std::string& address) {
  if (change.interface_created) {
    auto exists = device_exists(runner, change.interface);
    if (exists && !*exists) {
      return {};  // gone already
    }
    return run_ip(runner, {"ip", "link", "del", change.interface});
  }
  if (change.address_added) {
    auto local = address_is_local(runner, address);
    if (local && !*local) {
      return {};
    }
    return run_ip(runner, {"ip", "addr", "del", address + "/32", "dev", change.interface});
  }
  return {};
}

}  // namespace labctl::registry

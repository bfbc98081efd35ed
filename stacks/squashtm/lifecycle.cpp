#include "stacks/squashtm/lifecycle.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "stacks/squashtm/names.hpp"

namespace labctl::squashtm {

namespace {

// The compose project a command of compose_command() acts on ("-p 'squash-main'"), to name
// it in an error; "the stack" for any other command.
std::string project_in(const std::string& command) {
  const std::string marker = " -p '";
  const auto start = command.find(marker);
  const auto end = start == std::string::npos ? start : command.find('\'', start + marker.size());
  if (end == std::string::npos) {
    return "the stack";
  }
  return command.substr(start + marker.size(), end - start - marker.size());
}

std::vector<model::Instance> instances_of(const std::vector<InstanceStatus>& statuses) {
  std::vector<model::Instance> out;
  for (const InstanceStatus& status : statuses) {
    out.push_back(status.instance);
  }
  return out;
}

}  // namespace

Lifecycle::Lifecycle(Remote& remote, Owner owner, model::Vm vm, StackOptions options)
    : m_remote(remote),
      m_owner(std::move(owner)),
      m_vm(std::move(vm)),
      m_options(std::move(options)) {}

Status Lifecycle::put_all(const std::vector<File>& files) {
  for (const File& file : files) {
    if (auto s = m_remote.put_file(file.path, file.content, file.mode); !s) {
      return s;
    }
  }
  return {};
}

// Every command runs, whatever the ones before it did: one instance whose image cannot be
// pulled must not keep the VM's other instances down. The error lists each failure.
Status Lifecycle::run_all(const std::vector<std::string>& commands) {
  std::vector<std::string> failures;
  for (const std::string& command : commands) {
    if (auto r = exec_checked(m_remote, command, "starting " + project_in(command)); !r) {
      failures.push_back(r.error().message);
    }
  }
  if (failures.empty()) {
    return {};
  }
  if (failures.size() == 1) {
    return Error::failure(failures.front());
  }
  std::string message =
      fmt::format("{} of {} stack commands failed:", failures.size(), commands.size());
  for (const std::string& failure : failures) {
    message += "\n  " + failure;
  }
  return Error::failure(message);
}

Status Lifecycle::deploy(const std::vector<model::Instance>& instances, const Secrets& secrets) {
  auto existing = ls();
  if (!existing) {
    return existing.error();
  }
  std::vector<model::Instance> all = instances;
  for (const model::Instance& other : instances_of(*existing)) {
    if (std::none_of(all.begin(), all.end(), [&](auto& i) { return i.name == other.name; })) {
      all.push_back(other);  // kept running: counts against the cap, its port is taken
    }
  }
  model::Vm target = m_vm;
  target.instances = all;
  if (auto s = check_capacity(target, all); !s) {
    return s;
  }
  target.instances = instances;
  auto rendered = render_stack(m_owner, target, m_options, secrets);
  if (!rendered) {
    return rendered.error();
  }
  if (auto s = put_all(rendered->files); !s) {
    return s;
  }
  return run_all(rendered->commands);
}

Status Lifecycle::check_addable(const model::Instance& instance,
                                const std::vector<InstanceStatus>& existing) const {
  for (const InstanceStatus& other : existing) {
    if (other.instance.name == instance.name) {
      return Error::usage(fmt::format("{}: instance '{}' already exists ({} on port {})", m_vm.name,
                                      instance.name, other.instance.version, other.instance.port));
    }
    if (other.instance.port == instance.port) {
      return Error::usage(fmt::format("{}: port {} is taken by instance '{}'", m_vm.name,
                                      instance.port, other.instance.name));
    }
  }
  std::vector<model::Instance> all = instances_of(existing);
  all.push_back(instance);
  return check_capacity(m_vm, all);
}

Status Lifecycle::add(const model::Instance& instance, const std::string& password) {
  if (auto s = validate_instance(instance); !s) {
    return s;
  }
  auto existing = ls();
  if (!existing) {
    return existing.error();
  }
  if (auto s = check_addable(instance, *existing); !s) {
    return s;
  }
  auto rendered = render_instance(m_owner, instance, m_options, password);
  if (!rendered) {
    return rendered.error();
  }
  rendered->files.insert(rendered->files.begin(), File{m_options.root + "/shared.env",
                                                       render_shared_env(m_options.shared), 0644});
  Status started = put_all(rendered->files);
  if (started) {
    started = run_all(rendered->commands);
  }
  if (!started) {
    (void)rm(instance.name, false);  // leave nothing half-made behind; the first error wins
    return Error::failure(fmt::format("adding '{}': {}", instance.name, started.error().message));
  }
  std::vector<model::Instance> all = instances_of(*existing);
  all.push_back(instance);
  return refresh_proxy(all);
}

Status Lifecycle::refresh_proxy(const std::vector<model::Instance>& instances) {
  if (!m_options.proxy) {
    return {};
  }
  model::Vm target = m_vm;
  target.instances = instances;
  const Rendered proxy = render_proxy(m_owner, target, m_options);
  if (auto s = put_all(proxy.files); !s) {
    return s;
  }
  return run_all(proxy.commands);
}

Status Lifecycle::rm(const std::string& name, bool keep_data) {
  if (auto s = validate_instance_name(name); !s) {
    return s;
  }
  const std::string file = compose_path(m_options, name);
  const std::string down = compose_command(
      project_name(name), file, keep_data ? "down --remove-orphans" : "down -v --remove-orphans");
  // The compose file may be gone (a half-made instance): then the label sweep does the work.
  const std::string command = fmt::format("if [ -f {} ]; then {}; fi", sh_quote(file), down);
  if (auto r = exec_checked(m_remote, command, "removing instance " + name); !r) {
    return r.error();
  }
  if (auto s = keep_data ? Status{} : sweep(name); !s) {
    return s;
  }
  if (!keep_data) {
    const std::string dir = instance_dir(m_options, name);
    if (auto r = exec_checked(m_remote, "rm -rf " + sh_quote(dir), "removing " + dir); !r) {
      return r.error();
    }
  }
  auto remaining = ls();
  return remaining ? refresh_proxy(instances_of(*remaining)) : Status(remaining.error());
}

Result<std::vector<InstanceStatus>> Lifecycle::ls() {
  const std::string command = fmt::format(
      "ids=$(docker ps -aq {}) && if [ -z \"$ids\" ]; then echo '[]'; else docker inspect $ids; fi",
      label_filters(m_owner, "app"));
  auto out = exec_checked(m_remote, command, "listing instances");
  if (!out) {
    return out.error();
  }
  return parse_inspect(*out, std::chrono::system_clock::now());
}

Status Lifecycle::sweep(const std::string& instance) {
  const std::string filters = label_filters(m_owner, "", instance);
  const std::string command = fmt::format(
      "docker ps -aq {0} | xargs -r docker rm -f >/dev/null && "
      "docker volume ls -q {0} | xargs -r docker volume rm >/dev/null && "
      "docker network ls -q {0} | xargs -r docker network rm >/dev/null",
      filters);
  auto r = exec_checked(m_remote, command, "removing labelled containers, volumes and networks");
  return r ? Status{} : Status(r.error());
}

}  // namespace labctl::squashtm

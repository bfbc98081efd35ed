#include "hypervisors/hyperv/backend.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>

#include <fmt/format.h>

#include "hypervisors/hyperv/parse.hpp"
#include "hypervisors/hyperv/powershell.hpp"
#include "hypervisors/hyperv/render.hpp"
#include "hypervisors/limits.hpp"

namespace labctl::hv::hyperv {

namespace {

bool is_vhdx(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[8] = {};
  return in.read(magic, sizeof magic) && std::string_view(magic, sizeof magic) == "vhdxfile";
}

using MaybeRoute = std::optional<RegistryRoute>;

class HypervBackend : public Hypervisor {
 public:
  HypervBackend(std::string uri, std::unique_ptr<PowerShellRunner> runner, HypervOptions options)
      : m_uri(std::move(uri)), m_runner(std::move(runner)), m_options(std::move(options)) {
    if (m_options.root.empty()) {
      m_options.root = k_default_root;
    }
  }

  std::string uri() const override { return m_uri; }

  Capabilities capabilities() override {
    // No DHCP on Hyper-V switches, one NetNat per host; KVM does not apply.
    return {.scheme = "hyperv",
            .dhcp_reservations = false,
            .kvm = false,
            .max_nat_networks = model::max_nat_networks(limits()),
            .remote = false,
            .publish = true};
  }

  Result<HostInfo> host_info() override {
    auto out = query(render_host_info());
    return out ? parse_host_info(*out) : Result<HostInfo>(out.error());
  }

  Result<Inventory> inventory(const std::string& classroom) override {
    auto out = query(render_inventory(m_options.root, classroom));
    if (!out) {
      return out.error();
    }
    auto inventory = parse_inventory(*out, classroom);
    if (inventory) {
      inventory->host = m_uri;
    }
    return inventory;
  }

  Result<std::vector<HostNetwork>> host_networks() override {
    auto out = query(render_host_networks());
    return out ? parse_host_networks(*out) : Result<std::vector<HostNetwork>>(out.error());
  }

  Status create_network(const model::Lab& lab, const model::Network& net) override {
    auto route = net.kind == model::NetworkKind::nat ? registry_route(lab)
                                                     : Result<MaybeRoute>(MaybeRoute());
    if (!route) {
      return route.error();
    }
    return execute(render_create_network(lab, net, m_options.root, *route));
  }

  Status delete_network(const std::string& classroom, const std::string& name) override {
    return execute(render_delete_network(classroom, name, m_options.root));
  }

  Status publish(const model::Lab& lab, const std::string& team) override {
    return execute(render_publish(lab, team, m_options.root));
  }

  Status unpublish(const model::Lab& lab, const std::string& team) override {
    return execute(render_unpublish(lab.classroom, team, m_options.root));
  }

  Status create_pool(const model::Lab& lab) override {
    auto classroom = classroom_of_pool(lab.pool);
    if (!classroom || *classroom != lab.classroom) {
      return Error::failure(
          fmt::format("Hyper-V: pool '{}' must be named {}-pool", lab.pool, lab.classroom));
    }
    return execute(render_create_pool(m_options.root, lab.classroom));
  }

  Status delete_pool(const std::string& classroom, const std::string& name) override {
    auto owner = classroom_of_pool(name);
    if (!owner || *owner != classroom) {
      return Error::failure(
          fmt::format("Hyper-V: pool '{}' is not classroom {}'s", name, classroom));
    }
    return execute(render_delete_pool(m_options.root, classroom));
  }

  Status upload_volume(const std::string& pool, const std::string& name,
                       const std::string& local_file, VolumeFormat format) override;

  Status create_overlay(const std::string& pool, const std::string& name,
                        const std::string& backing, model::Bytes capacity) override {
    auto classroom = classroom_of_pool(pool);
    if (!classroom) {
      return classroom.error();
    }
    return execute(render_create_overlay(m_options.root, *classroom, name, backing, capacity));
  }

  Status delete_volume(const std::string& pool, const std::string& name) override {
    auto classroom = classroom_of_pool(pool);
    if (!classroom) {
      return classroom.error();
    }
    return execute(render_delete_volume(m_options.root, *classroom, name));
  }

  Result<std::string> volume_path(const std::string& pool, const std::string& name) override {
    auto classroom = classroom_of_pool(pool);
    if (!classroom) {
      return classroom.error();
    }
    if (auto ok = check_file_name("volume", name); !ok) {
      return ok.error();
    }
    return classroom_dir(m_options.root, *classroom) + "\\" + host_file_name(name);
  }

  Status create_domain(const DomainRequest& request) override {
    if (request.lab == nullptr || request.vm == nullptr) {
      return Error::failure("Hyper-V: create_domain needs a lab and a VM");
    }
    // The accelerator does not apply. The serial log is where start_domain's capture of the
    // VM's COM1 pipe writes: this machine's file, as Windows names it.
    if (!request.serial_log.empty()) {
      auto log = windows_path(request.serial_log);
      if (!log) {
        return log.error();
      }
      const std::lock_guard lock(m_mutex);
      m_console_logs[request.vm->name] = *log;
    }
    return execute(render_create_vm(*request.lab, *request.vm, m_options.root));
  }

  Status start_domain(const model::Lab& lab, const std::string& name) override {
    auto route = registry_route(lab);
    if (!route) {
      return route.error();
    }
    std::string log;
    {
      const std::lock_guard lock(m_mutex);
      const auto known = m_console_logs.find(name);
      log = known == m_console_logs.end() ? "" : known->second;
    }
    return execute(render_start_vm(name, m_options.root, log, *route));
  }
  Status stop_domain(const std::string& name) override { return execute(render_stop_vm(name)); }

  Status delete_domain(const std::string& classroom, const std::string& name) override {
    return execute(render_delete_vm(m_options.root, classroom, name));
  }

  Result<PowerState> domain_state(const std::string& name) override {
    auto out = query(render_vm_state(name));
    return out ? parse_vm_state_output(*out) : Result<PowerState>(out.error());
  }

  Status retag(const Object& object, const std::string& identity) override {
    Tag tag = object.tag;
    tag.identity = identity;
    return execute(render_retag(tag.classroom, object.kind, object.name, tag));
  }

 private:
  Result<std::string> query(const Result<std::string>& script) {
    if (!script) {
      return script.error();
    }
    auto result = m_runner->run(*script);
    if (!result) {
      return result.error();
    }
    return std::move(result->out);
  }

  Status execute(const Result<std::string>& script) {
    auto out = query(script);
    return out ? Status() : Status(out.error());
  }

  // The route Windows needs for the VMs to reach the classroom registry in WSL, when the lab
  // uses it and has a nat network (the only way from a VM to Windows): WSL's address is
  // asked toward that network's gateway.
  Result<MaybeRoute> registry_route(const model::Lab& lab) const {
    if (!model::uses_classroom_registry(lab) || !m_options.wsl_address) {
      return MaybeRoute();
    }
    for (const model::Team& team : lab.teams) {
      for (const model::Network& net : team.networks) {
        if (net.kind != model::NetworkKind::nat || net.gateway.empty()) {
          continue;
        }
        auto next_hop = m_options.wsl_address(net.gateway);
        if (!next_hop) {
          return Error::failure("WSL's address, for the route to the classroom registry: " +
                                next_hop.error().message);
        }
        return MaybeRoute(RegistryRoute{lab.registry.address, *next_hop});
      }
    }
    return MaybeRoute();
  }

  Result<std::string> windows_path(const std::string& local) const {
    return m_options.windows_path ? m_options.windows_path(local) : Result<std::string>(local);
  }

  std::string m_uri;
  std::unique_ptr<PowerShellRunner> m_runner;
  HypervOptions m_options;
  // VM -> its console log, for the VMs created by this backend (apply's workers run VM
  // chains in parallel: guarded by m_mutex). A VM only started, not created, by this run
  // gets no capture (docs/hyperv.md).
  std::map<std::string, std::string> m_console_logs;
  std::mutex m_mutex;
};

Status HypervBackend::upload_volume(const std::string& pool, const std::string& name,
                                    const std::string& local_file, VolumeFormat format) {
  auto classroom = classroom_of_pool(pool);
  if (!classroom) {
    return classroom.error();
  }
  std::string source = local_file;
  if (format == VolumeFormat::qcow2) {
    auto vhdx = vhdx_source(local_file, m_options.converter.get());
    if (!vhdx) {
      return vhdx.error();
    }
    source = *vhdx;
  }
  auto mapped = windows_path(source);
  if (!mapped) {
    return mapped.error();
  }
  return execute(render_upload_volume(m_options.root, *classroom, name, *mapped));
}

}  // namespace

Result<std::string> vhdx_source(const std::string& local_file, sys::ProcessRunner* converter) {
  if (is_vhdx(local_file)) {
    return local_file;
  }
  std::filesystem::path target(local_file);
  target.replace_extension(".vhdx");
  if (is_vhdx(target.string())) {
    return target.string();
  }
  const std::vector<std::string> argv = {
      "qemu-img", "convert", "-O", "vhdx", "-o", "subformat=dynamic", local_file, target.string()};
  if (converter == nullptr) {
    return Error::failure(fmt::format(
        "Hyper-V reads VHDX only and {} is not VHDX: convert it first with `qemu-img convert "
        "-O vhdx -o subformat=dynamic {} {}`",
        local_file, local_file, target.string()));
  }
  auto converted = sys::run_checked(*converter, argv);
  if (!converted) {
    return Error::failure(
        fmt::format("converting {} to VHDX: {}", local_file, converted.error().message));
  }
  return target.string();
}

std::function<Result<std::string>(const std::string&)> wslpath_mapper(
    std::shared_ptr<sys::ProcessRunner> processes) {
  return [processes](const std::string& path) -> Result<std::string> {
    // wslpath refuses a file that does not exist: its directory is mapped instead.
    const std::filesystem::path local(path);
    std::error_code ec;
    const bool exists = std::filesystem::exists(local, ec) || !local.has_parent_path();
    auto out = sys::run_checked(*processes,
                                {"wslpath", "-w", exists ? path : local.parent_path().string()});
    if (!out) {
      return out.error();
    }
    std::string windows = *out;
    while (!windows.empty() && (windows.back() == '\n' || windows.back() == '\r')) {
      windows.pop_back();
    }
    return exists ? windows : windows + "\\" + local.filename().string();
  };
}

Result<std::string> parse_route_source(const std::string& ip_output) {
  std::istringstream words(ip_output);
  for (std::string word; words >> word;) {
    if (word == "src" && words >> word) {
      if (auto ok = check_ipv4("route source", word); !ok) {
        return ok.error();
      }
      return word;
    }
  }
  return Error::failure(fmt::format("no source address in `ip -4 -o route get`: {}", ip_output));
}

std::function<Result<std::string>(const std::string&)> route_source_finder(
    std::shared_ptr<sys::ProcessRunner> processes) {
  return [processes](const std::string& toward) -> Result<std::string> {
    if (auto ok = check_ipv4("route destination", toward); !ok) {
      return ok.error();
    }
    auto out = sys::run_checked(*processes, {"ip", "-4", "-o", "route", "get", toward});
    return out ? parse_route_source(*out) : Result<std::string>(out.error());
  };
}

HypervOptions wsl_options(std::shared_ptr<sys::ProcessRunner> processes) {
  HypervOptions options;
  options.converter = processes;
  options.windows_path = wslpath_mapper(processes);
  options.wsl_address = route_source_finder(std::move(processes));
  return options;
}

std::unique_ptr<hv::Hypervisor> make_hyperv(std::string uri,
                                            std::unique_ptr<PowerShellRunner> runner) {
  return make_hyperv(std::move(uri), std::move(runner), HypervOptions{});
}

std::unique_ptr<hv::Hypervisor> make_hyperv(std::string uri,
                                            std::unique_ptr<PowerShellRunner> runner,
                                            HypervOptions options) {
  return std::make_unique<HypervBackend>(std::move(uri), std::move(runner), std::move(options));
}

}  // namespace labctl::hv::hyperv

// user-data: the #cloud-config document. The module set is kept minimal on purpose: under
// TCG every cloud-init module costs time, so each key below names the module that consumes
// it, and nothing is asked that the image already does.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "cloud-init/render.hpp"
#include "cloud-init/yaml_text.hpp"

namespace labctl::cloudinit {

namespace {

using model::DockerSource;

std::string identity(const model::Lab& lab, const model::Vm& vm) {
  return "# cc_set_hostname, cc_update_etc_hosts: the guest resolves its own name (sudo)\n"
         "hostname: " +
         yaml_scalar(vm.hostname) +
         "\n"
         "manage_etc_hosts: true\n"
         "# cc_users_groups: the admin user logs in with the classroom and team keys only\n"
         "groups:\n"
         "  - docker\n"
         "users:\n"
         "  - name: " +
         yaml_scalar(lab.admin_user) +
         "\n"
         "    groups:\n"
         "      - docker\n"
         "    shell: /bin/bash\n"
         "    sudo: " +
         yaml_scalar("ALL=(ALL) NOPASSWD:ALL") +
         "\n"
         "    lock_passwd: true\n";
}

std::string authorized_keys(const SeedInputs& inputs) {
  std::string out =
      "    ssh_authorized_keys:\n      - " + yaml_scalar(inputs.admin_public_key) + "\n";
  if (!inputs.team_public_key.empty()) {
    out += "      - " + yaml_scalar(inputs.team_public_key) + "\n";
  }
  return out;
}

std::string access(const SeedInputs& inputs) {
  return authorized_keys(inputs) +
         "# cc_set_passwords: keys only\n"
         "ssh_pwauth: false\n"
         "# cc_ssh: the host key labctl generated and pinned in known_hosts; none generated here\n"
         "# (with ssh_keys given, cc_ssh generates none; the list names the given type because\n"
         "# cloud-init's schema refuses an empty one)\n"
         "ssh_deletekeys: true\n"
         "ssh_genkeytypes: [ed25519]\n"
         "ssh_keys:\n"
         "  ed25519_private: " +
         yaml_text(inputs.host_private_key, 4) +
         "  ed25519_public: " + yaml_scalar(inputs.host_public_key) + "\n";
}

std::string docker_apt_source(const SeedInputs& inputs) {
  std::string out =
      "  sources:\n"
      "    docker.list:\n"
      "      source: " +
      yaml_scalar("deb https://download.docker.com/linux/debian $RELEASE stable") + "\n";
  if (inputs.docker_apt_key.empty()) {
    // Fetched from the keyserver: needs that link (see SeedInputs::docker_apt_key).
    return out + "      keyid: " + std::string(k_docker_key_fingerprint) + "\n";
  }
  return out + "      key: " + yaml_text(inputs.docker_apt_key, 8);
}

// cc_apt_configure: the proxy for every apt call, and Docker's repository when used.
std::string apt(const model::Lab& lab, const SeedInputs& inputs) {
  const bool repository = lab.docker.source == DockerSource::repository;
  if (lab.docker.apt_proxy.empty() && !repository) {
    return "";
  }
  std::string out = "# cc_apt_configure\napt:\n";
  if (!lab.docker.apt_proxy.empty()) {
    out += "  proxy: " + yaml_scalar(lab.docker.apt_proxy) + "\n";
  }
  return repository ? out + docker_apt_source(inputs) : out;
}

// cc_package_update_upgrade_install (final stage); nothing at all when Docker is baked in.
std::string packages(const model::Lab& lab) {
  std::vector<std::string> names;
  if (lab.docker.source == DockerSource::repository) {
    names = {"docker-ce", "docker-ce-cli", "containerd.io", "docker-compose-plugin"};
  } else if (lab.docker.source == DockerSource::distribution) {
    names = {"docker.io", "docker-compose"};
  }
  if (names.empty()) {
    return "";
  }
  std::string out = "# cc_package_update_upgrade_install: Docker (" +
                    model::to_string(lab.docker.source) +
                    ")\npackage_update: true\npackage_upgrade: false\npackages:\n";
  for (const auto& name : names) {
    out += "  - " + yaml_scalar(name) + "\n";
  }
  return out;
}

// Docker's daemon.json: an outside mirror as is; the classroom registry over plain HTTP (its
// address exists only on the host, reached over the host-only NAT networks, and Docker
// verifies every manifest and layer by digest), so it is also an insecure registry.
std::optional<nlohmann::json> docker_daemon(const model::Lab& lab) {
  if (!lab.docker.registry_mirror.empty()) {
    return nlohmann::json{
        {"registry-mirrors", nlohmann::json::array({lab.docker.registry_mirror})}};
  }
  if (model::uses_classroom_registry(lab)) {
    const std::string endpoint = lab.registry.address + ":" + std::to_string(lab.registry.port);
    return nlohmann::json{{"registry-mirrors", nlohmann::json::array({"http://" + endpoint})},
                          {"insecure-registries", nlohmann::json::array({endpoint})}};
  }
  return std::nullopt;
}

std::vector<SeedFile> all_files(const model::Lab& lab, const SeedInputs& inputs) {
  std::vector<SeedFile> files;
  if (const auto daemon = docker_daemon(lab)) {
    files.push_back({"/etc/docker/daemon.json", daemon->dump(2) + "\n", "0644", "root:root"});
  }
  files.insert(files.end(), inputs.files.begin(), inputs.files.end());
  return files;
}

// cc_write_files (init stage) / cc_write_files_deferred (final stage, before runcmd runs).
std::string write_files(const std::vector<SeedFile>& files) {
  if (files.empty()) {
    return "";
  }
  std::string out =
      "# cc_write_files: files of other owners are deferred until their user exists\n"
      "write_files:\n";
  for (const auto& file : files) {
    out += "  - path: " + yaml_scalar(file.path) + "\n";
    out += "    owner: " + yaml_scalar(file.owner) + "\n";
    out += "    permissions: " + nlohmann::json(file.permissions).dump() + "\n";
    if (file.owner.rfind("root:", 0) != 0 && file.owner != "root") {
      out += "    defer: true\n";
    }
    out += "    content: " + yaml_text(file.content, 6);
  }
  return out;
}

// cc_runcmd (script run by cc_scripts_user in the final stage); the readiness line last.
std::string runcmd(const model::Lab& lab, const model::Vm& vm, const SeedInputs& inputs) {
  std::vector<std::string> lines;
  if (docker_daemon(lab)) {
    lines.emplace_back("systemctl restart docker");  // picks up daemon.json's mirror
  }
  lines.insert(lines.end(), inputs.runcmd.begin(), inputs.runcmd.end());
  lines.push_back("echo " + ready_line(vm, inputs.generation) + " > /dev/ttyS0");
  std::string out = "# cc_runcmd: the last line tells labctl (serial console) user-data ran\n";
  out += "runcmd:\n";
  for (const auto& line : lines) {
    out += "  - " + yaml_scalar(line) + "\n";
  }
  return out;
}

std::string completion(const model::Vm& vm, const SeedInputs& inputs) {
  std::string out;
  if (!inputs.phone_home_url.empty()) {
    out += "# cc_phone_home: an HTTP POST to labctl when the final stage is reached\n";
    out += "phone_home:\n  url: " + yaml_scalar(inputs.phone_home_url) + "\n";
    out += "  post:\n    - instance_id\n    - hostname\n  tries: 10\n";
  }
  out += "# cc_final_message\n";
  out +=
      "final_message: " +
      yaml_scalar("labctl: " + instance_id(vm, inputs.generation) + " up after $UPTIME seconds") +
      "\n";
  return out;
}

}  // namespace

std::string user_data(const model::Lab& lab, const model::Vm& vm, const SeedInputs& inputs) {
  return "#cloud-config\n# labctl seed for " + vm.name + " (instance " +
         instance_id(vm, inputs.generation) + ")\n" + identity(lab, vm) + access(inputs) +
         apt(lab, inputs) + packages(lab) + write_files(all_files(lab, inputs)) +
         runcmd(lab, vm, inputs) + completion(vm, inputs);
}

}  // namespace labctl::cloudinit

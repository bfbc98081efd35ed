// user-data: the #cloud-config document. The module set is kept minimal on purpose: under
// TCG every cloud-init module costs time, so each key below names the module that consumes
// it, and nothing is asked that the image already does.

#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/emitter.h>
#include <yaml-cpp/stlemitter.h>
#include <nlohmann/json.hpp>

#include "cloud-init/render.hpp"
#include "cloud-init/yaml_emit.hpp"

namespace labctl::cloudinit {

namespace {

using model::DockerSource;

void identity(YAML::Emitter& out, const model::Vm& vm) {
  out << YAML::Comment(
      "cc_set_hostname, cc_update_etc_hosts: the guest resolves its own name (sudo)");
  out << YAML::Key << "hostname" << YAML::Value;
  emit_quoted(out, vm.hostname);
  out << YAML::Key << "manage_etc_hosts" << YAML::Value << true;
  emit_comment(out,
               "cc_users_groups: the admin user logs in with the classroom and team keys only");
  out << YAML::Key << "groups" << YAML::Value << YAML::BeginSeq << "docker" << YAML::EndSeq;
}

void admin_user(YAML::Emitter& out, const model::Lab& lab, const SeedInputs& inputs) {
  out << YAML::Key << "users" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value;
  emit_quoted(out, lab.admin_user);
  out << YAML::Key << "groups" << YAML::Value << YAML::BeginSeq << "docker" << YAML::EndSeq;
  out << YAML::Key << "shell" << YAML::Value << "/bin/bash";
  out << YAML::Key << "sudo" << YAML::Value;
  emit_quoted(out, "ALL=(ALL) NOPASSWD:ALL");
  out << YAML::Key << "lock_passwd" << YAML::Value << true;
  out << YAML::Key << "ssh_authorized_keys" << YAML::Value << YAML::BeginSeq;
  emit_quoted(out, inputs.admin_public_key);
  if (!inputs.team_public_key.empty()) {
    emit_quoted(out, inputs.team_public_key);
  }
  out << YAML::EndSeq << YAML::EndMap << YAML::EndSeq;
}

void access(YAML::Emitter& out, const SeedInputs& inputs) {
  emit_comment(out, "cc_set_passwords: keys only");
  out << YAML::Key << "ssh_pwauth" << YAML::Value << false;
  emit_comment(out,
               "cc_ssh: the host key labctl generated and pinned in known_hosts; none generated "
               "here\n(with ssh_keys given, cc_ssh generates none; the list names the given type "
               "because\ncloud-init's schema refuses an empty one)");
  out << YAML::Key << "ssh_deletekeys" << YAML::Value << true;
  out << YAML::Key << "ssh_genkeytypes" << YAML::Value << YAML::Flow << YAML::BeginSeq << "ed25519"
      << YAML::EndSeq;
  out << YAML::Key << "ssh_keys" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "ed25519_private" << YAML::Value;
  emit_text(out, inputs.host_private_key);
  out << YAML::Key << "ed25519_public" << YAML::Value;
  emit_quoted(out, inputs.host_public_key);
  out << YAML::EndMap;
}

void docker_apt_source(YAML::Emitter& out, const SeedInputs& inputs) {
  out << YAML::Key << "sources" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "docker.list" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "source" << YAML::Value;
  emit_quoted(out, "deb https://download.docker.com/linux/debian $RELEASE stable");
  if (inputs.docker_apt_key.empty()) {
    // Fetched from the keyserver: needs that link (see SeedInputs::docker_apt_key).
    out << YAML::Key << "keyid" << YAML::Value << k_docker_key_fingerprint;
  } else {
    out << YAML::Key << "key" << YAML::Value;
    emit_text(out, inputs.docker_apt_key);
  }
  out << YAML::EndMap << YAML::EndMap;
}

// cc_apt_configure: the proxy for every apt call, and Docker's repository when used.
void apt(YAML::Emitter& out, const model::Lab& lab, const SeedInputs& inputs) {
  const bool repository = lab.docker.source == DockerSource::repository;
  if (lab.docker.apt_proxy.empty() && !repository) {
    return;
  }
  emit_comment(out, "cc_apt_configure");
  out << YAML::Key << "apt" << YAML::Value << YAML::BeginMap;
  if (!lab.docker.apt_proxy.empty()) {
    out << YAML::Key << "proxy" << YAML::Value;
    emit_quoted(out, lab.docker.apt_proxy);
  }
  if (repository) {
    docker_apt_source(out, inputs);
  }
  out << YAML::EndMap;
}

// cc_package_update_upgrade_install (final stage); nothing at all when Docker is baked in.
void packages(YAML::Emitter& out, const model::Lab& lab) {
  std::vector<std::string> names;
  if (lab.docker.source == DockerSource::repository) {
    names = {"docker-ce", "docker-ce-cli", "containerd.io", "docker-compose-plugin"};
  } else if (lab.docker.source == DockerSource::distribution) {
    names = {"docker.io", "docker-compose"};
  }
  if (names.empty()) {
    return;
  }
  emit_comment(out, "cc_package_update_upgrade_install: Docker (" +
                        model::to_string(lab.docker.source) + ")");
  out << YAML::Key << "package_update" << YAML::Value << true;
  out << YAML::Key << "package_upgrade" << YAML::Value << false;
  out << YAML::Key << "packages" << YAML::Value << names;
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
void write_files(YAML::Emitter& out, const std::vector<SeedFile>& files) {
  if (files.empty()) {
    return;
  }
  emit_comment(out, "cc_write_files: files of other owners are deferred until their user exists");
  out << YAML::Key << "write_files" << YAML::Value << YAML::BeginSeq;
  for (const auto& file : files) {
    out << YAML::BeginMap;
    out << YAML::Key << "path" << YAML::Value;
    emit_quoted(out, file.path);
    out << YAML::Key << "owner" << YAML::Value;
    emit_quoted(out, file.owner);
    out << YAML::Key << "permissions" << YAML::Value;
    emit_quoted(out, file.permissions);
    if (file.owner.rfind("root:", 0) != 0 && file.owner != "root") {
      out << YAML::Key << "defer" << YAML::Value << true;
    }
    out << YAML::Key << "content" << YAML::Value;
    emit_text(out, file.content);
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
}

// cc_runcmd (script run by cc_scripts_user in the final stage); the readiness line last.
void runcmd(YAML::Emitter& out, const model::Lab& lab, const model::Vm& vm,
            const SeedInputs& inputs) {
  std::vector<std::string> lines;
  if (docker_daemon(lab)) {
    // dockerd re-reads registry-mirrors and insecure-registries on SIGHUP (systemd's reload):
    // no second start, which under TCG took the guests about a minute. `start` first: it
    // waits for a dockerd still starting from the boot, or starts one that is not running.
    lines.emplace_back(k_docker_reload);
  }
  lines.insert(lines.end(), inputs.runcmd.begin(), inputs.runcmd.end());
  lines.push_back("echo " + ready_line(vm, inputs.generation) + " > /dev/ttyS0");
  emit_comment(out, "cc_runcmd: the last line tells labctl (serial console) user-data ran");
  out << YAML::Key << "runcmd" << YAML::Value << YAML::BeginSeq;
  for (const auto& line : lines) {
    emit_quoted(out, line);
  }
  out << YAML::EndSeq;
}

void completion(YAML::Emitter& out, const model::Vm& vm, const SeedInputs& inputs) {
  if (!inputs.phone_home_url.empty()) {
    emit_comment(out, "cc_phone_home: an HTTP POST to labctl when the final stage is reached");
    out << YAML::Key << "phone_home" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "url" << YAML::Value;
    emit_quoted(out, inputs.phone_home_url);
    out << YAML::Key << "post" << YAML::Value << YAML::BeginSeq << "instance_id"
        << "hostname" << YAML::EndSeq;
    out << YAML::Key << "tries" << YAML::Value << 10 << YAML::EndMap;
  }
  emit_comment(out, "cc_final_message");
  out << YAML::Key << "final_message" << YAML::Value;
  emit_quoted(out, "labctl: " + instance_id(vm, inputs.generation) + " up after $UPTIME seconds");
}

}  // namespace

// "#cloud-config" is written by hand: cloud-init recognises user-data by that exact first
// line, and yaml-cpp writes every comment as "# text", with a space.
std::string user_data(const model::Lab& lab, const model::Vm& vm, const SeedInputs& inputs) {
  YAML::Emitter out;
  out << YAML::Comment("labctl seed for " + vm.name + " (instance " +
                       instance_id(vm, inputs.generation) + ")");
  out << YAML::BeginMap;
  identity(out, vm);
  admin_user(out, lab, inputs);
  access(out, inputs);
  apt(out, lab, inputs);
  packages(out, lab);
  write_files(out, all_files(lab, inputs));
  runcmd(out, lab, vm, inputs);
  completion(out, vm, inputs);
  out << YAML::EndMap;
  return std::string("#cloud-config\n") + out.c_str() + "\n";
}

}  // namespace labctl::cloudinit

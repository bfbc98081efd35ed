#pragma once

// NoCloud seed documents for one VM, rendered from the expanded model: pure functions,
// checked against golden files (tests/golden/cloud-init/).

#include <string>
#include <vector>

#include "provision/model/lab.hpp"

namespace labctl::cloudinit {

// A file the guest gets through write_files. Files owned by another user than root are
// deferred to the final stage (write_files_deferred), after users and packages exist.
struct SeedFile {
  std::string path;
  std::string content;
  std::string permissions = "0644";
  std::string owner = "root:root";
};

// What user_data needs beyond the model: keys from the state directory, and what other
// modules (the Squash TM stack) add.
struct SeedInputs {
  // Lab::admin_user accepts these two keys and no other: the classroom key (labctl's and
  // the instructor's) and the VM's team's key (its students').
  std::string admin_public_key;  // classroom key's public line
  std::string team_public_key;   // the team's key's public line ("" = none)
  std::string host_private_key;  // the VM's pinned ed25519 host key, OpenSSH format
  std::string host_public_key;   // its public line
  std::vector<SeedFile> files;
  std::vector<std::string> runcmd;  // shell lines, run in order before the readiness line
  int generation = 0;               // bumped by `reset`: a new instance-id reruns cloud-init
  std::string phone_home_url;       // optional; cloud-init replaces $INSTANCE_ID in it
  // Docker's repository signing key (ASCII armored). Empty: cloud-init fetches it from the
  // keyserver by fingerprint, which needs that link; offline classrooms use distribution.
  std::string docker_apt_key;
};

// The runcmd line that makes dockerd read the seed's daemon.json (registry mirror).
inline constexpr const char* k_docker_reload = "systemctl start docker && systemctl reload docker";

// Docker's published repository signing key fingerprint.
inline constexpr const char* k_docker_key_fingerprint = "9DC858229FC7DD38854AE2D88D81803C0EBFCD88";
// The line the guest writes on its serial console when user-data has run.
inline constexpr const char* k_ready_marker = "labctl-ready";

// "<vm name>-<spec_hash>[-<generation>]"; generation 0 has no suffix.
std::string instance_id(const model::Vm& vm, int generation);
// "labctl-ready <instance-id>", what the readiness stage looks for in the serial log.
std::string ready_line(const model::Vm& vm, int generation);

std::string meta_data(const model::Lab& lab, const model::Vm& vm, int generation = 0);
std::string network_config(const model::Vm& vm);
std::string user_data(const model::Lab& lab, const model::Vm& vm, const SeedInputs& inputs);

}  // namespace labctl::cloudinit

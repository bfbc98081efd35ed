#pragma once

// The instances each VM runs: the lab file's, with what `squash add` and `squash rm`
// recorded in state.json. What else a VM is given lives beside this: its files
// (guest_materializer.hpp), its stack's DB passwords (stack_secrets.hpp) and the root remote
// over its shell (ssh_remote.hpp); SSH to it is converge/guest_ssh.hpp's.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "provision/model/lab.hpp"

namespace labctl::apply {

// The VM's instances: the lab file's, plus those `squash add` recorded, minus those
// `squash rm` recorded.
std::vector<model::Instance> effective_instances(const model::Vm& vm, const nlohmann::json& state);
void record_added(nlohmann::json& state, const model::Vm& vm, const model::Instance& instance);
void record_removed(nlohmann::json& state, const model::Vm& vm, const std::string& name);
nlohmann::json instance_json(const model::Instance& instance);

}  // namespace labctl::apply

#pragma once

// What a classroom VM is given beyond the hypervisor's objects: its base image files, its
// cloud-init seed (keys, network, the Squash TM stack files) and the DB passwords of its
// stack (stack_secrets.hpp). SSH to it is converge/guest_ssh.hpp's; the root remote over SSH,
// ssh_remote.hpp.

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "provision/apply/apply.hpp"
#include "provision/images/images.hpp"
#include "provision/model/lab.hpp"
#include "provision/sys/state.hpp"
#include "stacks/squashtm/render.hpp"

namespace labctl::apply {

struct GuestOptions {
  std::string accelerator = "qemu";  // "kvm" or "qemu", already probed
  images::EnsureOptions images;
  squashtm::StackOptions stack;
};

class GuestMaterializer : public Materializer {
 public:
  GuestMaterializer(const model::Lab& lab, sys::StateDir state, GuestOptions options);

  Result<std::string> base_file(plan::Role role) override;
  Result<std::string> seed_file(const model::Vm& vm) override;
  std::string serial_log(const model::Vm& vm) override;
  std::string accelerator() override { return m_options.accelerator; }

 private:
  Result<images::ImagePaths> image();

  const model::Lab& m_lab;
  sys::StateDir m_state;
  GuestOptions m_options;
  std::mutex m_image_mutex;
  std::optional<images::ImagePaths> m_image;
};

// The VM's instances: the lab file's, plus those `squash add` recorded, minus those
// `squash rm` recorded.
std::vector<model::Instance> effective_instances(const model::Vm& vm, const nlohmann::json& state);
void record_added(nlohmann::json& state, const model::Vm& vm, const model::Instance& instance);
void record_removed(nlohmann::json& state, const model::Vm& vm, const std::string& name);
nlohmann::json instance_json(const model::Instance& instance);

}  // namespace labctl::apply

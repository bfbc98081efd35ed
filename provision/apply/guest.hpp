#pragma once

// What a classroom VM is given beyond the hypervisor's objects: its base image files, its
// cloud-init seed (keys, network, the Squash TM stack files), SSH access with the pinned
// keys, and its stack deployed over SSH once Docker is up.

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "provision/apply/apply.hpp"
#include "provision/images/images.hpp"
#include "provision/model/lab.hpp"
#include "provision/ready/ssh.hpp"
#include "provision/sys/state.hpp"
#include "stacks/squashtm/remote.hpp"
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

// DB passwords, generated once per instance and kept 0600 in the state directory.
Result<squashtm::Secrets> stack_secrets(const sys::StateDir& state, const model::Vm& vm,
                                        const std::vector<model::Instance>& instances);
// Once the instance's database is gone, so is its password: a new instance of that name gets
// a new one.
Status forget_stack_secret(const sys::StateDir& state, const model::Vm& vm,
                           const std::string& instance);

Result<ready::SshTarget> ssh_target(const model::Lab& lab, const sys::StateDir& state,
                                    const model::Vm& vm);

// squashtm::Remote over SSH: commands and file writes run as root through sudo.
class SshRemote : public squashtm::Remote {
 public:
  explicit SshRemote(std::unique_ptr<sys::Shell> session)
      : m_owned(std::move(session)), m_session(m_owned.get()) {}
  // On a session someone else holds (the readiness stages'), which must outlive this.
  explicit SshRemote(sys::Shell& session) : m_session(&session) {}
  Result<squashtm::ExecResult> exec(const std::string& command) override;
  Status put_file(const std::string& path, const std::string& content, int mode) override;

 private:
  std::unique_ptr<sys::Shell> m_owned;
  sys::Shell* m_session;
};

// An SSH session to the VM with the classroom's key and the VM's pinned host key.
Result<std::unique_ptr<SshRemote>> connect_remote(const model::Lab& lab, const sys::StateDir& state,
                                                  const model::Vm& vm);

}  // namespace labctl::apply

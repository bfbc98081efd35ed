#pragma once

// The Materializer `up` uses for a classroom's VMs: the base image's files, each VM's
// cloud-init seed (its keys, network, the Squash TM stack files with their DB passwords),
// its serial log in the state directory, and the accelerator. The base image comes from a
// source the caller gives (converge/ pulls or builds it with images/), so that apply/ does
// not reach outward for it.

#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "provision/apply/apply.hpp"
#include "provision/model/lab.hpp"
#include "provision/result.hpp"
#include "provision/sys/state.hpp"
#include "stacks/squashtm/render.hpp"

namespace labctl::apply {

// Where the base image's files are once it is ready.
struct BaseImage {
  std::string disk;
  std::string kernel;  // "" when it boots from its disk
  std::string initrd;  // "" when it boots from its disk
};

// Readies the lab's base image (pulled or built) and says where it is. Asked once, by the
// first action that needs a file of it; asked again only after a failure.
using BaseImageSource = std::function<Result<BaseImage>()>;

struct GuestOptions {
  std::string accelerator = "qemu";  // "kvm" or "qemu", already probed
  BaseImageSource base_image;
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
  Result<BaseImage> image();

  const model::Lab& m_lab;
  sys::StateDir m_state;
  GuestOptions m_options;
  std::mutex m_image_mutex;
  std::optional<BaseImage> m_image;
};

}  // namespace labctl::apply

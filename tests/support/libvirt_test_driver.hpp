#pragma once

// The real libvirt backend on libvirt's test driver (test:///default), for tests and benches
// that run the planner and the apply engine end to end. Every call goes to LibvirtHypervisor;
// the one thing the test driver lacks is volume upload ("this function is not supported by
// the connection driver"), so an upload that the driver refuses falls back to an empty volume
// of the file's size, made with LibvirtHypervisor::create_volume. Nothing else is changed:
// names, tags, pools, overlays, domains and their states are libvirt's own.
// Subclasses override single calls to inject failures.

#include <filesystem>
#include <memory>
#include <string>

#include "hypervisors/libvirt/backend.hpp"

namespace labctl::testing {

class TestDriverHypervisor : public hv::Hypervisor {
 public:
  explicit TestDriverHypervisor(hv::libvirt::LibvirtHypervisor& real) : m_real(real) {}

  hv::libvirt::LibvirtHypervisor& real() { return m_real; }

  std::string uri() const override { return m_real.uri(); }
  hv::Capabilities capabilities() override { return m_real.capabilities(); }
  Result<hv::HostInfo> host_info() override { return m_real.host_info(); }
  Result<hv::Inventory> inventory(const std::string& classroom) override {
    return m_real.inventory(classroom);
  }
  Result<std::vector<hv::HostNetwork>> host_networks() override { return m_real.host_networks(); }

  Status create_network(const model::Lab& lab, const model::Network& net) override {
    return m_real.create_network(lab, net);
  }
  Status delete_network(const std::string& classroom, const std::string& name) override {
    return m_real.delete_network(classroom, name);
  }
  Status create_pool(const model::Lab& lab) override { return m_real.create_pool(lab); }
  Status delete_pool(const std::string& classroom, const std::string& name) override {
    return m_real.delete_pool(classroom, name);
  }

  // The real upload first; when the driver refuses it (and has removed the half-made
  // volume), an empty volume of the same size and format.
  Status upload_volume(const std::string& pool, const std::string& name,
                       const std::string& local_file, hv::VolumeFormat format) override {
    Status uploaded = m_real.upload_volume(pool, name, local_file, format);
    if (uploaded || uploaded.error().message.find("not supported") == std::string::npos) {
      return uploaded;
    }
    std::error_code ec;
    const auto size = std::filesystem::file_size(local_file, ec);
    if (ec) {
      return Error::failure("cannot read " + local_file + ": " + ec.message());
    }
    return m_real.create_volume(pool, name, format, size);
  }
  Status create_overlay(const std::string& pool, const std::string& name,
                        const std::string& backing, model::Bytes capacity) override {
    return m_real.create_overlay(pool, name, backing, capacity);
  }
  Status delete_volume(const std::string& pool, const std::string& name) override {
    return m_real.delete_volume(pool, name);
  }
  Result<std::string> volume_path(const std::string& pool, const std::string& name) override {
    return m_real.volume_path(pool, name);
  }

  Status create_domain(const hv::DomainRequest& request) override {
    return m_real.create_domain(request);
  }
  Status start_domain(const model::Lab& lab, const std::string& name) override {
    return m_real.start_domain(lab, name);
  }
  Status stop_domain(const std::string& name) override { return m_real.stop_domain(name); }
  Status delete_domain(const std::string& classroom, const std::string& name) override {
    return m_real.delete_domain(classroom, name);
  }
  Result<hv::PowerState> domain_state(const std::string& name) override {
    return m_real.domain_state(name);
  }
  Status retag(const hv::Object& object, const std::string& identity) override {
    return m_real.retag(object, identity);
  }

 private:
  hv::libvirt::LibvirtHypervisor& m_real;
};

}  // namespace labctl::testing

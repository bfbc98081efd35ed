#pragma once

// The libvirt backend: hv::Hypervisor over one libvirt connection (C API).
// Thread safety: the apply engine calls in from several workers. libvirt connections are
// thread-safe and its last-error is per thread; every other member is immutable after
// construction except the probed capabilities, which a mutex guards.

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "hypervisors/hypervisor.hpp"
#include "hypervisors/libvirt/forward.hpp"
#include "hypervisors/libvirt/handles.hpp"
#include "hypervisors/libvirt/xml.hpp"

namespace labctl::hv::libvirt {

struct LibvirtOptions {
  // Pools live in "<pool_root>/<classroom>"; that path is what marks a pool as labctl's.
  std::string pool_root = std::string(k_default_pool_root);
  // Students' access: who runs iptables and the chain that accepts forwarded connections.
  // nullptr: this machine's, and only on a local qemu:// host (forwarding is the kernel's of
  // the machine labctl runs on); given, the backend publishes whatever the URI.
  sys::ProcessRunner* forward_runner = nullptr;
  std::string accept_chain = std::string(k_libvirt_accept_chain);
};

class LibvirtHypervisor : public Hypervisor {
 public:
  // "" opens libvirt's default URI. test:///default gives every connection a fresh world.
  static Result<std::unique_ptr<LibvirtHypervisor>> open(const std::string& uri,
                                                         LibvirtOptions options = {});

  std::string uri() const override;
  Capabilities capabilities() override;
  Result<HostInfo> host_info() override;
  Result<Inventory> inventory(const std::string& classroom) override;
  Result<std::vector<HostNetwork>> host_networks() override;

  Status create_network(const model::Lab& lab, const model::Network& net) override;
  Status delete_network(const std::string& classroom, const std::string& name) override;

  Status create_pool(const model::Lab& lab) override;
  Status delete_pool(const std::string& classroom, const std::string& name) override;
  Status upload_volume(const std::string& pool, const std::string& name,
                       const std::string& local_file, VolumeFormat format) override;
  Status create_overlay(const std::string& pool, const std::string& name,
                        const std::string& backing, model::Bytes capacity) override;
  Status delete_volume(const std::string& pool, const std::string& name) override;
  Result<std::string> volume_path(const std::string& pool, const std::string& name) override;

  Status create_domain(const DomainRequest& request) override;
  Status start_domain(const model::Lab& lab, const std::string& name) override;
  Status stop_domain(const std::string& name) override;
  Status delete_domain(const std::string& classroom, const std::string& name) override;
  Result<PowerState> domain_state(const std::string& name) override;
  Status retag(const Object& object, const std::string& identity) override;
  Status publish(const model::Lab& lab, const std::string& team) override;
  Status unpublish(const model::Lab& lab, const std::string& team) override;

  // An empty volume: the first half of upload_volume. Also how tests on test:///default,
  // whose driver cannot upload, make a base volume.
  Status create_volume(const std::string& pool, const std::string& name, VolumeFormat format,
                       model::Bytes capacity);
  const LibvirtOptions& options() const { return m_options; }
  // The shared connection, for tests that must make objects labctl would not.
  virConnectPtr connection() const { return m_conn.get(); }

 private:
  LibvirtHypervisor(ConnectHandle conn, std::string uri, LibvirtOptions options);

  Result<DomainHandle> lookup_domain(const std::string& name) const;
  Result<NetworkHandle> lookup_network(const std::string& name) const;
  Result<PoolHandle> lookup_pool(const std::string& name) const;
  Result<VolumeHandle> lookup_volume(const std::string& pool, const std::string& name) const;
  // The pool's target path, if it lies under our pool root (i.e. the pool is labctl's).
  Result<std::string> owned_pool_path(virStoragePoolPtr pool) const;
  Status send_file(virStorageVolPtr vol, const std::string& local_file, model::Bytes size);
  Status collect_networks(const std::string& classroom, Inventory& inventory) const;
  Status collect_pools(const std::string& classroom, Inventory& inventory) const;
  void collect_volumes(const std::string& classroom, virStoragePoolPtr pool,
                       const std::string& pool_name, Inventory& inventory) const;
  Status collect_domains(const std::string& classroom, Inventory& inventory) const;
  void collect_devices(Inventory& inventory) const;
  Status collect_forwards(const std::string& classroom, Inventory& inventory) const;
  Status retag_domain(const std::string& name, const Tag& tag);
  Status retag_network(const std::string& name, const Tag& tag);
  Capabilities probe_capabilities() const;

  ConnectHandle m_conn;
  std::string m_uri;
  LibvirtOptions m_options;
  std::mutex m_caps_mutex;
  std::optional<Capabilities> m_caps;
  std::unique_ptr<sys::ProcessRunner> m_own_runner;
  std::unique_ptr<Forwarder> m_forwarder;  // null: this host cannot publish
};

// Tag of a domain / network read from libvirt, if it carries labctl's.
std::optional<Tag> domain_tag(virDomainPtr dom);
std::optional<Tag> network_tag(virNetworkPtr net);
PowerState power_state(int libvirt_state);
// KVM that works: the capabilities XML offers domain type kvm and the host CPU has vmx or
// svm, among the features listed there or in the CPU expanded with its model's features
// (virConnectBaselineCPU, EXPAND_FEATURES; "" if unknown). The nested paravirtual KVM met on
// the development machines offers kvm without either flag and is far slower than TCG.
bool kvm_usable(const std::string& caps_xml, const std::string& expanded_cpu_xml);
// Every volume of an active pool (none when the pool is inactive).
std::vector<VolumeHandle> list_volumes(virStoragePoolPtr pool);

}  // namespace labctl::hv::libvirt

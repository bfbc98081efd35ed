// LibvirtHypervisor: networks, host networks and the inventory.

#include "hypervisors/libvirt/backend.hpp"
#include "hypervisors/libvirt/xml_read.hpp"

namespace labctl::hv::libvirt {

namespace {

template <typename Handle, typename Raw>
std::vector<Handle> adopt_all(Raw* raw, int count) {
  std::vector<Handle> handles;
  for (int i = 0; i < count; ++i) {
    handles.emplace_back(raw[i]);
  }
  std::free(raw);  // NOLINT: libvirt's array
  return handles;
}

// Volumes carry no metadata: role and team follow from labctl's volume names
// ("<classroom>-base...", "<classroom>-<team>-<vm>.qcow2", "...-seed.iso").
Tag volume_tag(const std::string& classroom, const std::string& name) {
  Tag tag{classroom, "", "disk", ""};
  const std::string prefix = classroom + "-";
  const std::string rest = name.starts_with(prefix) ? name.substr(prefix.size()) : name;
  if (rest.starts_with("base")) {
    tag.role = "base";
    return tag;
  }
  tag.team = rest.substr(0, rest.find('-'));
  tag.role = name.ends_with("-seed.iso") ? "seed" : "disk";
  return tag;
}

}  // namespace

std::optional<Tag> network_tag(virNetworkPtr net) {
  // virNetworkGetMetadata only exists from libvirt 9.7; the XML keeps <metadata> in 9.0.
  return parse_tag(take_string(virNetworkGetXMLDesc(net, 0)));
}

Result<NetworkHandle> LibvirtHypervisor::lookup_network(const std::string& name) const {
  NetworkHandle net(virNetworkLookupByName(m_conn.get(), name.c_str()));
  if (!net) {
    return libvirt_error("no network", name);
  }
  return net;
}

Status LibvirtHypervisor::create_network(const model::Lab& lab, const model::Network& net) {
  const std::string xml = render_network(lab, net);
  NetworkHandle handle(virNetworkDefineXML(m_conn.get(), xml.c_str()));
  if (!handle) {
    return libvirt_error("cannot define network", net.name);
  }
  if (virNetworkCreate(handle.get()) < 0 || virNetworkSetAutostart(handle.get(), 1) < 0) {
    Error error = libvirt_error("cannot start network", net.name);
    if (virNetworkIsActive(handle.get()) == 1) {
      virNetworkDestroy(handle.get());
    }
    virNetworkUndefine(handle.get());
    return error;
  }
  return {};
}

Status LibvirtHypervisor::delete_network(const std::string& classroom, const std::string& name) {
  auto net = lookup_network(name);
  if (!net) {
    return net.error();
  }
  const auto tag = network_tag(net->get());
  if (!tag || tag->classroom != classroom) {
    return Error::failure("refusing to delete network " + name + ": not tagged for classroom " +
                          classroom);
  }
  if (virNetworkIsActive(net->get()) == 1 && virNetworkDestroy(net->get()) < 0) {
    return libvirt_error("cannot stop network", name);
  }
  if (virNetworkUndefine(net->get()) < 0) {
    return libvirt_error("cannot undefine network", name);
  }
  return {};
}

Result<std::vector<HostNetwork>> LibvirtHypervisor::host_networks() {
  virNetworkPtr* raw = nullptr;
  const int count = virConnectListAllNetworks(m_conn.get(), &raw, 0);
  if (count < 0) {
    return libvirt_error("cannot list networks of", m_uri);
  }
  std::vector<HostNetwork> found;
  for (const NetworkHandle& net : adopt_all<NetworkHandle>(raw, count)) {
    const std::string xml = take_string(virNetworkGetXMLDesc(net.get(), 0));
    const auto tag = parse_tag(xml);
    found.push_back({virNetworkGetName(net.get()), network_cidr(xml), tag ? tag->classroom : ""});
  }
  return found;
}

Status LibvirtHypervisor::collect_networks(const std::string& classroom,
                                           Inventory& inventory) const {
  virNetworkPtr* raw = nullptr;
  const int count = virConnectListAllNetworks(m_conn.get(), &raw, 0);
  if (count < 0) {
    return libvirt_error("cannot list networks of", m_uri);
  }
  for (const NetworkHandle& net : adopt_all<NetworkHandle>(raw, count)) {
    const std::string xml = take_string(virNetworkGetXMLDesc(net.get(), 0));
    const auto tag = parse_tag(xml);
    if (!tag || tag->classroom != classroom) {
      continue;
    }
    Object object{ObjectKind::network, virNetworkGetName(net.get()), *tag};
    object.state = virNetworkIsActive(net.get()) == 1 ? PowerState::running : PowerState::off;
    object.cidr = network_cidr(xml);
    inventory.objects.push_back(std::move(object));
  }
  return {};
}

void LibvirtHypervisor::collect_volumes(const std::string& classroom, virStoragePoolPtr pool,
                                        const std::string& pool_name, Inventory& inventory) const {
  virStoragePoolRefresh(pool, 0);  // files changed behind libvirt's back still show
  for (const VolumeHandle& vol : list_volumes(pool)) {
    const std::string name = virStorageVolGetName(vol.get());
    Object object{ObjectKind::volume, name, volume_tag(classroom, name)};
    object.pool = pool_name;
    inventory.objects.push_back(std::move(object));
  }
}

Status LibvirtHypervisor::collect_pools(const std::string& classroom, Inventory& inventory) const {
  virStoragePoolPtr* raw = nullptr;
  const int count = virConnectListAllStoragePools(m_conn.get(), &raw, 0);
  if (count < 0) {
    return libvirt_error("cannot list pools of", m_uri);
  }
  const std::string ours = pool_path(m_options.pool_root, classroom);
  for (const PoolHandle& pool : adopt_all<PoolHandle>(raw, count)) {
    auto path = owned_pool_path(pool.get());
    if (!path || *path != ours) {
      continue;
    }
    const std::string name = virStoragePoolGetName(pool.get());
    Object object{ObjectKind::pool, name, Tag{classroom, "", "pool", ""}};
    const bool active = virStoragePoolIsActive(pool.get()) == 1;
    object.state = active ? PowerState::running : PowerState::off;
    inventory.objects.push_back(std::move(object));
    if (active) {
      collect_volumes(classroom, pool.get(), name, inventory);
    }
  }
  return {};
}

Status LibvirtHypervisor::collect_domains(const std::string& classroom,
                                          Inventory& inventory) const {
  virDomainPtr* raw = nullptr;
  const int count = virConnectListAllDomains(m_conn.get(), &raw, 0);
  if (count < 0) {
    return libvirt_error("cannot list domains of", m_uri);
  }
  for (const DomainHandle& dom : adopt_all<DomainHandle>(raw, count)) {
    const auto tag = domain_tag(dom.get());
    virDomainInfo info{};
    if (!tag || tag->classroom != classroom || virDomainGetInfo(dom.get(), &info) < 0) {
      continue;
    }
    Object object{ObjectKind::domain, virDomainGetName(dom.get()), *tag};
    object.state = power_state(info.state);
    object.memory = model::Bytes(info.maxMem) * 1024;
    object.vcpus = int(info.nrVirtCpu);
    inventory.objects.push_back(std::move(object));
  }
  return {};
}

Result<Inventory> LibvirtHypervisor::inventory(const std::string& classroom) {
  if (virConnectIsAlive(m_conn.get()) != 1) {
    return libvirt_error("connection lost to", m_uri);
  }
  Inventory inventory;
  inventory.host = m_uri;
  for (auto collect : {&LibvirtHypervisor::collect_networks, &LibvirtHypervisor::collect_pools,
                       &LibvirtHypervisor::collect_domains}) {
    if (Status listed = (this->*collect)(classroom, inventory); !listed) {
      return listed.error();
    }
  }
  return inventory;
}

}  // namespace labctl::hv::libvirt

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

// The persistent definition, where a re-tag lands at once (the running network keeps its
// old XML until it restarts); the live one for a transient network, or on a driver without
// the flag (the test driver).
std::string defined_xml(virNetworkPtr net) {
  std::string xml = take_string(virNetworkGetXMLDesc(net, VIR_NETWORK_XML_INACTIVE));
  return xml.empty() ? take_string(virNetworkGetXMLDesc(net, 0)) : xml;
}

Object network_object(virNetworkPtr net, const std::string& xml, Tag tag) {
  Object object{ObjectKind::network, virNetworkGetName(net), std::move(tag)};
  object.state = virNetworkIsActive(net) == 1 ? PowerState::running : PowerState::off;
  object.cidr = network_cidr(xml);
  object.bridge = attribute(xml, "bridge", "name").value_or("");
  return object;
}

}  // namespace

std::optional<Tag> network_tag(virNetworkPtr net) {
  // virNetworkGetMetadata only exists from libvirt 9.7; the XML keeps <metadata> in 9.0.
  return parse_tag(defined_xml(net));
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
    const std::string xml = defined_xml(net.get());
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
    const std::string xml = defined_xml(net.get());
    const auto tag = parse_tag(xml);
    const bool ours = tag && tag->classroom == classroom;
    (ours ? inventory.objects : inventory.others)
        .push_back(network_object(net.get(), xml, tag.value_or(Tag{})));
  }
  return {};
}

// Host interfaces, bridges among them; none listed where there is no interface driver
// (qemu:///session), and then nothing is checked against them.
void LibvirtHypervisor::collect_devices(Inventory& inventory) const {
  virInterfacePtr* raw = nullptr;
  const int count = virConnectListAllInterfaces(m_conn.get(), &raw, 0);
  if (count < 0) {
    return;
  }
  std::vector<std::string> names;
  for (const InterfaceHandle& iface : adopt_all<InterfaceHandle>(raw, count)) {
    names.emplace_back(virInterfaceGetName(iface.get()));
  }
  inventory.devices = std::move(names);
}

Status LibvirtHypervisor::retag_network(const std::string& name, const Tag& tag) {
  auto net = lookup_network(name);
  if (!net) {
    return net.error();
  }
  std::string xml = defined_xml(net->get());
  const auto tags = start_tags(xml, std::string(k_tag_prefix) + ":tag");
  if (tags.empty() || !parse_tag(xml)) {
    return Error::failure("network " + name + " carries no labctl tag to rewrite");
  }
  const std::size_t at = static_cast<std::size_t>(tags.front().data() - xml.data());
  xml.replace(at, tags.front().size(), render_tag(tag));
  NetworkHandle redefined(virNetworkDefineXML(m_conn.get(), xml.c_str()));
  if (!redefined) {
    return libvirt_error("cannot re-tag network", name);
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
    const std::string name = virStoragePoolGetName(pool.get());
    if (!path || *path != ours) {
      // Another classroom's pool is named by its directory, the last part of its path.
      const std::string owner = path ? path->substr(path->rfind('/') + 1) : "";
      inventory.others.push_back({ObjectKind::pool, name, Tag{owner, "", "pool", ""}});
      continue;
    }
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
    if (!tag || tag->classroom != classroom) {
      inventory.others.push_back(
          {ObjectKind::domain, virDomainGetName(dom.get()), tag.value_or(Tag{})});
      continue;
    }
    if (virDomainGetInfo(dom.get(), &info) < 0) {
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
  collect_devices(inventory);
  if (Status listed = collect_forwards(classroom, inventory); !listed) {
    return listed.error();
  }
  return inventory;
}

}  // namespace labctl::hv::libvirt

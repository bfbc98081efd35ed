#include "hypervisors/libvirt/backend.hpp"

#include "hypervisors/libvirt/xml_read.hpp"
#include "hypervisors/limits.hpp"

namespace labctl::hv::libvirt {

namespace {

// libvirt prints every error on stderr by default; ours become Error values instead.
void silent_error(void* /*data*/, virErrorPtr /*error*/) {}

void init_libvirt_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    virInitialize();
    virSetErrorFunc(nullptr, silent_error);
  });
}

std::string scheme_of(const std::string& uri) {
  const std::size_t end = uri.find(':');
  std::string scheme = end == std::string::npos ? uri : uri.substr(0, end);
  const std::size_t plus = scheme.find('+');  // qemu+ssh -> qemu
  return plus == std::string::npos ? scheme : scheme.substr(0, plus);
}

// The URI names a host ("qemu+ssh://user@h/system", "qemu://h/system").
bool names_host(const std::string& uri) {
  const std::size_t start = uri.find("://");
  if (start == std::string::npos) {
    return false;
  }
  std::string authority = uri.substr(start + 3, uri.find('/', start + 3) - (start + 3));
  const std::size_t at = authority.rfind('@');
  return !(at == std::string::npos ? authority : authority.substr(at + 1)).empty();
}

// The capabilities' <host> part, where the host CPU is.
std::string_view host_part(std::string_view caps_xml) {
  return caps_xml.substr(0, caps_xml.find("</host>"));
}

bool has_virtualization_flag(std::string_view xml) {
  bool found = false;
  for (std::string_view feature : start_tags(xml, "feature")) {
    const auto name = tag_attribute(feature, "name");
    found = found || name == "vmx" || name == "svm";
  }
  return found;
}

// The host CPU with every feature spelled out, the named model's included (libvirt lists
// only the features beyond the model's: an EPYC host's svm is in its model). "" when the
// driver cannot say.
std::string expanded_host_cpu(virConnectPtr conn, std::string_view caps_xml) {
  const std::string_view host = host_part(caps_xml);
  const std::size_t begin = host.find("<cpu>");
  const std::size_t end = host.find("</cpu>", begin);
  if (begin == std::string_view::npos || end == std::string_view::npos) {
    return {};
  }
  const std::string cpu(host.substr(begin, end + 6 - begin));
  const char* cpus[] = {cpu.c_str()};
  char* expanded = virConnectBaselineCPU(conn, cpus, 1, VIR_CONNECT_BASELINE_CPU_EXPAND_FEATURES);
  return expanded != nullptr ? take_string(expanded) : std::string();
}

}  // namespace

model::BackendLimits limits() {
  model::BackendLimits limits;
  limits.name = "libvirt";  // any memory size, every boot mode and network kind, a NAT each
  return limits;
}

bool kvm_usable(const std::string& caps_xml, const std::string& expanded_cpu_xml) {
  bool has_kvm = false;
  for (std::string_view domain : start_tags(caps_xml, "domain")) {
    has_kvm = has_kvm || tag_attribute(domain, "type") == "kvm";
  }
  return has_kvm && (has_virtualization_flag(host_part(caps_xml)) ||
                     has_virtualization_flag(expanded_cpu_xml));
}

PowerState power_state(int libvirt_state) {
  switch (libvirt_state) {
    case VIR_DOMAIN_RUNNING:
      return PowerState::running;
    case VIR_DOMAIN_PAUSED:
      return PowerState::paused;
    case VIR_DOMAIN_SHUTOFF:
      return PowerState::off;
    default:
      return PowerState::other;
  }
}

std::optional<Tag> domain_tag(virDomainPtr dom) {
  const std::string ns(k_tag_namespace);
  const std::string xml =
      take_string(virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, ns.c_str(), 0));
  return xml.empty() ? std::nullopt : parse_metadata_tag(xml);
}

// An EFI domain has an NVRAM file of its own (/var/lib/libvirt/qemu/nvram/), which undefine
// removes only when asked, and refuses to leave behind otherwise.
bool uses_nvram(virDomainPtr dom) {
  const std::string xml = take_string(virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE));
  return !start_tags(xml, "nvram").empty() || attribute(xml, "os", "firmware") == "efi";
}

// A driver without NVRAM files (the test driver) refuses the flag as unsupported: then the
// domain has nothing to remove with it.
int undefine(virDomainPtr dom) {
  const unsigned flags = VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA;
  if (uses_nvram(dom)) {
    if (virDomainUndefineFlags(dom, flags | VIR_DOMAIN_UNDEFINE_NVRAM) == 0) {
      return 0;
    }
    if (virGetLastErrorCode() != VIR_ERR_INVALID_ARG) {
      return -1;
    }
  }
  return virDomainUndefineFlags(dom, flags);
}

LibvirtHypervisor::LibvirtHypervisor(ConnectHandle conn, std::string uri, LibvirtOptions options)
    : m_conn(std::move(conn)), m_uri(std::move(uri)), m_options(std::move(options)) {
  sys::ProcessRunner* runner = m_options.forward_runner;
  // Without iptables (a host set up without provision/bootstrap) nothing is published, and
  // the inventory works as before.
  if (runner == nullptr && scheme_of(m_uri) == "qemu" && !names_host(m_uri) &&
      sys::on_path("iptables")) {
    m_own_runner = std::make_unique<sys::SystemRunner>();
    runner = m_own_runner.get();
  }
  if (runner != nullptr) {
    m_forwarder = std::make_unique<Forwarder>(*runner, m_options.accept_chain);
  }
}

Result<std::unique_ptr<LibvirtHypervisor>> LibvirtHypervisor::open(const std::string& uri,
                                                                   LibvirtOptions options) {
  init_libvirt_once();
  ConnectHandle conn(virConnectOpen(uri.empty() ? nullptr : uri.c_str()));
  if (!conn) {
    return libvirt_error("cannot connect to", uri.empty() ? "the default libvirt URI" : uri);
  }
  std::string actual = uri.empty() ? take_string(virConnectGetURI(conn.get())) : uri;
  return std::unique_ptr<LibvirtHypervisor>(
      new LibvirtHypervisor(std::move(conn), std::move(actual), std::move(options)));
}

std::string LibvirtHypervisor::uri() const {
  return m_uri;
}

Capabilities LibvirtHypervisor::probe_capabilities() const {
  Capabilities caps;
  caps.scheme = scheme_of(m_uri);
  caps.dhcp_reservations = true;
  caps.remote = names_host(m_uri);
  caps.publish = m_forwarder != nullptr;
  caps.max_nat_networks = model::max_nat_networks(limits());
  const std::string caps_xml = take_string(virConnectGetCapabilities(m_conn.get()));
  caps.kvm = kvm_usable(caps_xml, expanded_host_cpu(m_conn.get(), caps_xml));
  return caps;
}

Capabilities LibvirtHypervisor::capabilities() {
  const std::lock_guard lock(m_caps_mutex);
  if (!m_caps) {
    m_caps = probe_capabilities();
  }
  return *m_caps;
}

Result<HostInfo> LibvirtHypervisor::host_info() {
  virNodeInfo node{};
  if (virNodeGetInfo(m_conn.get(), &node) < 0) {
    return libvirt_error("cannot read node info of", m_uri);
  }
  HostInfo info;
  info.hostname = take_string(virConnectGetHostname(m_conn.get()));
  info.memory_total = model::Bytes(node.memory) * 1024;
  info.cpus = int(node.cpus);
  const unsigned long long free_bytes = virNodeGetFreeMemory(m_conn.get());
  if (free_bytes == 0) {
    return libvirt_error("cannot read free memory of", m_uri);
  }
  info.memory_free = free_bytes;
  return info;
}

Result<DomainHandle> LibvirtHypervisor::lookup_domain(const std::string& name) const {
  DomainHandle dom(virDomainLookupByName(m_conn.get(), name.c_str()));
  if (!dom) {
    return libvirt_error("no domain", name);
  }
  return dom;
}

Status LibvirtHypervisor::create_domain(const DomainRequest& request) {
  const model::Lab& lab = *request.lab;
  const model::Vm& vm = *request.vm;
  DomainPaths paths;
  for (auto [target, volume] :
       {std::pair{&paths.disk, &vm.disk_volume}, std::pair{&paths.seed, &vm.seed_volume},
        std::pair{&paths.kernel, &lab.base_kernel}, std::pair{&paths.initrd, &lab.base_initrd}}) {
    const bool needed =
        target == &paths.disk || target == &paths.seed || lab.image.boot == model::BootMode::kernel;
    if (!needed) {
      continue;
    }
    auto path = volume_path(lab.pool, *volume);
    if (!path) {
      return path.error();
    }
    *target = *path;
  }
  const std::string xml = render_domain(request, paths);
  DomainHandle dom(virDomainDefineXML(m_conn.get(), xml.c_str()));
  if (!dom) {
    return libvirt_error("cannot define domain", vm.name);
  }
  return {};
}

Status LibvirtHypervisor::start_domain(const model::Lab& /*lab*/, const std::string& name) {
  auto dom = lookup_domain(name);
  if (!dom) {
    return dom.error();
  }
  if (virDomainCreate(dom->get()) < 0) {
    return libvirt_error("cannot start domain", name);
  }
  return {};
}

Status LibvirtHypervisor::stop_domain(const std::string& name) {
  auto dom = lookup_domain(name);
  if (!dom) {
    return dom.error();
  }
  if (virDomainIsActive(dom->get()) == 1 && virDomainDestroy(dom->get()) < 0) {
    return libvirt_error("cannot stop domain", name);
  }
  return {};
}

Status LibvirtHypervisor::delete_domain(const std::string& classroom, const std::string& name) {
  auto dom = lookup_domain(name);
  if (!dom) {
    return dom.error();
  }
  const auto tag = domain_tag(dom->get());
  if (!tag || tag->classroom != classroom) {
    return Error::failure("refusing to delete domain " + name + ": not tagged for classroom " +
                          classroom);
  }
  if (virDomainIsActive(dom->get()) == 1 && virDomainDestroy(dom->get()) < 0) {
    return libvirt_error("cannot stop domain", name);
  }
  if (undefine(dom->get()) < 0) {
    return libvirt_error("cannot undefine domain", name);
  }
  return {};
}

Result<PowerState> LibvirtHypervisor::domain_state(const std::string& name) {
  auto dom = lookup_domain(name);
  if (!dom) {
    return dom.error();
  }
  int state = 0;
  int reason = 0;
  if (virDomainGetState(dom->get(), &state, &reason, 0) < 0) {
    return libvirt_error("cannot read the state of domain", name);
  }
  return power_state(state);
}

Status LibvirtHypervisor::retag_domain(const std::string& name, const Tag& tag) {
  auto dom = lookup_domain(name);
  if (!dom) {
    return dom.error();
  }
  const std::string ns(k_tag_namespace);
  const std::string prefix(k_tag_prefix);
  const std::string element = render_metadata_element(tag);
  const unsigned live = virDomainIsActive(dom->get()) == 1 ? VIR_DOMAIN_AFFECT_LIVE : 0;
  if (virDomainSetMetadata(dom->get(), VIR_DOMAIN_METADATA_ELEMENT, element.c_str(), prefix.c_str(),
                           ns.c_str(), VIR_DOMAIN_AFFECT_CONFIG | live) < 0) {
    return libvirt_error("cannot re-tag domain", name);
  }
  return {};
}

// Pools and volumes carry no tag: they are the classroom's by their path.
Status LibvirtHypervisor::retag(const Object& object, const std::string& identity) {
  Tag tag = object.tag;
  tag.identity = identity;
  switch (object.kind) {
    case ObjectKind::domain:
      return retag_domain(object.name, tag);
    case ObjectKind::network:
      return retag_network(object.name, tag);
    case ObjectKind::pool:
    case ObjectKind::volume:
    case ObjectKind::forward:  // its identity is in its rules' comment: publish rewrites it
      break;
  }
  return Error::failure(to_string(object.kind) + " " + object.name + " carries no tag");
}

}  // namespace labctl::hv::libvirt

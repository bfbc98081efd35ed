#pragma once

// Several in-process libvirt hosts for tests and benches: `test:///ABS/PATH/host.xml` opens a
// world of its own, described by a <node> file with its own memory size (and, here, a
// running domain that is not the classroom's). The test driver keeps no NUMA cells for such a
// node, so virNodeGetFreeMemory() reads 0 and the backend's host_info() refuses it; TestHost
// then answers what a real host would: total minus what its running domains take.

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <libvirt/libvirt.h>

#include "provision/apply/apply.hpp"
#include "tests/support/libvirt_test_driver.hpp"
#include "tests/support/materializer.hpp"

namespace labctl::testing {

// The <node> document: 4 CPUs, `memory` bytes, a running "other-vm" of `foreign` bytes.
inline std::string node_xml(model::Bytes memory, model::Bytes foreign) {
  std::string xml = fmt::format(
      "<node>\n  <cpu><nodes>1</nodes><sockets>1</sockets><cores>4</cores><threads>1</threads>"
      "<active>4</active><mhz>2000</mhz><model>i686</model></cpu>\n"
      "  <memory>{}</memory>\n",
      memory / 1024);
  if (foreign != 0) {
    xml += fmt::format(
        "  <domain type='test'><name>other-vm</name><memory unit='KiB'>{}</memory>"
        "<os><type>hvm</type></os></domain>\n",
        foreign / 1024);
  }
  return xml + "</node>\n";
}

class NodeHypervisor : public TestDriverHypervisor {
 public:
  using TestDriverHypervisor::TestDriverHypervisor;

  Result<hv::HostInfo> host_info() override {
    if (auto info = TestDriverHypervisor::host_info()) {
      return info;
    }
    virNodeInfo node{};
    if (virNodeGetInfo(real().connection(), &node) < 0) {
      return Error::failure("cannot read node info of " + uri());
    }
    hv::HostInfo info{"test", model::Bytes(node.memory) * 1024, 0, int(node.cpus)};
    virDomainPtr* domains = nullptr;
    const int count =
        virConnectListAllDomains(real().connection(), &domains, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
    model::Bytes used = 0;
    for (int i = 0; i < count; ++i) {
      used += model::Bytes(virDomainGetMaxMemory(domains[i])) * 1024;
      virDomainFree(domains[i]);
    }
    free(domains);  // NOLINT: libvirt allocates the list with malloc
    info.memory_free = info.memory_total > used ? info.memory_total - used : 0;
    return info;
  }
};

struct TestHost {
  std::string uri;
  std::unique_ptr<hv::libvirt::LibvirtHypervisor> real;
  std::unique_ptr<NodeHypervisor> hv;
};

// Writes `dir/name.xml` and opens it; the connection is the host's whole world: keep it.
inline Result<TestHost> open_test_host(const std::filesystem::path& dir, const std::string& name,
                                       model::Bytes memory, model::Bytes foreign) {
  const std::filesystem::path file = std::filesystem::absolute(dir / (name + ".xml"));
  std::ofstream(file) << node_xml(memory, foreign);
  TestHost host{"test://" + file.string(), nullptr, nullptr};
  auto opened = hv::libvirt::LibvirtHypervisor::open(host.uri, {.pool_root = "/lct-place-pools"});
  if (!opened) {
    return opened.error();
  }
  host.real = std::move(*opened);
  host.hv = std::make_unique<NodeHypervisor>(*host.real);
  return host;
}

}  // namespace labctl::testing

#include "hypervisors/libvirt/xml.hpp"

#include <array>

#include <fmt/format.h>

namespace labctl::hv::libvirt {

namespace {

std::string q(std::string_view value) {
  return xml_escape(value);
}

std::string metadata(const Tag& tag) {
  return "  <metadata>\n    " + render_tag(tag) + "\n  </metadata>\n";
}

// A static DHCP entry for every NIC of every VM on this network, so DHCP hands out the
// same address cloud-init configures (the lease is a readiness signal, never the source).
std::string dhcp_hosts(const model::Lab& lab, const model::Network& net) {
  std::string out;
  for (const model::Team& team : lab.teams) {
    for (const model::Vm& vm : team.vms) {
      for (const model::Nic& nic : vm.nics) {
        if (nic.network == net.name && !nic.ip.empty()) {
          out += fmt::format("      <host mac=\"{}\" name=\"{}\" ip=\"{}\"/>\n", q(nic.mac),
                             q(vm.hostname), q(nic.ip));
        }
      }
    }
  }
  return out;
}

std::string nat_ip(const model::Lab& lab, const model::Network& net) {
  if (!net.subnet || net.gateway.empty()) {
    return {};
  }
  std::string out = fmt::format("  <ip address=\"{}\" netmask=\"{}\">\n", q(net.gateway),
                                q(net.subnet->netmask()));
  out += "    <dhcp>\n";
  if (!net.dhcp_start.empty() && !net.dhcp_end.empty()) {
    out +=
        fmt::format("      <range start=\"{}\" end=\"{}\"/>\n", q(net.dhcp_start), q(net.dhcp_end));
  }
  out += dhcp_hosts(lab, net);
  out += "    </dhcp>\n  </ip>\n";
  return out;
}

// Isolated networks get no <forward> and no host address: the VMs share one bridge and reach
// each other with their static addresses, while the host has nothing to route with.
std::string network_body(const model::Lab& lab, const model::Network& net) {
  const std::string bridge = q(net.bridge);
  switch (net.kind) {
    case model::NetworkKind::nat:
      return "  <forward mode=\"nat\"/>\n" +
             fmt::format("  <bridge name=\"{}\" stp=\"on\" delay=\"0\"/>\n", bridge) +
             nat_ip(lab, net);
    case model::NetworkKind::isolated:
      return fmt::format("  <bridge name=\"{}\" stp=\"on\" delay=\"0\"/>\n", bridge);
    case model::NetworkKind::bridge:
      return "  <forward mode=\"bridge\"/>\n" + fmt::format("  <bridge name=\"{}\"/>\n", bridge);
    case model::NetworkKind::ovs:
      return "  <forward mode=\"bridge\"/>\n" + fmt::format("  <bridge name=\"{}\"/>\n", bridge) +
             "  <virtualport type=\"openvswitch\"/>\n" +
             (net.vlan == 0 ? std::string()
                            : fmt::format("  <vlan>\n    <tag id=\"{}\"/>\n  </vlan>\n", net.vlan));
  }
  return {};
}

std::string network_xml(const model::Lab& lab, const model::Network& net, const std::string& spec) {
  const Tag tag{lab.classroom, net.team, "network", spec, lab.identity};
  return "<network>\n" + fmt::format("  <name>{}</name>\n", q(net.name)) + metadata(tag) +
         network_body(lab, net) + "</network>\n";
}

}  // namespace

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

// The identity is left out while there is none, so that a tag reads as it did before.
std::string tag_attributes(const Tag& tag) {
  const std::string identity =
      tag.identity.empty() ? "" : fmt::format(" identity=\"{}\"", q(tag.identity));
  return fmt::format("classroom=\"{}\" team=\"{}\" role=\"{}\" spec=\"{}\"{}", q(tag.classroom),
                     q(tag.team), q(tag.role), q(tag.spec_hash), identity);
}

}  // namespace

std::string render_tag(const Tag& tag) {
  return fmt::format("<{0}:tag xmlns:{0}=\"{1}\" {2}/>", k_tag_prefix, k_tag_namespace,
                     tag_attributes(tag));
}

std::string render_metadata_element(const Tag& tag) {
  return "<tag " + tag_attributes(tag) + "/>";
}

std::string pool_path(std::string_view pool_root, std::string_view classroom) {
  std::string root(pool_root);
  while (root.size() > 1 && root.back() == '/') {
    root.pop_back();
  }
  return root + "/" + std::string(classroom);
}

// The tag carries model::network_spec_hash, which the planner compares. It leaves out the
// DHCP reservations on purpose: recreating a network to add one would cut the team's
// running VMs off it, and VMs take their addresses from cloud-init anyway.
std::string render_network(const model::Lab& lab, const model::Network& net) {
  return network_xml(lab, net, model::network_spec_hash(net));
}

std::string render_pool(const model::Lab& lab, std::string_view pool_root) {
  return "<pool type=\"dir\">\n" + fmt::format("  <name>{}</name>\n", q(lab.pool)) +
         "  <target>\n" +
         fmt::format("    <path>{}</path>\n", q(pool_path(pool_root, lab.classroom))) +
         "  </target>\n</pool>\n";
}

std::string to_string(VolumeFormat format) {
  return format == VolumeFormat::qcow2 ? "qcow2" : "raw";
}

std::string render_volume(std::string_view name, VolumeFormat format, model::Bytes capacity) {
  return "<volume>\n" + fmt::format("  <name>{}</name>\n", q(name)) +
         fmt::format("  <capacity unit=\"bytes\">{}</capacity>\n", capacity) +
         "  <allocation unit=\"bytes\">0</allocation>\n" +
         fmt::format("  <target>\n    <format type=\"{}\"/>\n  </target>\n", to_string(format)) +
         "</volume>\n";
}

std::string render_overlay(std::string_view name, model::Bytes capacity,
                           std::string_view backing_path, VolumeFormat backing_format) {
  return "<volume>\n" + fmt::format("  <name>{}</name>\n", q(name)) +
         fmt::format("  <capacity unit=\"bytes\">{}</capacity>\n", capacity) +
         "  <allocation unit=\"bytes\">0</allocation>\n" +  // thin: the overlay grows on use
         "  <target>\n    <format type=\"qcow2\"/>\n  </target>\n" + "  <backingStore>\n" +
         fmt::format("    <path>{}</path>\n", q(backing_path)) +
         fmt::format("    <format type=\"{}\"/>\n", to_string(backing_format)) +
         "  </backingStore>\n</volume>\n";
}

}  // namespace labctl::hv::libvirt

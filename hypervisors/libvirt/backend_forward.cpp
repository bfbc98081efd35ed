// LibvirtHypervisor: students' access, the host's forwarding of published endpoints
// (forward.hpp). Not libvirt's API: iptables on the machine labctl runs on.

#include "hypervisors/libvirt/backend.hpp"

namespace labctl::hv::libvirt {

Status LibvirtHypervisor::collect_forwards(const std::string& classroom,
                                           Inventory& inventory) const {
  if (m_forwarder == nullptr) {
    return {};
  }
  auto objects = m_forwarder->list(classroom);
  if (!objects) {
    return objects.error();
  }
  inventory.objects.insert(inventory.objects.end(), objects->begin(), objects->end());
  inventory.publishes = true;
  return {};
}

Status LibvirtHypervisor::publish(const model::Lab& lab, const std::string& team) {
  if (m_forwarder == nullptr) {
    return Hypervisor::publish(lab, team);
  }
  if (lab.find_team(team) == nullptr) {
    return Error::failure("team " + team + " is not in the lab file");
  }
  return m_forwarder->apply(forward_spec(lab, team, m_options.accept_chain));
}

Status LibvirtHypervisor::unpublish(const model::Lab& lab, const std::string& team) {
  if (m_forwarder == nullptr) {
    return Hypervisor::unpublish(lab, team);
  }
  return m_forwarder->remove(lab.classroom, team, lab.identity);
}

}  // namespace labctl::hv::libvirt

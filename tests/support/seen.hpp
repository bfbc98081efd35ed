#pragma once

// What a hypervisor was really asked for, per team, read back from what its backend
// produced and never from the model: for the cross-backend test (cross_backend_test.cpp).
// - libvirt: the domain and network XML libvirt holds (virDomainGetXMLDesc after define),
//   and the seed file that was uploaded into the volume a domain's cdrom names;
// - Hyper-V: recorded PowerShell scripts, parsed line by line (New-VM, Set-VMMemory,
//   Set-VMProcessor, Add-VMNetworkAdapter, New-VMSwitch, New-NetIPAddress, New-NetNat,
//   Copy-Item); a nat network is an Internal switch whose gateway lies inside the prefix of
//   the classroom's one NetNat, and the scripts must ask for no more than one NetNat.
// Seeds are read as NoCloud media (meta-data's hostname, network-config's ethernets).

#include <libvirt/libvirt.h>

#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "provision/model/lab.hpp"

namespace labctl::testing {

struct SeenNic {
  std::string mac;      // "02:d7:52:01:01:00"
  std::string network;  // the libvirt network / Hyper-V switch it is plugged into
  bool operator==(const SeenNic&) const = default;
};

// One ethernet of the seed's network-config.
struct SeedNic {
  std::string mac;
  std::string address;  // "10.146.0.11/24"; "" when the link is unaddressed
  std::string gateway;  // the default route's "via"
  std::vector<std::string> dns;
  bool operator==(const SeedNic&) const = default;
};

struct SeenVm {
  std::string name;
  model::Bytes memory_cap = 0;  // 0: no hard cap was asked for
  int vcpus = 0;
  bool started = false;
  std::vector<SeenNic> nics;  // in order
  std::string hostname;       // the seed's meta-data
  std::vector<SeedNic> seed;  // the seed's network-config
  bool operator==(const SeenVm&) const = default;
};

struct SeenNetwork {
  std::string name;
  std::string kind;     // "nat", "isolated"
  std::string address;  // the host's own address on it, "10.146.0.1/24"; "" when none
  bool operator==(const SeenNetwork&) const = default;
};

struct SeenTeam {
  std::vector<SeenNetwork> networks;
  std::vector<SeenVm> vms;
};
using Seen = std::map<std::string, SeenTeam>;  // by team

std::ostream& operator<<(std::ostream& out, const SeenNic& nic);
std::ostream& operator<<(std::ostream& out, const SeedNic& nic);
std::ostream& operator<<(std::ostream& out, const SeenVm& vm);
std::ostream& operator<<(std::ostream& out, const SeenNetwork& net);

// The classroom's tagged domains and networks on one libvirt connection, added to `seen`.
// `uploaded` gives the local file that was uploaded into a volume (by volume name).
void read_libvirt(virConnectPtr conn, const std::string& classroom,
                  const std::function<std::string(const std::string&)>& uploaded, Seen& seen);

// The networks and VMs that Hyper-V scripts create; seeds are read from the local files the
// upload-volume scripts copy.
Seen read_scripts(const std::vector<std::string>& scripts);

// VMs and networks of each team in name order, as both readers return them.
void sort_by_name(Seen& seen);

}  // namespace labctl::testing

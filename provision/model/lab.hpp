#pragma once

// The expanded, validated classroom: what every other module reads. Produced only by the
// loader (loader.hpp: load_lab, parse_lab) from a lab file; tests get theirs the same way, from
// inline lab files (tests/support/labs.hpp), and change fields of it where a case needs to.
// All names here are already validated against the safe charset (names.hpp) and all
// derived values (resource names, subnets, MACs, addresses, ports) are deterministic.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "provision/result.hpp"

namespace labctl::model {

using Bytes = std::uint64_t;
constexpr Bytes k_mib = 1024ULL * 1024ULL;
constexpr Bytes k_gib = 1024ULL * k_mib;

// Memory budget of a VM's stack: what the guest system keeps (kernel, init, sshd, cloud-init),
// what Docker keeps (dockerd, containerd, shims), each instance's application container and
// its database container (none for h2). Squash TM documents 1 GB as an instance's minimum;
// a lab may lower it (`squashtm: {memory:}`, an instance's `memory:`) down to
// k_min_instance_memory.
constexpr Bytes k_guest_reserve = 256 * k_mib;
constexpr Bytes k_docker_reserve = 128 * k_mib;
constexpr Bytes k_vm_os_reserve = k_guest_reserve + k_docker_reserve;
constexpr Bytes k_instance_memory = 1 * k_gib;
constexpr Bytes k_min_instance_memory = 512 * k_mib;
constexpr Bytes k_db_memory = 128 * k_mib;

enum class NetworkKind { nat, isolated, bridge, ovs };
enum class Accelerator { automatic, kvm, qemu };
enum class DockerSource { repository, distribution, preinstalled };
// Direct kernel boot; the disk's own boot loader (BIOS on libvirt); the disk's own EFI boot
// loader under UEFI firmware, Secure Boot off (built images: GPT, ESP with systemd-boot).
enum class BootMode { kernel, disk, efi };
enum class DbKind { postgresql, mariadb, h2 };
enum class EnvScheme { automatic, current, legacy };  // SQTM_DB_* vs 1.x linked-container vars

struct Host {
  std::string uri;    // libvirt URI or hyperv://
  Bytes reserve = 0;  // memory kept free for the host itself
  std::vector<std::string> labels;
};

struct Image {
  std::string name;               // cache key / base volume prefix, e.g. "debian-12-docker"
  std::string url;                // pull: qcow2/raw download URL (empty when built)
  std::string checksum_url;       // pull: SHA256SUMS / SHA512SUMS next to it (optional)
  std::string sha256;             // pull: pinned digest (optional)
  std::string build;              // build: recipe, "debian-12" (empty when pulled)
  std::vector<std::string> with;  // build: extras baked in, e.g. {"docker"}
  std::string mirror;             // build: Debian mirror URL
  BootMode boot = BootMode::kernel;
  std::string cmdline = "root=/dev/vda rw console=ttyS0";  // kernel boot only
};

// An IPv4 subnet in host byte order.
struct Subnet {
  std::uint32_t network = 0;
  int prefix = 24;

  std::string cidr() const;                    // "10.61.3.0/24"
  std::string address(std::uint32_t n) const;  // network + n, dotted
  std::string netmask() const;                 // "255.255.255.0"
  bool overlaps(const Subnet& other) const;
};

struct Network {
  std::string key;   // name in the lab file's team template: "lan"
  std::string name;  // resource name on the host: "cd26-team3-lan"
  std::string team;  // owning team
  NetworkKind kind = NetworkKind::nat;
  std::string bridge;                // nat/isolated/ovs: bridge device labctl names (<= 15 chars);
                                     // bridge: the existing host bridge, never created or deleted
  std::optional<Subnet> subnet;      // nat and isolated (and ovs when addressed)
  std::string gateway;               // nat: the host's address on it ("" for isolated)
  std::string dhcp_start, dhcp_end;  // nat only
  int vlan = 0;                      // ovs: this team's VLAN tag (0 = untagged)
};

struct Nic {
  std::string network;  // Network::name
  std::string key;      // Network::key
  std::string mac;      // "02:c4:1e:03:01:00", lower case
  std::string ip;       // static address ("" when the network has no subnet)
  bool dhcp = false;    // kind bridge without a subnet: the LAN's DHCP addresses it
  int prefix = 24;
  std::string gateway;  // default route through this NIC ("" if none)
  std::vector<std::string> dns;
};

struct Instance {
  std::string name;     // "main"; compose project "squash-<name>"
  std::string version;  // Squash TM version, "6.0.0"
  int port = 0;         // published on the VM: 8081, 8082, ...
  DbKind db = DbKind::postgresql;
  EnvScheme env = EnvScheme::automatic;
  std::string image;                 // repository, "squashtest/squash-tm"; the tag is the version
  Bytes memory = k_instance_memory;  // container memory limit (Java heap derived from it)
  // Where `version` is in the lab file, for errors found later (a tag the registry lacks);
  // line 0 for an instance added by `squash add`.
  ErrorSite version_site;
};

struct Vm {
  std::string key;   // "vm1"
  std::string name;  // domain name: "cd26-team3-vm1"
  std::string team;
  std::string hostname;  // guest host name: "team3-vm1"
  int index = 0;         // 1-based position in the team template
  Bytes memory = 0;      // hard cap (<memory>); never above Lab::memory_cap
  int vcpus = 1;
  Bytes disk = 0;           // overlay's virtual size
  std::string disk_volume;  // "cd26-team3-vm1.qcow2"
  std::string seed_volume;  // "cd26-team3-vm1-seed.iso"
  std::vector<Nic> nics;
  std::vector<Instance> instances;
  std::string spec_hash;  // changes iff the VM must be recreated (memory, vcpus, disk, NICs, ...)
};

struct Team {
  std::string name;  // "team3"
  int index = 0;     // 1-based
  std::string host;  // pinned host URI ("" = placed by labctl)
  std::vector<Network> networks;
  std::vector<Vm> vms;
};

struct DockerSettings {
  DockerSource source = DockerSource::repository;
  std::string registry_mirror;  // optional
  std::string apt_proxy;        // optional
};

// The host's classroom registry (provision/registry/): a pull-through cache of `upstream`
// on one host-only address, used by the VMs' Docker as its mirror (`registry:` in the lab
// file). An outside mirror (DockerSettings::registry_mirror) wins: then none is used.
struct RegistrySettings {
  bool enabled = true;
  std::string address = "10.255.255.1";
  int port = 5000;
  std::string upstream = "https://registry-1.docker.io";
};

// Students' access (`access:` in the lab file): the host address students use and the host
// ports that publish every instance (and, with ssh, every VM's port 22). Each site is where
// the value is in the lab file, for refusals found later by `plan` (ports in use, another
// classroom's range, an address the host lacks); line 0 when the key is absent.
struct AccessSettings {
  bool enabled = false;            // `access:` is given
  std::string host;                // what students type: "lab-server.school.lan"
  std::string listen = "0.0.0.0";  // host address the ports listen on
  int first_port = 20000;          // `ports: 20000-29999`
  int last_port = 29999;
  bool ssh = false;  // also publish every VM's SSH
  ErrorSite listen_site;
  ErrorSite ports_site;
};

// How long a VM may take to reach each readiness stage after the one before it
// (`timeouts:` in the lab file). The defaults fit a slow classroom link.
struct StageTimeouts {
  std::chrono::seconds running{60};
  std::chrono::seconds address{300};
  std::chrono::seconds ssh{300};
  std::chrono::seconds cloud_init{1200};  // Docker installed from apt at boot, on a slow link
  std::chrono::seconds docker{300};
  std::chrono::seconds stack{900};  // a first Squash TM start creates its schema
};

struct Lab {
  std::string file;       // path the lab was loaded from
  std::string classroom;  // "cd26": prefix of every resource name, part of every tag
  // Not from the file: the classroom's identity (128 random bits, hex) that the CLI reads
  // from its state directory and that every tag carries; "" = none made yet.
  std::string identity;
  std::string title;        // free text for hand-outs
  std::vector<Host> hosts;  // empty: the default URI
  Image image;
  Accelerator accelerator = Accelerator::automatic;
  Bytes memory_cap = 2 * k_gib;  // no VM may exceed it
  std::string admin_user = "student";
  Subnet subnet_pool;       // where pool-addressed subnets are cut from: `subnets:` or default
  std::string pool;         // storage pool name: "<classroom>-pool"
  std::string base_volume;  // "<classroom>-base.qcow2"
  std::string base_kernel;  // "<classroom>-base-vmlinuz" (kernel boot only)
  std::string base_initrd;  // "<classroom>-base-initrd.img" (kernel boot only)
  DockerSettings docker;
  RegistrySettings registry;
  std::string squash_image = "squashtest/squash-tm";
  Bytes instance_memory = k_instance_memory;  // `squashtm.memory`: each instance's default
  bool squash_proxy = false;     // `squashtm.proxy`: reverse proxy by host name on every VM
  bool squash_autoheal = false;  // `squashtm.autoheal`: opt-in, needs the Docker socket
  StageTimeouts timeouts;
  AccessSettings access;
  std::vector<Team> teams;

  const Team* find_team(const std::string& name) const;
};

// The VMs' Docker pulls through the classroom registry: it is enabled and no outside mirror
// is set. (`up` starts it only when some VM also runs Squash TM instances.)
bool uses_classroom_registry(const Lab& lab);

// Memory the VM's stack needs: k_vm_os_reserve + every instance and its database.
Bytes stack_footprint(const std::vector<Instance>& instances);
// The same, item by item, for refusals: "256MiB guest + 128MiB Docker + 1GiB main + 128MiB
// main's database = 1536MiB".
std::string explain_footprint(const std::vector<Instance>& instances);

// Hash of what defines a network on the host (kind, bridge, addressing); kept in its tag so
// that a changed network is recreated. 12 hex characters.
std::string network_spec_hash(const Network& net);

std::string to_string(NetworkKind kind);
std::string to_string(Accelerator accel);
std::string to_string(DockerSource source);
std::string to_string(BootMode mode);
std::string to_string(DbKind db);
std::string to_string(EnvScheme scheme);

}  // namespace labctl::model

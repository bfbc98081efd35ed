#pragma once

// The interface every backend implements (libvirt, Hyper-V). The core (plan, apply, ready,
// cli) talks to hosts only through it; no `if backend == ...` outside hypervisors/: ask
// capabilities(). Every object a backend creates carries a Tag; inventory() lists the
// objects tagged with the given classroom, and apart from them the names held by anything
// else (the planner's conflicts); the delete_* calls refuse untagged objects.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "provision/model/lab.hpp"
#include "provision/result.hpp"

namespace labctl::hv {

// forward: one team's published endpoints as the host forwards them (libvirt: iptables rules
// carrying the classroom's identity in their comment; named "<classroom>-<team>-access").
enum class ObjectKind { network, pool, volume, domain, forward };
enum class PowerState { off, running, paused, other };

std::string to_string(ObjectKind kind);
std::string to_string(PowerState state);

// Ownership metadata. libvirt: <metadata><labctl:tag .../></metadata> on networks and
// domains; pools are recognised by their target path, volumes by living in a labctl pool.
// Hyper-V: the VM's Notes, the switch's Notes.
struct Tag {
  std::string classroom;
  std::string team;       // "" for classroom-wide objects (pool, base image volumes)
  std::string role;       // "network", "pool", "base", "disk", "seed", "domain"
  std::string spec_hash;  // domains: model::Vm::spec_hash; networks: hash of their XML inputs
  // The classroom's identity (model::Lab::identity): two lab files with the same classroom
  // name have different ones. "" on tags written before identities, and on pools and volumes,
  // which are the classroom's by path.
  std::string identity;
};

struct Object {
  ObjectKind kind = ObjectKind::domain;
  std::string name;
  Tag tag;
  PowerState state = PowerState::off;  // domains; networks and pools: running = active
  model::Bytes memory = 0;             // domains: the <memory> cap
  int vcpus = 0;                       // domains
  std::string pool;                    // volumes: their pool
  std::string cidr;                    // networks with an address
  std::string bridge;                  // networks: the bridge device they use ("" unknown)
};

struct Inventory {
  std::string host;  // the URI it was read from
  std::vector<Object> objects;
  // Objects on the host that are not this classroom's, names only: untagged (tag.classroom
  // "") or another classroom's. The planner reports those whose names it needs as conflicts.
  std::vector<Object> others;
  // What a bridge (or ovs) network can join, and what a created network's bridge must not
  // be named: libvirt, the host's network interfaces; Hyper-V, its External switches.
  // nullopt when the backend cannot list them (then nothing is checked).
  std::optional<std::vector<std::string>> devices;
  // The backend forwards published endpoints (`access:`) on this host and listed its
  // forwarding objects above; false: it cannot, and the planner plans none.
  bool publishes = false;

  const Object* find(ObjectKind kind, std::string_view name) const;
};

struct Capabilities {
  std::string scheme;              // "qemu", "test", "hyperv", ...
  bool dhcp_reservations = false;  // NAT network hands out the static addresses by DHCP too
  bool kvm = false;                // hardware acceleration works (probed, not assumed)
  // Host-wide NATs a host can hold; 0 = one per nat network, unlimited (libvirt). Hyper-V:
  // 1, a NetNat that the classroom's nat networks on that host share (model::nat_prefix).
  // Derived from the backend's limits (model::max_nat_networks of BackendLimits::shared_nat).
  int max_nat_networks = 0;
  bool remote = false;   // the host is not this machine
  bool publish = false;  // publish() and unpublish() work here (students' access)
};

struct HostInfo {
  std::string hostname;
  model::Bytes memory_total = 0;
  model::Bytes memory_free = 0;
  int cpus = 0;
};

// A network that exists on the host, whoever owns it: used to refuse a subnet that
// overlaps one already in use.
struct HostNetwork {
  std::string name;
  std::string cidr;       // "" when it has no IPv4 address
  std::string classroom;  // "" when not labctl's
  bool nat = false;       // a host-wide NAT (Hyper-V: a NetNat; cidr = its inside prefix)
};

struct DomainRequest {
  const model::Lab* lab = nullptr;
  const model::Vm* vm = nullptr;
  std::string accelerator;  // "kvm" or "qemu" (already probed)
  std::string serial_log;   // file on the host that receives the serial console
};

enum class VolumeFormat { qcow2, raw };

class Hypervisor {
 public:
  virtual ~Hypervisor() = default;

  virtual std::string uri() const = 0;
  virtual Capabilities capabilities() = 0;
  virtual Result<HostInfo> host_info() = 0;
  virtual Result<Inventory> inventory(const std::string& classroom) = 0;
  virtual Result<std::vector<HostNetwork>> host_networks() = 0;

  virtual Status create_network(const model::Lab& lab, const model::Network& net) = 0;
  virtual Status delete_network(const std::string& classroom, const std::string& name) = 0;

  virtual Status create_pool(const model::Lab& lab) = 0;
  virtual Status delete_pool(const std::string& classroom, const std::string& name) = 0;
  // Uploads a local file as a volume (base image, kernel, initrd, seed ISO).
  virtual Status upload_volume(const std::string& pool, const std::string& name,
                               const std::string& local_file, VolumeFormat format) = 0;
  // A qcow2 overlay whose backing file is `backing` in the same pool (a linked clone).
  virtual Status create_overlay(const std::string& pool, const std::string& name,
                                const std::string& backing, model::Bytes capacity) = 0;
  virtual Status delete_volume(const std::string& pool, const std::string& name) = 0;
  virtual Result<std::string> volume_path(const std::string& pool, const std::string& name) = 0;

  virtual Status create_domain(const DomainRequest& request) = 0;
  // The lab: what the host needs around a start (Hyper-V: the route to the classroom
  // registry, which a Windows reboot or `wsl --shutdown` drops).
  virtual Status start_domain(const model::Lab& lab, const std::string& name) = 0;
  virtual Status stop_domain(const std::string& name) = 0;  // hard power-off
  virtual Status delete_domain(const std::string& classroom, const std::string& name) = 0;
  virtual Result<PowerState> domain_state(const std::string& name) = 0;

  // `--adopt`: rewrites the tag of one of the classroom's domains or networks (an Object of
  // inventory()) with this identity, keeping the rest of its tag. Nothing else changes.
  virtual Status retag(const Object& object, const std::string& identity) = 0;

  // Students' access: makes the host forward exactly the team's endpoints
  // (model::endpoints(lab, team)), owned by the classroom and its identity, replacing what of
  // the team's forwarding is there; unpublish removes it. Never touches what carries another
  // classroom or identity. Backends that cannot (capabilities().publish false) refuse.
  virtual Status publish(const model::Lab& lab, const std::string& team);
  virtual Status unpublish(const model::Lab& lab, const std::string& team);
};

// The name of a team's forwarding object: "<classroom>-<team>-access".
std::string forward_name(const std::string& classroom, const std::string& team);

// Chooses the backend by the URI's scheme: hyperv:// -> Hyper-V, anything else -> libvirt.
Result<std::unique_ptr<Hypervisor>> open_hypervisor(const std::string& uri);

// What the host must provide before these teams can run there, checked on this machine
// without connecting, so that `validate` and `up` can say what to fix before anything is
// created: under qemu:///session, qemu-bridge-helper's /etc/qemu/bridge.conf must allow
// every host bridge the teams join.
Status check_host_setup(const std::string& uri, const std::vector<const model::Team*>& teams);

// A backend that changes nothing and records the scripts it would run, for backends whose
// actions are scripts (Hyper-V: `plan` and `up --dry-run` print the exact PowerShell).
// Backends driven through an API (libvirt) have no such form: an Error says so.
struct ScriptedDryRun {
  std::unique_ptr<Hypervisor> hypervisor;
  std::function<std::vector<std::string>()> scripts;  // recorded so far, in order
};
Result<ScriptedDryRun> open_dry_run(const std::string& uri);

}  // namespace labctl::hv

#pragma once

// Students' access on a libvirt host: a team's published endpoints (model::endpoints) as
// kernel forwarding, in iptables rules (the tool libvirt 9.0 itself uses on Debian 12, see
// ARCHITECTURE.md):
//   nat PREROUTING   DNAT listen:port -> VM:target    (traffic from the students' network)
//   nat OUTPUT       the same for connections made on the host itself
//   filter LIBVIRT_FWI  ACCEPT the DNATed connection to the VM (ctstate DNAT), inserted ahead
//                    of the REJECT that libvirt puts there for inbound traffic to NAT networks
// Every rule carries the comment "labctl:<classroom>:<team>:<identity>:<spec hash>": that is
// how a rule is known as the classroom's; no other rule is ever deleted. Rendering and
// reading back are pure; Forwarder runs iptables through a ProcessRunner.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hypervisors/hypervisor.hpp"
#include "provision/model/access.hpp"
#include "provision/sys/process.hpp"

namespace labctl::hv::libvirt {

constexpr std::string_view k_libvirt_accept_chain = "LIBVIRT_FWI";

// One rule: its table, its chain and the match and target arguments after the chain.
struct Rule {
  std::string table;  // "nat" or "filter"
  std::string chain;
  std::vector<std::string> args;
  bool operator==(const Rule&) const = default;
};

// Whose a rule is, from its comment.
struct RuleOwner {
  std::string classroom;
  std::string team;
  std::string identity;
  std::string spec_hash;
  bool operator==(const RuleOwner&) const = default;
};

struct ForwardTarget {
  model::Endpoint endpoint;
  std::string bridge;  // the bridge device of the VM's nat network
};

// What one team's forwarding is made of.
struct ForwardSpec {
  RuleOwner owner;
  std::string accept_chain = std::string(k_libvirt_accept_chain);
  std::vector<ForwardTarget> targets;
};

std::string rule_comment(const RuleOwner& owner);
std::optional<RuleOwner> parse_rule_comment(std::string_view comment);

// The team's forwarding as the model asks for it (identity "" is written as "none").
ForwardSpec forward_spec(const model::Lab& lab, const std::string& team,
                         std::string_view accept_chain = k_libvirt_accept_chain);
// The rules, in the order they are added (each accept before the DNAT that leads to it).
std::vector<Rule> render_forward(const ForwardSpec& spec);
// The iptables command adding `rule` (accept rules are inserted first in their chain).
std::vector<std::string> add_command(const Rule& rule);

// A rule of `iptables -t TABLE -S CHAIN` output, with its owner when it is labctl's.
struct ListedRule {
  Rule rule;
  std::optional<RuleOwner> owner;
};
std::vector<ListedRule> parse_listing(const std::string& table, std::string_view text);

// One team's forwarding as read back: an Object of kind forward per (classroom, team,
// identity), running when every DNAT has its accept rule and no REJECT of the bridge comes
// first (after a libvirtd restart, libvirt's re-added rules are ahead of ours).
std::vector<Object> forward_objects(const std::string& classroom,
                                    const std::vector<ListedRule>& rules);

class Forwarder {
 public:
  explicit Forwarder(sys::ProcessRunner& runner,
                     std::string accept_chain = std::string(k_libvirt_accept_chain))
      : m_runner(runner), m_accept_chain(std::move(accept_chain)) {}

  // The classroom's forwarding objects, every identity's (the caller tells ours apart).
  Result<std::vector<Object>> list(const std::string& classroom);
  // Replaces the team's rules (of this owner's identity) with the spec's.
  Status apply(const ForwardSpec& spec);
  // Deletes every rule of the team that carries this classroom and identity, nothing else.
  Status remove(const std::string& classroom, const std::string& team, const std::string& identity);

 private:
  Result<std::vector<ListedRule>> read_all();
  Result<std::vector<ListedRule>> read_chain(const std::string& table, const std::string& chain);

  sys::ProcessRunner& m_runner;
  std::string m_accept_chain;
};

}  // namespace labctl::hv::libvirt

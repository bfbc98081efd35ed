#include "hypervisors/libvirt/forward.hpp"

#include <algorithm>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "provision/model/addressing.hpp"

namespace labctl::hv::libvirt {

namespace {

constexpr std::string_view k_comment_prefix = "labctl:";

// Matches the published address: one address, or every local one for 0.0.0.0.
std::vector<std::string> listen_args(const model::Endpoint& e) {
  if (e.listen == "0.0.0.0") {
    return {"-m", "addrtype", "--dst-type", "LOCAL"};
  }
  return {"-d", e.listen + "/32"};
}

Rule dnat(const std::string& chain, const model::Endpoint& e, const std::string& comment) {
  std::vector<std::string> args = {"-p", "tcp"};
  const auto listen = listen_args(e);
  args.insert(args.end(), listen.begin(), listen.end());
  const std::vector<std::string> rest = {
      "-m", "tcp",     "--dport",          std::to_string(e.port),
      "-m", "comment", "--comment",        comment,
      "-j", "DNAT",    "--to-destination", fmt::format("{}:{}", e.target_ip, e.target_port)};
  args.insert(args.end(), rest.begin(), rest.end());
  return {"nat", chain, args};
}

Rule accept(const std::string& chain, const ForwardTarget& t, const std::string& comment) {
  const model::Endpoint& e = t.endpoint;
  return {"filter", chain, {"-d",        e.target_ip + "/32",
                            "-o",        t.bridge,
                            "-p",        "tcp",
                            "-m",        "tcp",
                            "--dport",   std::to_string(e.target_port),
                            "-m",        "conntrack",
                            "--ctstate", "DNAT",
                            "-m",        "comment",
                            "--comment", comment,
                            "-j",        "ACCEPT"}};
}

// Splits an `iptables -S` line; double-quoted words (comments) lose their quotes.
std::vector<std::string> words_of(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  bool quoted = false;
  bool any = false;
  for (const char c : line) {
    if (c == '"') {
      quoted = !quoted;
      any = true;
    } else if (c == ' ' && !quoted) {
      if (any) {
        words.push_back(word);
      }
      word.clear();
      any = false;
    } else {
      word += c;
      any = true;
    }
  }
  if (any) {
    words.push_back(word);
  }
  return words;
}

std::string value_after(const std::vector<std::string>& args, std::string_view flag) {
  const auto it = std::find(args.begin(), args.end(), flag);
  return it != args.end() && it + 1 != args.end() ? *(it + 1) : std::string();
}

// An accept rule of ours is shadowed when a REJECT for its bridge (or for every interface)
// comes before it in its chain.
bool shadowed(const std::vector<ListedRule>& rules, std::size_t index) {
  const Rule& mine = rules[index].rule;
  const std::string bridge = value_after(mine.args, "-o");
  for (std::size_t i = 0; i < index; ++i) {
    if (rules[i].rule.table != mine.table || rules[i].rule.chain != mine.chain) {
      continue;
    }
    const auto& args = rules[i].rule.args;
    const std::string out = value_after(args, "-o");
    if (value_after(args, "-j") == "REJECT" && (out.empty() || out == bridge)) {
      return true;
    }
  }
  return false;
}

// The bridge of the nat network that holds the endpoint's target address.
std::string bridge_of(const model::Team& team, const model::Endpoint& e) {
  const auto target = model::parse_cidr(e.target_ip + "/32");
  for (const model::Network& net : team.networks) {
    if (target && net.subnet && net.kind == model::NetworkKind::nat &&
        net.subnet->overlaps(*target)) {
      return net.bridge;
    }
  }
  return {};
}

struct Tally {
  Object object;
  int dnat = 0;
  int output = 0;
  int accept = 0;
  bool shadowed = false;
};

}  // namespace

std::string rule_comment(const RuleOwner& owner) {
  return fmt::format("{}{}:{}:{}:{}", k_comment_prefix, owner.classroom, owner.team,
                     owner.identity.empty() ? "none" : owner.identity, owner.spec_hash);
}

std::optional<RuleOwner> parse_rule_comment(std::string_view comment) {
  if (!comment.starts_with(k_comment_prefix)) {
    return std::nullopt;
  }
  std::vector<std::string> parts;
  std::istringstream in{std::string(comment.substr(k_comment_prefix.size()))};
  for (std::string part; std::getline(in, part, ':');) {
    parts.push_back(part);
  }
  if (parts.size() != 4 ||
      std::any_of(parts.begin(), parts.end(), [](const std::string& p) { return p.empty(); })) {
    return std::nullopt;
  }
  return RuleOwner{parts[0], parts[1], parts[2] == "none" ? "" : parts[2], parts[3]};
}

ForwardSpec forward_spec(const model::Lab& lab, const std::string& team,
                         std::string_view accept_chain) {
  ForwardSpec spec;
  spec.accept_chain = std::string(accept_chain);
  const auto endpoints = model::forwarded_endpoints(lab, team);
  spec.owner = {lab.classroom, team, lab.identity, model::endpoints_hash(endpoints)};
  const model::Team* found = lab.find_team(team);
  for (const model::Endpoint& e : endpoints) {
    spec.targets.push_back({e, bridge_of(*found, e)});
  }
  return spec;
}

std::vector<Rule> render_forward(const ForwardSpec& spec) {
  const std::string comment = rule_comment(spec.owner);
  std::vector<Rule> rules;
  for (const ForwardTarget& t : spec.targets) {
    rules.push_back(accept(spec.accept_chain, t, comment));
    rules.push_back(dnat("PREROUTING", t.endpoint, comment));
    rules.push_back(dnat("OUTPUT", t.endpoint, comment));
  }
  return rules;
}

std::vector<std::string> add_command(const Rule& rule) {
  std::vector<std::string> argv = {"iptables", "-w", "-t", rule.table};
  if (rule.table == "filter") {
    argv.insert(argv.end(), {"-I", rule.chain, "1"});
  } else {
    argv.insert(argv.end(), {"-A", rule.chain});
  }
  argv.insert(argv.end(), rule.args.begin(), rule.args.end());
  return argv;
}

std::vector<ListedRule> parse_listing(const std::string& table, std::string_view text) {
  std::vector<ListedRule> out;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> words = words_of(line);
    if (words.size() < 2 || words[0] != "-A") {
      continue;  // -P policy, -N chain
    }
    ListedRule listed{{table, words[1], {words.begin() + 2, words.end()}}, std::nullopt};
    listed.owner = parse_rule_comment(value_after(listed.rule.args, "--comment"));
    out.push_back(std::move(listed));
  }
  return out;
}

std::vector<Object> forward_objects(const std::string& classroom,
                                    const std::vector<ListedRule>& rules) {
  std::map<std::pair<std::string, std::string>, Tally> by_owner;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const ListedRule& listed = rules[i];
    if (!listed.owner || listed.owner->classroom != classroom) {
      continue;
    }
    const RuleOwner& owner = *listed.owner;
    Tally& tally = by_owner[{owner.team, owner.identity}];
    tally.object.kind = ObjectKind::forward;
    tally.object.name = forward_name(classroom, owner.team);
    tally.object.tag = Tag{classroom, owner.team, "forward", owner.spec_hash, owner.identity};
    if (listed.rule.chain == "PREROUTING") {
      ++tally.dnat;
    } else if (listed.rule.chain == "OUTPUT") {
      ++tally.output;
    } else {
      ++tally.accept;
      tally.shadowed = tally.shadowed || shadowed(rules, i);
    }
  }
  std::vector<Object> out;
  for (auto& [key, tally] : by_owner) {
    const bool complete = tally.dnat == tally.accept && tally.output == tally.dnat;
    tally.object.state = complete && !tally.shadowed ? PowerState::running : PowerState::off;
    out.push_back(tally.object);
  }
  return out;
}

Result<std::vector<ListedRule>> Forwarder::read_chain(const std::string& table,
                                                      const std::string& chain) {
  auto listed = m_runner.run({"iptables", "-w", "-t", table, "-S", chain});
  if (!listed) {
    return listed.error();
  }
  if (listed->exit_code != 0) {
    // No such chain ("No chain/target/match by that name", or iptables-nft's "incompatible"
    // for a chain that is not there): nothing of ours in it.
    return std::vector<ListedRule>{};
  }
  return parse_listing(table, listed->out);
}

Result<std::vector<ListedRule>> Forwarder::read_all() {
  std::vector<ListedRule> all;
  for (const auto& [table, chain] : {std::pair<std::string, std::string>{"filter", m_accept_chain},
                                     {"nat", "PREROUTING"},
                                     {"nat", "OUTPUT"}}) {
    auto rules = read_chain(table, chain);
    if (!rules) {
      return rules.error();
    }
    all.insert(all.end(), rules->begin(), rules->end());
  }
  return all;
}

Result<std::vector<Object>> Forwarder::list(const std::string& classroom) {
  auto rules = read_all();
  if (!rules) {
    return rules.error();
  }
  return forward_objects(classroom, *rules);
}

Status Forwarder::remove(const std::string& classroom, const std::string& team,
                         const std::string& identity) {
  auto rules = read_all();
  if (!rules) {
    return rules.error();
  }
  for (const ListedRule& listed : *rules) {
    const auto& owner = listed.owner;
    if (!owner || owner->classroom != classroom || owner->team != team ||
        owner->identity != identity) {
      continue;
    }
    std::vector<std::string> argv = {"iptables",        "-w", "-t",
                                     listed.rule.table, "-D", listed.rule.chain};
    argv.insert(argv.end(), listed.rule.args.begin(), listed.rule.args.end());
    if (auto done = sys::run_checked(m_runner, argv); !done) {
      return done.error();
    }
  }
  return {};
}

Status Forwarder::apply(const ForwardSpec& spec) {
  if (auto st = remove(spec.owner.classroom, spec.owner.team, spec.owner.identity); !st) {
    return st;
  }
  if (spec.targets.empty()) {
    return {};
  }
  auto chain = m_runner.run({"iptables", "-w", "-t", "filter", "-S", m_accept_chain});
  if (!chain || chain->exit_code != 0) {
    return Error::failure(fmt::format(
        "iptables chain {} is missing: libvirt makes it when a NAT network starts (is the "
        "team's network active, and libvirtd running?)",
        m_accept_chain));
  }
  for (const Rule& rule : render_forward(spec)) {
    if (auto done = sys::run_checked(m_runner, add_command(rule)); !done) {
      return done.error();
    }
  }
  return {};
}

}  // namespace labctl::hv::libvirt

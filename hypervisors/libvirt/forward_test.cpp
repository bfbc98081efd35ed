#include "hypervisors/libvirt/forward.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <catch2/catch.hpp>

#include "tests/support/labs.hpp"

using namespace labctl;
using hv::libvirt::forward_spec;
using hv::libvirt::Forwarder;
using hv::libvirt::render_forward;
using hv::libvirt::RuleOwner;

namespace {

// iptables in memory: -S, -A, -I CHAIN 1, -D (by the exact arguments), -N. Records every
// command. Rules are kept as iptables prints them (comments quoted).
class FakeIptables : public sys::ProcessRunner {
 public:
  using ProcessRunner::run;
  std::map<std::string, std::vector<std::string>> chains{
      {"nat/PREROUTING", {}}, {"nat/OUTPUT", {}}, {"filter/LIBVIRT_FWI", {}}};
  std::vector<std::string> commands;

  Result<sys::ProcessResult> run(const std::vector<std::string>& argv,
                                 const sys::ProcessOptions&) override {
    commands.push_back(fmt::format("{}", fmt::join(argv, " ")));
    const std::string key = argv[3] + "/" + argv[5];
    const std::string op = argv[4];
    if (op == "-N") {
      chains[key];
      return sys::ProcessResult{};
    }
    const auto chain = chains.find(key);
    if (chain == chains.end()) {
      return sys::ProcessResult{1, "", "iptables: No chain/target/match by that name.\n"};
    }
    const bool insert = op == "-I";
    std::string text = printed(argv, insert ? 7 : 6);
    auto& rules = chain->second;
    if (op == "-S") {
      std::string out = "-N " + argv[5] + "\n";
      for (const std::string& rule : rules) {
        out += "-A " + argv[5] + " " + rule + "\n";
      }
      return sys::ProcessResult{0, out, ""};
    }
    if (op == "-D") {
      const auto found = std::find(rules.begin(), rules.end(), text);
      if (found == rules.end()) {
        return sys::ProcessResult{1, "", "iptables: Bad rule.\n"};
      }
      rules.erase(found);
    } else {
      rules.insert(insert ? rules.begin() : rules.end(), text);
    }
    return sys::ProcessResult{};
  }

 private:
  static std::string printed(const std::vector<std::string>& argv, std::size_t from) {
    std::string out;
    for (std::size_t i = from; i < argv.size(); ++i) {
      const bool comment = i > 0 && argv[i - 1] == "--comment";
      out += (out.empty() ? "" : " ") + (comment ? "\"" + argv[i] + "\"" : argv[i]);
    }
    return out;
  }
};

model::Lab published_lab() {
  model::Lab lab = testing::small_lab("lct", 2, 2);
  lab.identity = "0123abcd";
  lab.access.enabled = true;
  lab.access.host = "lab.school.lan";
  lab.access.ssh = true;
  return lab;
}

}  // namespace

TEST_CASE("forwarding rules: rendered from the team's endpoints", "[unit][libvirt]") {
  const model::Lab lab = published_lab();
  const auto spec = forward_spec(lab, "team2");
  // Per VM its SSH and all nine instance slots (8081..8089), used or not: 2 VMs x 10.
  REQUIRE(spec.targets.size() == 20);
  CHECK(spec.targets[0].bridge == "lct-team2-lan");
  CHECK(spec.targets[0].endpoint.target_port == 22);
  CHECK(spec.targets[1].endpoint.target_port == 8081);
  CHECK(spec.targets[9].endpoint.target_port == 8089);
  CHECK(spec.targets[10].endpoint.vm == "vm2");
  const auto rules = render_forward(spec);
  REQUIRE(rules.size() == 60);
  const std::string comment = "labctl:lct:team2:0123abcd:" + spec.owner.spec_hash;
  CHECK(hv::libvirt::add_command(rules[0]) == std::vector<std::string>{"iptables",
                                                                       "-w",
                                                                       "-t",
                                                                       "filter",
                                                                       "-I",
                                                                       "LIBVIRT_FWI",
                                                                       "1",
                                                                       "-d",
                                                                       "10.99.2.11/32",
                                                                       "-o",
                                                                       "lct-team2-lan",
                                                                       "-p",
                                                                       "tcp",
                                                                       "-m",
                                                                       "tcp",
                                                                       "--dport",
                                                                       "22",
                                                                       "-m",
                                                                       "conntrack",
                                                                       "--ctstate",
                                                                       "DNAT",
                                                                       "-m",
                                                                       "comment",
                                                                       "--comment",
                                                                       comment,
                                                                       "-j",
                                                                       "ACCEPT"});
  CHECK(hv::libvirt::add_command(rules[1]) == std::vector<std::string>{"iptables",
                                                                       "-w",
                                                                       "-t",
                                                                       "nat",
                                                                       "-A",
                                                                       "PREROUTING",
                                                                       "-p",
                                                                       "tcp",
                                                                       "-m",
                                                                       "addrtype",
                                                                       "--dst-type",
                                                                       "LOCAL",
                                                                       "-m",
                                                                       "tcp",
                                                                       "--dport",
                                                                       "20201",
                                                                       "-m",
                                                                       "comment",
                                                                       "--comment",
                                                                       comment,
                                                                       "-j",
                                                                       "DNAT",
                                                                       "--to-destination",
                                                                       "10.99.2.11:22"});
  CHECK(rules[2].chain == "OUTPUT");
  SECTION("one listen address instead of every local one") {
    model::Lab one = lab;
    one.access.listen = "192.0.2.7";
    const auto listed = render_forward(forward_spec(one, "team2"));
    CHECK(listed[1].args[2] == "-d");
    CHECK(listed[1].args[3] == "192.0.2.7/32");
  }
  SECTION("comments round-trip; anything else is nobody's") {
    const RuleOwner owner{"lct", "team2", "", "abc"};
    CHECK(hv::libvirt::rule_comment(owner) == "labctl:lct:team2:none:abc");
    CHECK(hv::libvirt::parse_rule_comment("labctl:lct:team2:none:abc") == owner);
    CHECK_FALSE(hv::libvirt::parse_rule_comment("labctl:lct:team2:abc"));
    CHECK_FALSE(hv::libvirt::parse_rule_comment("labctlx:lct:team2:none:abc"));
    CHECK_FALSE(hv::libvirt::parse_rule_comment("x y"));
  }
}

TEST_CASE("forwarding rules: created, read back, repaired and removed by owner",
          "[unit][libvirt]") {
  const model::Lab lab = published_lab();
  FakeIptables iptables;
  // Someone else's rules, one of them named like labctl's (another identity), and libvirt's
  // REJECT for the team's bridge.
  const std::string foreign =
      "-p tcp -m tcp --dport 9 -m comment --comment "
      "\"labctl:lct:team2:ffff:1\" -j DNAT --to-destination 10.0.0.9:9";
  iptables.chains["nat/PREROUTING"].push_back(foreign);
  iptables.chains["nat/PREROUTING"].push_back("-p tcp -m tcp --dport 8 -j ACCEPT");
  iptables.chains["filter/LIBVIRT_FWI"].push_back(
      "-o lct-team2-lan -j REJECT --reject-with icmp-port-unreachable");
  Forwarder forwarder(iptables);
  const auto spec = forward_spec(lab, "team2");
  REQUIRE(forwarder.apply(spec).ok());
  auto listed = forwarder.list("lct");
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 2);  // ours and the foreign identity's
  const auto ours = std::find_if(listed->begin(), listed->end(),
                                 [](const hv::Object& o) { return o.tag.identity == "0123abcd"; });
  REQUIRE(ours != listed->end());
  CHECK(ours->name == "lct-team2-access");
  CHECK(ours->kind == hv::ObjectKind::forward);
  CHECK(ours->state == hv::PowerState::running);
  CHECK(ours->tag.spec_hash == spec.owner.spec_hash);
  CHECK(iptables.chains["filter/LIBVIRT_FWI"].size() == 21);
  CHECK(iptables.chains["filter/LIBVIRT_FWI"].back().find("REJECT") != std::string::npos);

  SECTION("libvirt's rules re-added ahead of ours shadow them: not running") {
    auto& fwi = iptables.chains["filter/LIBVIRT_FWI"];
    fwi.insert(fwi.begin(), "-o lct-team2-lan -j REJECT --reject-with icmp-port-unreachable");
    const auto again = forwarder.list("lct");
    REQUIRE(again.ok());
    for (const hv::Object& o : *again) {
      CHECK((o.tag.identity != "0123abcd" || o.state == hv::PowerState::off));
    }
    REQUIRE(forwarder.apply(spec).ok());  // repaired: ours first again
    CHECK(fwi.front().find("ACCEPT") != std::string::npos);
  }
  SECTION("a flushed accept chain (libvirtd restarted) makes it incomplete") {
    iptables.chains["filter/LIBVIRT_FWI"].clear();
    const auto again = forwarder.list("lct");
    REQUIRE(again.ok());
    CHECK(std::any_of(again->begin(), again->end(), [](const hv::Object& o) {
      return o.tag.identity == "0123abcd" && o.state == hv::PowerState::off;
    }));
  }
  SECTION("remove deletes ours only") {
    REQUIRE(forwarder.remove("lct", "team2", "0123abcd").ok());
    CHECK(iptables.chains["nat/PREROUTING"] ==
          std::vector<std::string>{foreign, "-p tcp -m tcp --dport 8 -j ACCEPT"});
    CHECK(iptables.chains["nat/OUTPUT"].empty());
    CHECK(iptables.chains["filter/LIBVIRT_FWI"].size() == 1);
  }
  SECTION("apply twice leaves one set") {
    REQUIRE(forwarder.apply(spec).ok());
    CHECK(iptables.chains["nat/PREROUTING"].size() == 22);
  }
}

TEST_CASE("forwarding rules: a missing libvirt chain is an error that says why",
          "[unit][libvirt]") {
  FakeIptables iptables;
  iptables.chains.erase("filter/LIBVIRT_FWI");
  Forwarder forwarder(iptables);
  const auto st = forwarder.apply(forward_spec(published_lab(), "team1"));
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message.starts_with("iptables chain LIBVIRT_FWI is missing"));
  CHECK(iptables.chains["nat/PREROUTING"].empty());
}

#include "provision/converge/guest_ssh.hpp"

#include <catch2/catch.hpp>

#include "tests/support/env.hpp"
#include "tests/support/golden.hpp"
#include "tests/support/labs.hpp"

using namespace labctl;

TEST_CASE("labctl's SSH to a VM needs the keys `up` made", "[unit]") {
  testing::ScratchDir scratch("lct-guest-ssh");
  const std::filesystem::path root = scratch.path() / "state";
  const testing::ScopedEnv env("LABCTL_STATE_DIR", root.string());
  const model::Lab lab = testing::small_lab("lct", 1, 1);
  const model::Vm& vm = lab.teams[0].vms[0];

  SECTION("no state: refused, and nothing is made") {
    auto ran = converge::run_on_vm(lab, vm, {"uptime"});
    REQUIRE_FALSE(ran.ok());
    CHECK(ran.error().message.find("(made by `labctl up`)") != std::string::npos);
    auto interactive = converge::interactive_ssh(lab, vm);
    REQUIRE_FALSE(interactive.ok());
    CHECK(interactive.error().message == ran.error().message);
    CHECK_FALSE(std::filesystem::exists(root));
  }
  SECTION("an interactive session: the classroom's key, its known_hosts, the admin user") {
    auto state = sys::StateDir::open(lab.classroom);
    REQUIRE(state.ok());
    REQUIRE(state->host_key(vm.name).ok());
    auto interactive = converge::interactive_ssh(lab, vm);
    REQUIRE(interactive.ok());
    CHECK(interactive->key_file == (root / "lct" / "id_ed25519").string());
    CHECK(interactive->known_hosts == (root / "lct" / "known_hosts").string());
    CHECK(interactive->login == "student@" + vm.nics[0].ip);
  }
}

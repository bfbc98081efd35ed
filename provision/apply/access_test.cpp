#include <catch2/catch.hpp>

#include "provision/apply/access.hpp"
#include "provision/sys/classroom_state.hpp"

using namespace labctl;

namespace {

// Records what was asked; answers `ip -4 -o addr show` with `ip_output`.
class RecordingRemote : public squashtm::Remote {
 public:
  std::vector<std::string> commands;
  std::vector<std::pair<std::string, std::string>> files;
  std::string ip_output;
  std::string cat_output;  // the file `cat` shows

  Result<squashtm::ExecResult> exec(const std::string& command) override {
    commands.push_back(command);
    return squashtm::ExecResult{0,
                                command.starts_with("ip ")    ? ip_output
                                : command.starts_with("cat ") ? cat_output
                                                              : "",
                                ""};
  }
  Status put_file(const std::string& path, const std::string& content, int mode) override {
    files.emplace_back(path, content + "@" + std::to_string(mode));
    return {};
  }
};

model::Vm vm_with_lan() {
  model::Vm vm;
  vm.name = "cd26-team3-vm1";
  model::Nic nat;
  nat.key = "lan";
  nat.ip = "10.146.4.11";
  model::Nic campus;
  campus.key = "campus";
  campus.dhcp = true;
  vm.nics = {nat, campus};
  return vm;
}

}  // namespace

TEST_CASE("the admin user accepts exactly the classroom key and the team's", "[unit]") {
  RecordingRemote remote;
  const std::string keys =
      apply::authorized_keys("ssh-ed25519 AAAA labctl-cd26", "ssh-ed25519 BBBB labctl-cd26-team3");
  CHECK(keys == "ssh-ed25519 AAAA labctl-cd26\nssh-ed25519 BBBB labctl-cd26-team3\n");
  SECTION("a file that holds other keys is rewritten") {
    remote.cat_output = "ssh-ed25519 AAAA labctl-cd26\n";
    REQUIRE(apply::authorize_keys(remote, "student", keys).ok());
    CHECK(remote.files == std::vector<std::pair<std::string, std::string>>{
                              {"/home/student/.ssh/authorized_keys", keys + "@384"}});
    CHECK(remote.commands == std::vector<std::string>{"cat '/home/student/.ssh/authorized_keys'",
                                                      "chown 'student:student' "
                                                      "'/home/student/.ssh/authorized_keys' "
                                                      "'/home/student/.ssh'"});
  }
  SECTION("a file that holds exactly these keys is left as it is") {
    remote.cat_output = keys;
    REQUIRE(apply::authorize_keys(remote, "student", keys).ok());
    CHECK(remote.files.empty());
    CHECK(remote.commands == std::vector<std::string>{"cat '/home/student/.ssh/authorized_keys'"});
  }
  SECTION("in another order too: cloud-init writes the seed's keys in no set order") {
    remote.cat_output = "ssh-ed25519 BBBB labctl-cd26-team3\nssh-ed25519 AAAA labctl-cd26\n";
    REQUIRE(apply::authorize_keys(remote, "student", keys).ok());
    CHECK(remote.files.empty());
    CHECK(remote.commands.size() == 1);
  }
  SECTION("a key more or a key less is rewritten") {
    remote.cat_output = GENERATE(as<std::string>{}, "ssh-ed25519 AAAA labctl-cd26\n",
                                 "ssh-ed25519 BBBB labctl-cd26-team3\nssh-ed25519 AAAA "
                                 "labctl-cd26\nssh-ed25519 CCCC someone\n");
    REQUIRE(apply::authorize_keys(remote, "student", keys).ok());
    CHECK(remote.files.size() == 1);
  }
}

TEST_CASE("a bridge NIC's DHCP address is learned from the guest and recorded", "[unit]") {
  SECTION("ip's one-line output, IPv4 only, first address per interface") {
    CHECK(apply::parse_ip_addresses(
              "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever\n"
              "2: eth0    inet 10.146.4.11/24 brd 10.146.4.255 scope global eth0\\ x\n"
              "3: eth1    inet 192.168.77.50/24 brd 192.168.77.255 scope global dynamic eth1\n"
              "3: eth1    inet 192.168.77.99/24 scope global secondary eth1\n"
              "garbage\n") == std::map<std::string, std::string>{{"lo", "127.0.0.1"},
                                                                 {"eth0", "10.146.4.11"},
                                                                 {"eth1", "192.168.77.50"}});
  }
  SECTION("only the DHCP NICs, by their guest name (ethN, N = NIC index)") {
    RecordingRemote remote;
    remote.ip_output =
        "2: eth0    inet 10.146.4.11/24 scope global eth0\n"
        "3: eth1    inet 192.168.77.50/24 scope global dynamic eth1\n";
    const model::Vm vm = vm_with_lan();
    auto learned = apply::learn_dhcp_addresses(remote, vm);
    REQUIRE(learned.ok());
    CHECK(*learned == std::map<std::string, std::string>{{"campus", "192.168.77.50"}});
    sys::ClassroomState state;
    state.record_addresses(vm, *learned);
    CHECK(state.addresses["cd26-team3-vm1"]["campus"] == "192.168.77.50");
    CHECK(state.nic_address(vm, vm.nics[1]) == "192.168.77.50");
    CHECK(state.nic_address(vm, vm.nics[0]) == "10.146.4.11");
    CHECK(sys::ClassroomState{}.nic_address(vm, vm.nics[1]).empty());
  }
  SECTION("a VM without a DHCP NIC is not asked") {
    RecordingRemote remote;
    model::Vm vm = vm_with_lan();
    vm.nics.pop_back();
    CHECK(apply::learn_dhcp_addresses(remote, vm)->empty());
    CHECK(remote.commands.empty());
  }
}

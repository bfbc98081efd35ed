#include "hypervisors/hyperv/fake_powershell_test.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "hypervisors/hyperv/script.hpp"

namespace labctl::hv::hyperv::testing {

namespace {

using nlohmann::json;

sys::ProcessResult ok(std::string out = "") {
  return {0, std::move(out), ""};
}

// What powershell.exe leaves on stderr around the script's own line.
sys::ProcessResult failed(const std::string& message) {
  return {1, "",
          "#< CLIXML\r\n<Objs Version=\"1.1.0.1\"></Objs>\r\nlabctl-error: " + message +
              "\r\nAt line:40 char:3\r\n+   exit 1\r\n"};
}

// The text of the single-quoted literal right after `marker` (tags hold no quotes).
std::string quoted_after(const std::string& script, const std::string& marker, bool last) {
  const std::size_t at = last ? script.rfind(marker) : script.find(marker);
  if (at == std::string::npos) {
    return "";
  }
  const std::size_t start = at + marker.size();
  return script.substr(start, script.find('\'', start) - start);
}

bool tagged_for(const std::string& notes, const std::string& classroom) {
  auto tag = parse_tag(notes);
  return tag && tag->classroom == classroom;
}

}  // namespace

std::string decode_command(const std::string& encoded) {
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string bytes;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : encoded) {
    if (c == '=') {
      break;
    }
    buffer = (buffer << 6) | static_cast<unsigned>(alphabet.find(c));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  std::string utf8;
  bool ascii = true;
  for (std::size_t i = 0; i + 1 < bytes.size(); i += 2) {
    const unsigned unit = static_cast<unsigned char>(bytes[i]) |
                          (static_cast<unsigned>(static_cast<unsigned char>(bytes[i + 1])) << 8);
    ascii = ascii && unit < 0x80;
    utf8 += static_cast<char>(unit);
  }
  REQUIRE(ascii);  // the test classroom's scripts are ASCII
  return utf8;
}

Result<sys::ProcessResult> FakePowerShell::run(const std::vector<std::string>& argv,
                                               const sys::ProcessOptions&) {
  REQUIRE(argv.size() == 7);
  CHECK(argv[0] == "powershell.exe");
  CHECK(std::vector<std::string>(argv.begin() + 1, argv.end() - 1) ==
        std::vector<std::string>{"-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass",
                                 "-EncodedCommand"});
  const std::string script = decode_command(argv[6]);
  const std::string verb = script_verb(script);
  const std::string subject = script_subject(script);
  calls.push_back(verb + " " + subject);
  if (calls.back() == fail_on) {
    fail_on.clear();
    if (verb == "create-vm") {
      create_vm(subject, script, true);  // New-VM and the pending tag went through
    }
    return failed(fail_message);
  }
  return apply(verb, subject, script);
}

sys::ProcessResult FakePowerShell::apply(const std::string& verb, const std::string& subject,
                                         const std::string& script) {
  const std::string file = quoted_after(script, "$path = Join-Path $dir '", false);
  if (verb == "inventory") {
    return ok(inventory_json(subject));
  }
  if (verb == "create-pool" || verb == "delete-pool") {
    pool = verb == "create-pool";
    files.clear();
    return ok();
  }
  if (verb == "upload-volume" || verb == "create-overlay") {
    if (!pool) {
      return failed("labctl: C:\\ProgramData\\labctl\\cd26 is not this classroom's directory");
    }
    files.insert(file);
    return ok();
  }
  if (verb == "delete-volume") {
    files.erase(file);
    return ok();
  }
  if (verb == "create-network") {
    return create_network(subject, script);
  }
  if (verb == "create-vm") {
    return create_vm(subject, script, false);
  }
  if (verb == "start-vm" || verb == "stop-vm") {
    if (vms.count(subject) == 0) {
      return failed("Get-VM: Hyper-V was unable to find a virtual machine with name \"" + subject +
                    "\".");
    }
    vms[subject].state = verb == "start-vm" ? "Running" : "Off";
    return ok();
  }
  if (verb == "delete-vm" || verb == "delete-network") {
    return delete_tagged(verb, subject, script);
  }
  if (verb == "host-networks") {
    return ok(host_networks_json());
  }
  if (verb == "host-info") {
    return ok(R"({"Name":"HV01","MemoryCapacity":34359738368,"FreePhysicalMemory":8388608,)"
              R"("LogicalProcessorCount":8})");
  }
  return failed("FakePowerShell: no behaviour for " + verb);
}

sys::ProcessResult FakePowerShell::create_vm(const std::string& name, const std::string& script,
                                             bool partial) {
  if (vms.count(name) != 0) {
    return failed(
        "New-VM: Failed to create a new virtual machine. A virtual machine with the "
        "name '" +
        name + "' already exists.");
  }
  for (const char* marker : {"$disk = Join-Path $dir '", "$seed = Join-Path $dir '"}) {
    if (files.count(quoted_after(script, marker, false)) == 0) {
      return failed("labctl: " + quoted_after(script, marker, false) + " is missing");
    }
  }
  vms[name] = {quoted_after(script, "-Notes '", !partial), "Off"};
  return ok();
}

sys::ProcessResult FakePowerShell::create_network(const std::string& name,
                                                  const std::string& script) {
  const bool nat = script.find("New-NetNat") != std::string::npos;
  const std::string nat_name = quoted_after(script, "$natName = '", false);
  const std::string prefix = quoted_after(script, "$natPrefix = '", false);
  for (const auto& [other, other_prefix] : nat ? nats : std::map<std::string, std::string>{}) {
    if (other != nat_name) {
      return failed("labctl: Windows allows one NetNat per host and '" + other + "' exists (" +
                    other_prefix +
                    "): remove it if nothing uses it, or run this classroom on another host");
    }
    if (other_prefix != prefix) {
      return failed("labctl: NetNat " + other + " covers " + other_prefix +
                    " but the lab's nat networks need " + prefix + ": labctl down --all, then up");
    }
  }
  if (switches.count(name) != 0) {
    return failed("New-VMSwitch: Failed while adding virtual Ethernet switch connections.");
  }
  switches[name] = quoted_after(script, "-Notes '", true);
  if (nat) {
    internal.insert(name);
    addresses[name] = quoted_after(script, "-IPAddress '", false) + "/" +
                      std::to_string(std::stoi(script.substr(script.find("-PrefixLength ") + 14)));
    nats.emplace(nat_name, prefix);
  }
  return ok();
}

// Remove-VMSwitch, then the classroom's NetNat once no Internal switch of it is left.
sys::ProcessResult FakePowerShell::delete_switch(const std::string& name,
                                                 const std::string& script) {
  const std::string classroom = quoted_after(script, "$classroom = '", false);
  if (switches.count(name) != 0) {
    if (!tagged_for(switches[name], classroom)) {
      return failed("labctl: switch " + name +
                    " does not carry this classroom's tag; not deleting it");
    }
    switches.erase(name);
    internal.erase(name);
    addresses.erase(name);
  }
  for (const std::string& left : internal) {
    if (tagged_for(switches[left], classroom)) {
      return ok();
    }
  }
  nats.erase(quoted_after(script, "Get-NetNat -Name '", false));
  return ok();
}

// The scripts check the tag themselves before deleting: so does the fake.
sys::ProcessResult FakePowerShell::delete_tagged(const std::string& verb, const std::string& name,
                                                 const std::string& script) {
  if (verb == "delete-network") {
    return delete_switch(name, script);
  }
  const std::string classroom = quoted_after(script, "Test-LabctlTag $vm.Notes '", false);
  if (vms.count(name) == 0) {
    return ok();
  }
  if (!tagged_for(vms[name].notes, classroom)) {
    return failed("labctl: VM " + name + " does not carry this classroom's tag; not deleting it");
  }
  vms.erase(name);
  files.erase(name + ".vhdx");  // Remove-VM leaves the disk: the script removes it
  return ok();
}

std::string FakePowerShell::host_networks_json() const {
  json out = {{"Switches", json::array()}, {"Nats", json::array()}};
  for (const auto& [name, notes] : switches) {
    const auto address = addresses.find(name);
    out["Switches"].push_back({{"Name", name},
                               {"Notes", notes},
                               {"Address", address == addresses.end() ? "" : address->second}});
  }
  for (const auto& [name, prefix] : nats) {
    out["Nats"].push_back({{"Name", name}, {"Prefix", prefix}});
  }
  return out.dump();
}

std::string FakePowerShell::inventory_json(const std::string& classroom) const {
  static const std::map<std::string, int> k_states = {{"Running", 2}, {"Off", 3}};
  json out = {{"Pool", pool},
              {"Vms", json::array()},
              {"Switches", json::array()},
              {"Files", json::array()}};
  for (const auto& [name, vm] : vms) {
    if (tagged_for(vm.notes, classroom)) {
      const json state = numeric_state ? json(k_states.at(vm.state)) : json(vm.state);
      out["Vms"].push_back({{"Name", name},
                            {"State", state},
                            {"Notes", vm.notes},
                            {"MemoryStartup", 2147483648ULL},
                            {"ProcessorCount", 2}});
    }
  }
  for (const auto& [name, notes] : switches) {
    if (tagged_for(notes, classroom)) {
      const auto address = addresses.find(name);
      out["Switches"].push_back({{"Name", name},
                                 {"SwitchType", internal.count(name) != 0 ? "Internal" : "Private"},
                                 {"Notes", notes},
                                 {"Address", address == addresses.end() ? "" : address->second}});
    }
  }
  if (const auto nat = nats.find(classroom + "-nat"); nat != nats.end()) {
    out["Nat"] = {{"Name", nat->first}, {"Prefix", nat->second}};
  }
  for (const std::string& file : pool ? files : std::set<std::string>{}) {
    out["Files"].push_back({{"Name", file}, {"Length", 4096}});
  }
  return out.dump();
}

}  // namespace labctl::hv::hyperv::testing

#include "tests/support/fake_powershell.hpp"

#include <algorithm>
#include <fstream>
#include <thread>
#include <utility>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "hypervisors/hyperv/script.hpp"
#include "hypervisors/hyperv/session.hpp"

namespace labctl::testing {

using namespace labctl::hv::hyperv;

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

// The single-quoted literals of a script that start with '/' ('' inside is a quote), but
// '/' alone (the inventory joins an address and its prefix length with it).
std::vector<std::string> linux_path_literals(const std::string& script) {
  std::vector<std::string> found;
  for (std::size_t at = script.find('\''); at != std::string::npos;) {
    std::string literal;
    std::size_t i = at + 1;
    for (; i < script.size(); ++i) {
      if (script[i] == '\'' && i + 1 < script.size() && script[i + 1] == '\'') {
        literal += '\'';
        ++i;
      } else if (script[i] == '\'') {
        break;
      } else {
        literal += script[i];
      }
    }
    if (literal.size() > 1 && literal.starts_with('/')) {
      found.push_back(literal);
    }
    at = i < script.size() ? script.find('\'', i + 1) : std::string::npos;
  }
  return found;
}

bool tagged_for(const std::string& notes, const std::string& classroom) {
  auto tag = parse_tag(notes);
  return tag && tag->classroom == classroom;
}

}  // namespace

Result<sys::ProcessResult> FakeWslpath::run(const std::vector<std::string>& argv,
                                            const sys::ProcessOptions&) {
  if (argv.size() == 6 && argv[0] == "ip" &&
      std::vector<std::string>(argv.begin() + 1, argv.end() - 1) ==
          std::vector<std::string>{"-4", "-o", "route", "get"}) {
    route_queries.push_back(argv.back());
    return sys::ProcessResult{
        0, argv.back() + " via 172.29.16.1 dev eth0 src " + address + " uid 1000 \\    cache \n",
        ""};
  }
  calls.push_back(argv);
  if (argv.size() != 3 || argv[0] != "wslpath" || argv[1] != "-w" || !argv[2].starts_with('/')) {
    return sys::ProcessResult{1, "", "FakeWslpath: only `wslpath -w /absolute/path`"};
  }
  std::string windows = "\\\\wsl.localhost\\Debian";
  for (char c : argv[2]) {
    windows += c == '/' ? '\\' : c;
  }
  return sys::ProcessResult{0, windows + "\n", ""};
}

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

sys::ProcessResult FakePowerShell::answer(const std::string& script) {
  for (std::string& path : linux_path_literals(script)) {
    linux_paths.push_back(std::move(path));
  }
  const std::string verb = script_verb(script);
  const std::string subject = script_subject(script);
  calls.push_back(verb + " " + subject);
  if (const auto it = scripted.find(calls.back()); it != scripted.end()) {
    return it->second;
  }
  if (calls.back() == fail_on) {
    fail_on.clear();
    if (verb == "create-vm") {
      create_vm(subject, script, true);  // New-VM and the pending tag went through
    }
    return failed(fail_message);
  }
  return apply(verb, subject, script);
}

namespace {

// One fake powershell.exe running the session loop: each stdin line is a script, answered
// by the host and closed by the loop's sentinel lines.
class FakePowerShellProcess : public sys::LiveProcess {
 public:
  FakePowerShellProcess(FakePowerShell& host, std::string nonce)
      : m_host(host), m_end("labctl-end-" + std::move(nonce)) {}

  Status write(std::string_view text) override {
    m_input.append(text);
    for (std::size_t nl = m_input.find('\n'); nl != std::string::npos; nl = m_input.find('\n')) {
      const std::string script = decode_command(m_input.substr(0, nl));
      m_input.erase(0, nl + 1);
      const std::string call = script_verb(script) + " " + script_subject(script);
      if (call == m_host.hang_on || call == m_host.die_on) {
        m_dead = call == m_host.die_on;
        (call == m_host.hang_on ? m_host.hang_on : m_host.die_on).clear();
        m_host.calls.push_back(call);
        continue;
      }
      const sys::ProcessResult result = m_host.answer(script);
      m_out += result.out + "\r\n" + m_end + " " + std::to_string(result.exit_code) + "\r\n";
      m_err += result.err + "\r\n" + m_end + "\r\n";
    }
    return {};
  }

  bool read(std::string& out, std::string& err, Deadline deadline) override {
    if (m_out.empty() && m_err.empty()) {
      if (m_dead) {
        return false;
      }
      std::this_thread::sleep_until(deadline);  // a script that never answers
      return true;
    }
    // A few bytes at a time on stdout: the session must cope with a sentinel split over reads.
    out += m_out.substr(0, 7);
    m_out.erase(0, std::min<std::size_t>(7, m_out.size()));
    err += std::exchange(m_err, {});
    return true;
  }

  void kill() override { m_dead = true; }

 private:
  FakePowerShell& m_host;
  std::string m_end;
  std::string m_input, m_out, m_err;
  bool m_dead = false;
};

}  // namespace

sys::LiveStarter FakePowerShell::starter() {
  return [this](const std::vector<std::string>& argv) -> Result<std::unique_ptr<sys::LiveProcess>> {
    REQUIRE(argv.size() == 7);
    CHECK(argv[0] == "powershell.exe");
    CHECK(std::vector<std::string>(argv.begin() + 1, argv.end() - 1) ==
          std::vector<std::string>{"-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass",
                                   "-EncodedCommand"});
    const std::string loop = decode_command(argv[6]);
    REQUIRE(script_verb(loop) == "session");
    const std::string nonce = quoted_after(loop, "$labctlEnd = 'labctl-end-", false);
    REQUIRE(nonce == script_subject(loop));
    ++processes;
    return std::unique_ptr<sys::LiveProcess>(std::make_unique<FakePowerShellProcess>(*this, nonce));
  };
}

std::unique_ptr<PowerShellRunner> session_on(FakePowerShell& host,
                                             std::chrono::milliseconds timeout) {
  SessionOptions options;
  options.timeout = timeout;
  options.upload_timeout = timeout;
  return std::make_unique<SessionPowerShellRunner>(host.starter(), options);
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
  if (verb == "start-vm") {
    return start_vm(subject, script);
  }
  if (verb == "stop-vm") {
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
  if (verb == "publish" || verb == "unpublish") {
    // "cd26-team1-access" -> "team1"
    const std::string team = subject.substr(5, subject.size() - 5 - 7);
    if (verb == "unpublish") {
      unpublish(team);
      return ok();
    }
    return publish(team, script);
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
  if (!partial) {
    com_ports[name] = quoted_after(script, "Set-VMComPort -VM $vm -Number 1 -Path '", false);
  }
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
  if (script.find("'vEthernet (WSL*'") != std::string::npos) {
    forward_from_wsl(script);
  }
  return ok();
}

bool FakePowerShell::labctl_nat_switches() const {
  for (const std::string& name : internal) {
    if (switches.at(name).starts_with("labctl:v1 ")) {
      return true;
    }
  }
  return false;
}

// What forward_from_wsl() does: forwarding on every labctl nat switch's vEthernet and on
// WSL's, recording the WSL interfaces it was off on; then the route to the registry.
void FakePowerShell::forward_from_wsl(const std::string& script) {
  if (!labctl_nat_switches()) {
    return;
  }
  for (const std::string& name : internal) {
    forwarding["vEthernet (" + name + ")"] = true;
  }
  for (auto& [alias, on] : forwarding) {
    if (alias.starts_with("vEthernet (WSL") && !on) {
      on = true;
      forwarding_record.push_back(alias);
    }
  }
  route_to_registry(script);
}

// The registry's /32 through WSL's address: added when missing, pointed at WSL's address
// again when labctl made it (recorded), never touched when someone else did.
void FakePowerShell::route_to_registry(const std::string& script) {
  const std::string prefix = quoted_after(script, "$registryPrefix = '", false);
  const std::string next_hop = quoted_after(script, "$wslAddress = '", false);
  const bool wsl = std::any_of(forwarding.begin(), forwarding.end(), [](const auto& entry) {
    return entry.first.starts_with("vEthernet (WSL");
  });
  if (prefix.empty() || !wsl) {
    return;
  }
  const bool ours =
      std::find(route_record.begin(), route_record.end(), prefix) != route_record.end();
  const auto route = routes.find(prefix);
  if ((ours || route == routes.end()) && (route == routes.end() || route->second != next_hop)) {
    routes[prefix] = next_hop;
    ++routes_added;
    if (!ours) {
      route_record.push_back(prefix);
    }
  }
}

// Forwarding, the console capture started from the script's -EncodedCommand, Start-VM.
sys::ProcessResult FakePowerShell::start_vm(const std::string& name, const std::string& script) {
  if (vms.count(name) == 0) {
    return failed("Start-VM: Hyper-V was unable to find a virtual machine with name \"" + name +
                  "\".");
  }
  forward_from_wsl(script);
  const std::string encoded = quoted_after(script, "'-EncodedCommand', '", false);
  if (!encoded.empty()) {
    const std::string capture = decode_command(encoded);
    for (std::string& path : linux_path_literals(capture)) {
      linux_paths.push_back(std::move(path));
    }
    CHECK(script_verb(capture) == "console");
    CHECK("\\\\.\\pipe\\" + quoted_after(capture, "::new('.', '", false) == com_ports[name]);
    consoles[name] = quoted_after(capture, "$log = '", false);
    const std::string wsl = "\\\\wsl.localhost\\Debian";
    if (const auto out = boot_output.find(name);
        out != boot_output.end() && consoles[name].starts_with(wsl)) {
      std::string local = consoles[name].substr(wsl.size());
      std::replace(local.begin(), local.end(), '\\', '/');
      std::ofstream(local, std::ios::binary) << out->second;
    }
  }
  vms[name].state = "Running";
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
    forwarding.erase("vEthernet (" + name + ")");
  }
  if (!labctl_nat_switches() && script.find("wsl-forwarding.txt") != std::string::npos) {
    for (const std::string& alias : forwarding_record) {
      forwarding[alias] = false;
    }
    forwarding_record.clear();
  }
  if (!labctl_nat_switches() && script.find("wsl-route.txt") != std::string::npos) {
    for (const std::string& prefix : route_record) {
      routes.erase(prefix);
    }
    route_record.clear();
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

void FakePowerShell::unpublish(const std::string& team) {
  const auto record = access_records.find(team);
  if (record == access_records.end()) {
    return;
  }
  for (std::size_t i = 1; i < record->second.size(); ++i) {
    mappings.erase(std::stoi(record->second[i]));
  }
  access_records.erase(record);
}

sys::ProcessResult FakePowerShell::publish(const std::string& team, const std::string& script) {
  if (nats.count("cd26-nat") == 0) {
    return failed("labctl: NetNat cd26-nat is missing: the team's nat network comes first");
  }
  unpublish(team);
  std::istringstream lines(script);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("Add-NetNatStaticMapping") != std::string::npos) {
      const auto number_after = [&](const std::string& flag) {
        return std::stoi(line.substr(line.find(flag) + flag.size()));
      };
      mappings[number_after("-ExternalPort ")] = quoted_after(line, "-InternalIPAddress '", false) +
                                                 ":" +
                                                 std::to_string(number_after("-InternalPort "));
    }
  }
  // Set-Content -LiteralPath $record -Value @('hash identity', '20101', ...)
  std::vector<std::string> record;
  std::string values = script.substr(script.find("-Value @(") + 9);
  values = values.substr(0, values.find(')'));
  for (std::size_t at = values.find('\''); at != std::string::npos;
       at = values.find('\'', values.find('\'', at + 1) + 1)) {
    record.push_back(values.substr(at + 1, values.find('\'', at + 1) - at - 1));
  }
  access_records[team] = record;
  return ok();
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
  out["Access"] = json::array();
  for (const auto& [team, record] : pool ? access_records : decltype(access_records){}) {
    const auto present = std::count_if(record.begin() + 1, record.end(), [&](const auto& port) {
      return mappings.count(std::stoi(port)) != 0;
    });
    out["Access"].push_back({{"Team", team},
                             {"Owner", record.front()},
                             {"Ports", record.size() - 1},
                             {"Present", present}});
  }
  return out.dump();
}

}  // namespace labctl::testing

#include "tests/support/seen.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstdlib>
#include <set>
#include <sstream>
#include <string_view>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cloud-init/seed_iso.hpp"
#include "hypervisors/libvirt/backend.hpp"
#include "hypervisors/libvirt/handles.hpp"
#include "hypervisors/libvirt/xml_read.hpp"
#include "provision/model/addressing.hpp"
#include "tests/support/golden.hpp"

namespace labctl::testing {

namespace lv = labctl::hv::libvirt;
using namespace labctl::hv;

std::ostream& operator<<(std::ostream& out, const SeenNic& nic) {
  return out << nic.mac << "@" << nic.network;
}
std::ostream& operator<<(std::ostream& out, const SeedNic& nic) {
  out << nic.mac << "=" << nic.address << " via " << nic.gateway << " dns";
  for (const std::string& server : nic.dns) {
    out << " " << server;
  }
  return out;
}
std::ostream& operator<<(std::ostream& out, const SeenVm& vm) {
  out << vm.name << " cap=" << vm.memory_cap << " vcpus=" << vm.vcpus << " started=" << vm.started
      << " nics=[";
  for (const SeenNic& nic : vm.nics) {
    out << " " << nic;
  }
  out << " ] seed: hostname=" << vm.hostname << " [";
  for (const SeedNic& nic : vm.seed) {
    out << " " << nic << ";";
  }
  return out << " ]";
}
std::ostream& operator<<(std::ostream& out, const SeenNetwork& net) {
  return out << net.name << " " << net.kind << " " << net.address;
}

void sort_by_name(Seen& seen) {
  for (auto& [team, content] : seen) {
    std::sort(content.vms.begin(), content.vms.end(),
              [](const SeenVm& a, const SeenVm& b) { return a.name < b.name; });
    std::sort(content.networks.begin(), content.networks.end(),
              [](const SeenNetwork& a, const SeenNetwork& b) { return a.name < b.name; });
  }
}

namespace {

// ---- Seeds: the NoCloud media each backend was handed ----

std::string trim_left(std::string_view line) {
  const auto first = line.find_first_not_of(' ');
  return first == std::string_view::npos ? std::string() : std::string(line.substr(first));
}

// A YAML scalar as cloud-init reads it: double-quoted ones have JSON's escapes.
std::string yaml_scalar(const std::string& text) {
  return !text.empty() && text[0] == '"' ? nlohmann::json::parse(text).get<std::string>() : text;
}

// The netplan v2 shape labctl's seeds use: ethernets with match.macaddress, addresses,
// routes (to/via) and nameservers.addresses. What the scanner does not know stays empty and
// the comparison, or check_complete(), fails.
std::vector<SeedNic> parse_network_config(const std::string& text) {
  std::vector<SeedNic> nics;
  std::string list;  // the list that "- " items belong to
  std::string route_to;
  for (const std::string& raw : lines_of(text)) {
    const std::size_t indent = raw.find_first_not_of(' ');
    const std::string line = trim_left(raw);
    if (indent == 2 && !line.empty() && line.back() == ':') {
      nics.emplace_back();
      list.clear();
    } else if (nics.empty()) {
      continue;
    } else if (line.starts_with("macaddress: ")) {
      nics.back().mac = yaml_scalar(line.substr(12));
    } else if (line == "addresses:" || line == "routes:") {
      list = indent == 4 ? line : "dns";
    } else if (line.starts_with("- to: ")) {
      route_to = yaml_scalar(line.substr(6));
    } else if (line.starts_with("via: ") && route_to == "0.0.0.0/0") {
      nics.back().gateway = yaml_scalar(line.substr(5));
    } else if (line.starts_with("- ") && list == "addresses:") {
      nics.back().address += yaml_scalar(line.substr(2));
    } else if (line.starts_with("- ") && list == "dns") {
      nics.back().dns.push_back(yaml_scalar(line.substr(2)));
    }
  }
  return nics;
}

void read_seed(const std::string& local_file, SeenVm& vm) {
  INFO("seed of " << vm.name << ": " << local_file);
  auto seed = cloudinit::read_seed_iso(local_file);
  REQUIRE(seed.ok());
  for (const std::string& line : lines_of((*seed)["meta-data"])) {
    if (line.starts_with("local-hostname: ")) {
      vm.hostname = yaml_scalar(line.substr(16));
    }
  }
  vm.seed = parse_network_config((*seed)["network-config"]);
}

std::vector<std::string> blocks(std::string_view xml, std::string_view element) {
  std::vector<std::string> out;
  const std::string close = "</" + std::string(element) + ">";
  for (std::string_view tag : lv::start_tags(xml, element)) {
    const std::size_t from = static_cast<std::size_t>(tag.data() - xml.data());
    const std::size_t to = xml.find(close, from);
    out.emplace_back(xml.substr(from, to == std::string_view::npos ? tag.size() : to - from));
  }
  return out;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

SeenVm read_domain_xml(const std::string& xml) {
  SeenVm vm;
  vm.name = lv::text(xml, "name").value_or("");
  const auto memory = lv::text(xml, "memory");
  if (memory && lv::attribute(xml, "memory", "unit") == "KiB") {
    vm.memory_cap = std::stoull(*memory) * 1024;
  }
  vm.vcpus = std::stoi(lv::text(xml, "vcpu").value_or("0"));
  for (const std::string& nic : blocks(xml, "interface")) {
    auto network = lv::attribute(nic, "source", "network");
    vm.nics.push_back({lower(lv::attribute(nic, "mac", "address").value_or("")),
                       network ? *network : lv::attribute(nic, "source", "bridge").value_or("")});
  }
  return vm;
}

std::string cdrom_file(const std::string& xml) {
  for (const std::string& disk : blocks(xml, "disk")) {
    if (lv::attribute(disk, "disk", "device") == "cdrom") {
      return lv::attribute(disk, "source", "file").value_or("");
    }
  }
  return "";
}

// The name of the volume at `path`, as libvirt resolves it.
std::string volume_at(virConnectPtr conn, const std::string& path) {
  const lv::VolumeHandle vol(virStorageVolLookupByPath(conn, path.c_str()));
  INFO("volume at " << path);
  REQUIRE(vol != nullptr);
  return virStorageVolGetName(vol.get());
}

void read_libvirt_domains(virConnectPtr conn, const std::string& classroom,
                          const std::function<std::string(const std::string&)>& uploaded,
                          Seen& seen) {
  virDomainPtr* raw = nullptr;
  const int count = virConnectListAllDomains(conn, &raw, 0);
  REQUIRE(count >= 0);
  std::vector<lv::DomainHandle> domains(raw, raw + count);
  std::free(raw);  // NOLINT: libvirt's malloc'd array; the handles own its elements
  for (const lv::DomainHandle& dom : domains) {
    const auto tag = lv::domain_tag(dom.get());
    if (!tag || tag->classroom != classroom) {
      continue;  // the test driver's own "test" domain
    }
    const std::string xml = lv::take_string(virDomainGetXMLDesc(dom.get(), 0));
    SeenVm vm = read_domain_xml(xml);
    vm.started = virDomainIsActive(dom.get()) == 1;
    read_seed(uploaded(volume_at(conn, cdrom_file(xml))), vm);
    seen[tag->team].vms.push_back(vm);
  }
}

std::string host_address(const std::string& xml) {
  for (std::string_view ip : lv::start_tags(xml, "ip")) {
    const auto address = lv::tag_attribute(ip, "address");
    if (!address || lv::tag_attribute(ip, "family").value_or("ipv4") != "ipv4") {
      continue;
    }
    if (auto prefix = lv::tag_attribute(ip, "prefix")) {
      return *address + "/" + *prefix;
    }
    in_addr mask{};
    const auto netmask = lv::tag_attribute(ip, "netmask").value_or("");
    if (inet_pton(AF_INET, netmask.c_str(), &mask) == 1) {
      return *address + "/" + std::to_string(std::popcount(ntohl(mask.s_addr)));
    }
    return *address + "/?";
  }
  return "";
}

void read_libvirt_networks(virConnectPtr conn, const std::string& classroom, Seen& seen) {
  virNetworkPtr* raw = nullptr;
  const int count = virConnectListAllNetworks(conn, &raw, 0);
  REQUIRE(count >= 0);
  std::vector<lv::NetworkHandle> networks(raw, raw + count);
  std::free(raw);  // NOLINT: as above
  for (const lv::NetworkHandle& net : networks) {
    const auto tag = lv::network_tag(net.get());
    if (!tag || tag->classroom != classroom) {
      continue;  // the test driver's "default" network
    }
    const std::string xml = lv::take_string(virNetworkGetXMLDesc(net.get(), 0));
    const auto forward = lv::attribute(xml, "forward", "mode");
    seen[tag->team].networks.push_back(
        {lv::text(xml, "name").value_or(""), forward ? *forward : "isolated", host_address(xml)});
  }
}

// One test:///default per team, as one host per team: the test driver's pools hold 100GiB
// and count an overlay as fully allocated, so classroom.yaml's sixteen 10GiB disks do not
// fit in one. Each host gets the classroom's pool and base, as `up` on several hosts does.
}  // namespace

void read_libvirt(virConnectPtr conn, const std::string& classroom,
                  const std::function<std::string(const std::string&)>& uploaded, Seen& seen) {
  read_libvirt_domains(conn, classroom, uploaded, seen);
  read_libvirt_networks(conn, classroom, seen);
}

namespace {

// ---- Hyper-V: the PowerShell its dry run recorded ----

// A single-quoted PowerShell literal ('' is a quote) at the start of `text`, or a bare word.
std::string ps_token(std::string_view text) {
  if (text.empty() || text[0] != '\'') {
    return std::string(text.substr(0, text.find(' ')));
  }
  std::string value;
  for (std::size_t i = 1; i < text.size(); ++i) {
    if (text[i] == '\'' && (i + 1 == text.size() || text[i + 1] != '\'')) {
      return value;
    }
    i += text[i] == '\'' ? 1 : 0;
    value += text[i];
  }
  return "<unterminated " + value + ">";
}

// The value a cmdlet line passes for -`param`, "" when it passes none.
std::string ps_argument(std::string_view line, std::string_view param) {
  const std::string key = " -" + std::string(param) + " ";
  const std::size_t at = line.find(key);
  return at == std::string_view::npos ? "" : ps_token(line.substr(at + key.size()));
}

model::Bytes number(const std::string& text) {
  return text.empty() ? 0 : std::stoull(text);
}

// "labctl:v1 classroom=cd26 team=team1 ..." -> the value of `key`.
std::string tag_word(const std::string& notes, const std::string& key) {
  std::istringstream words(notes);
  for (std::string word; words >> word;) {
    if (word.starts_with(key + "=")) {
      return word.substr(key.size() + 1);
    }
  }
  return "";
}

// "02D752010100" -> "02:d7:52:01:01:00".
std::string colon_mac(const std::string& hyperv) {
  std::string out;
  for (std::size_t i = 0; i < hyperv.size(); i += 2) {
    out += (i == 0 ? "" : ":") + lower(hyperv.substr(i, 2));
  }
  return out;
}

struct Header {
  std::string verb;
  std::string subject;
};

Header header_of(const std::string& script) {
  std::istringstream words(lines_of(script).at(0));
  std::string hash, labctl;
  Header header;
  words >> hash >> labctl >> header.verb >> header.subject;
  return header;
}

struct ScriptVm {
  std::string team;
  std::string seed_file;  // in the classroom's directory; "" when no DVD drive holds it
  SeenVm vm;
};

// With dynamic memory off, the startup memory is all a Hyper-V VM has: its hard cap.
ScriptVm parse_create_vm(const std::string& script) {
  ScriptVm out;
  model::Bytes startup = 0, fixed = 0;
  bool dynamic_off = false, dvd = false;
  for (const std::string& line : lines_of(script)) {
    const std::string code = trim_left(line);
    if (code.starts_with("$vm = New-VM ")) {
      out.vm.name = ps_argument(code, "Name");
      startup = number(ps_argument(code, "MemoryStartupBytes"));
    } else if (code.starts_with("Set-VMMemory ")) {
      dynamic_off = ps_argument(code, "DynamicMemoryEnabled") == "$false";
      fixed = number(ps_argument(code, "StartupBytes"));
    } else if (code.starts_with("Set-VMProcessor ")) {
      out.vm.vcpus = static_cast<int>(number(ps_argument(code, "Count")));
    } else if (code.starts_with("Add-VMNetworkAdapter ")) {
      out.vm.nics.push_back(
          {colon_mac(ps_argument(code, "StaticMacAddress")), ps_argument(code, "SwitchName")});
    } else if (code.starts_with("$seed = Join-Path $dir ")) {
      out.seed_file = ps_token(std::string_view(code).substr(23));
    } else if (code == "Add-VMDvdDrive -VM $vm -Path $seed") {
      dvd = true;
    } else if (code.starts_with("Set-VM -VM $vm -Notes ")) {
      out.team = tag_word(ps_argument(code, "Notes"), "team");  // the last one is the tag
    }
  }
  out.vm.memory_cap = dynamic_off && startup == fixed ? fixed : 0;
  if (!dvd) {
    out.seed_file.clear();
  }
  return out;
}

struct ScriptNetwork {
  std::string team;
  std::string nat;  // "<NetNat name> <prefix>" for a nat network
  SeenNetwork net;
};

// Whether the host address "10.146.0.1/24" lies inside the NAT prefix "10.146.0.0/16".
bool nat_covers(const std::string& nat_prefix, const std::string& ip, const std::string& prefix) {
  const auto nat = model::parse_cidr(nat_prefix);
  const auto host = model::parse_cidr(ip + "/32");
  return nat && host && nat->prefix <= std::atoi(prefix.c_str()) && nat->overlaps(*host);
}

// A nat network on Hyper-V is an Internal switch with the gateway on its vEthernet, and the
// classroom's one NetNat (New-NetNat -InternalIPInterfaceAddressPrefix $natPrefix, created by
// the first such script) over a prefix that holds that gateway's subnet.
ScriptNetwork parse_create_network(const std::string& script) {
  ScriptNetwork out;
  std::string switch_type, ip, prefix, nat_prefix;
  bool nat = false;
  for (const std::string& line : lines_of(script)) {
    const std::string code = trim_left(line);
    if (code.starts_with("$name = ")) {
      out.net.name = ps_token(std::string_view(code).substr(8));
    } else if (code.starts_with("$natPrefix = ")) {
      nat_prefix = ps_token(std::string_view(code).substr(13));
      out.nat += " " + nat_prefix;
    } else if (code.starts_with("$natName = ")) {
      out.nat = ps_token(std::string_view(code).substr(11)) + out.nat;
    } else if (code.starts_with("New-VMSwitch ")) {
      switch_type = ps_argument(code, "SwitchType");
    } else if (code.starts_with("New-NetIPAddress ")) {
      ip = ps_argument(code, "IPAddress");
      prefix = ps_argument(code, "PrefixLength");
    } else if (code.starts_with("New-NetNat ")) {
      nat = ps_argument(code, "InternalIPInterfaceAddressPrefix") == "$natPrefix";
    } else if (code.starts_with("Set-VMSwitch -Name $name -Notes ")) {
      out.team = tag_word(ps_argument(code, "Notes"), "team");
    }
  }
  nat = nat && nat_covers(nat_prefix, ip, prefix);
  out.net.kind = switch_type == "Internal" && nat ? "nat"
                 : switch_type == "Private"       ? "isolated"
                                                  : "switch type '" + switch_type + "'";
  out.net.address = ip.empty() ? "" : ip + "/" + prefix;
  return out;
}

// Copy-Item of a local file to "$path = Join-Path $dir '<file>'": file -> local file.
void parse_upload(const std::string& script, std::map<std::string, std::string>& uploads) {
  std::string file;
  for (const std::string& line : lines_of(script)) {
    const std::string code = trim_left(line);
    if (code.starts_with("$path = Join-Path $dir ")) {
      file = ps_token(std::string_view(code).substr(23));
    } else if (code.starts_with("Copy-Item ") && ps_argument(code, "Destination") == "$path") {
      uploads[file] = ps_argument(code, "LiteralPath");
    }
  }
}

}  // namespace

Seen read_scripts(const std::vector<std::string>& scripts) {
  std::map<std::string, std::string> uploads;
  std::set<std::string> started;
  for (const std::string& script : scripts) {
    const Header header = header_of(script);
    if (header.verb == "upload-volume") {
      parse_upload(script, uploads);
    } else if (header.verb == "start-vm") {
      for (const std::string& line : lines_of(script)) {
        if (trim_left(line).starts_with("Start-VM ")) {
          started.insert(ps_argument(trim_left(line), "Name"));
        }
      }
    }
  }
  Seen seen;
  std::set<std::string> nats;  // every nat network of the classroom shares one NetNat
  for (const std::string& script : scripts) {
    const Header header = header_of(script);
    if (header.verb == "create-network") {
      ScriptNetwork parsed = parse_create_network(script);
      seen[parsed.team].networks.push_back(parsed.net);
      if (!parsed.nat.empty()) {
        nats.insert(parsed.nat);
      }
    } else if (header.verb == "create-vm") {
      ScriptVm parsed = parse_create_vm(script);
      parsed.vm.started = started.count(parsed.vm.name) != 0;
      read_seed(uploads[parsed.seed_file], parsed.vm);
      seen[parsed.team].vms.push_back(parsed.vm);
    }
  }
  INFO("NetNats asked for: " << nats.size());
  CHECK(nats.size() <= 1);
  sort_by_name(seen);
  return seen;
}

}  // namespace labctl::testing

#include "hypervisors/hyperv/parse.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include <fmt/format.h>

#include "hypervisors/hyperv/render.hpp"
#include "hypervisors/hyperv/script.hpp"
#include "provision/model/addressing.hpp"

namespace labctl::hv::hyperv {

namespace {

using nlohmann::json;

Result<json> parse_json(std::string_view text, std::string_view what) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return json();  // a query that found nothing may print nothing
  }
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded()) {
    return Error::failure(fmt::format("{}: PowerShell printed something that is not JSON: {}", what,
                                      text.substr(0, 200)));
  }
  return doc;
}

// A list as PowerShell may write it: an array, one bare object, or null.
std::vector<json> as_list(const json& value) {
  if (value.is_array()) {
    return value.get<std::vector<json>>();
  }
  if (value.is_object()) {
    return {value};
  }
  return {};
}

std::string text_of(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

std::uint64_t number_of(const json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end()) {
    return 0;
  }
  if (it->is_number_unsigned() || it->is_number_integer()) {
    return it->get<std::int64_t>() > 0 ? it->get<std::uint64_t>() : 0;
  }
  if (it->is_string()) {
    return std::strtoull(it->get<std::string>().c_str(), nullptr, 10);
  }
  return 0;
}

bool truthy(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_boolean() && it->get<bool>();
}

}  // namespace

PowerState parse_vm_state(const json& state) {
  if (state.is_number_integer()) {
    switch (state.get<int>()) {
      case 2:
        return PowerState::running;
      case 3:
        return PowerState::off;
      case 9:
        return PowerState::paused;
      default:
        return PowerState::other;
    }
  }
  const std::string text = state.is_string() ? state.get<std::string>() : "";
  if (text == "Running") {
    return PowerState::running;
  }
  if (text == "Off") {
    return PowerState::off;
  }
  return text == "Paused" ? PowerState::paused : PowerState::other;
}

std::string network_cidr(std::string_view address) {
  unsigned a = 0, b = 0, c = 0, d = 0, prefix = 0;
  char tail = 0;
  const std::string text(address);
  if (std::sscanf(text.c_str(), "%u.%u.%u.%u/%u%c", &a, &b, &c, &d, &prefix, &tail) != 5 ||
      a > 255 || b > 255 || c > 255 || d > 255 || prefix > 32) {
    return "";
  }
  const std::uint32_t ip = (a << 24) | (b << 16) | (c << 8) | d;
  const std::uint32_t mask = prefix == 0 ? 0U : ~0U << (32 - prefix);
  return model::Subnet{ip & mask, static_cast<int>(prefix)}.cidr();
}

namespace {

std::optional<Tag> classroom_tag(const json& object, const std::string& classroom) {
  std::optional<Tag> tag = parse_tag(text_of(object, "Notes"));
  if (!tag || tag->classroom != classroom) {
    return std::nullopt;
  }
  return tag;
}

void add_domains(const json& doc, const std::string& classroom, Inventory& inventory) {
  for (const json& vm : as_list(doc.value("Vms", json()))) {
    std::optional<Tag> tag = classroom_tag(vm, classroom);
    if (!tag || text_of(vm, "Name").empty()) {
      continue;
    }
    Object object{ObjectKind::domain, text_of(vm, "Name"), *tag};
    object.state = parse_vm_state(vm.value("State", json()));
    object.memory = number_of(vm, "MemoryStartup");
    object.vcpus = static_cast<int>(number_of(vm, "ProcessorCount"));
    inventory.objects.push_back(object);
  }
}

bool is_internal(const json& sw) {
  const json type = sw.value("SwitchType", json());
  return type == json("Internal") || type == json(1);  // VMSwitchType: Private 0, Internal 1
}

// The classroom's NetNat (parse.hpp): the prefix it covers, nullopt when there is none.
std::optional<model::Subnet> classroom_nat(const json& doc) {
  const json nat = doc.value("Nat", json());
  if (!nat.is_object()) {
    return std::nullopt;
  }
  return model::parse_cidr(network_cidr(text_of(nat, "Prefix")));
}

// A nat network is an Internal switch and the classroom's NetNat over its subnet: without
// that NetNat (or with one that misses the subnet) it is inactive, so that `plan` shows it
// and `up` makes it again.
void add_networks(const json& doc, const std::string& classroom, Inventory& inventory) {
  const std::optional<model::Subnet> nat = classroom_nat(doc);
  for (const json& sw : as_list(doc.value("Switches", json()))) {
    std::optional<Tag> tag = classroom_tag(sw, classroom);
    if (!tag || text_of(sw, "Name").empty()) {
      continue;
    }
    Object object{ObjectKind::network, text_of(sw, "Name"), *tag};
    const auto colon = tag->spec_hash.find(':');
    object.cidr = colon == std::string::npos ? network_cidr(text_of(sw, "Address"))
                                             : network_cidr(tag->spec_hash.substr(colon + 1));
    const std::optional<model::Subnet> subnet = model::parse_cidr(object.cidr);
    const bool covered = nat && subnet && nat->prefix <= subnet->prefix && nat->overlaps(*subnet);
    object.state = !is_internal(sw) || covered ? PowerState::running : PowerState::off;
    inventory.objects.push_back(object);
  }
}

// Volumes have no Notes: they are labctl's by living in the tagged classroom directory.
// The team is read back from the name ("cd26-team3-vm1.qcow2"), the role from its form.
Object volume_object(const std::string& file, const std::string& classroom) {
  const std::string name = volume_name(file);
  Object object{ObjectKind::volume, name, {classroom, "", "disk", ""}};
  object.pool = classroom + "-pool";
  const std::string prefix = classroom + "-";
  if (name.rfind(prefix + "base", 0) == 0) {
    object.tag.role = "base";
  } else if (name.rfind(prefix, 0) == 0) {
    const std::string rest = name.substr(prefix.size());
    object.tag.team = rest.substr(0, rest.find('-'));
    const bool seed = rest.size() > 9 && rest.substr(rest.size() - 9) == "-seed.iso";
    object.tag.role = seed ? "seed" : "disk";
  }
  return object;
}

void add_storage(const json& doc, const std::string& classroom, Inventory& inventory) {
  if (!truthy(doc, "Pool")) {
    return;  // files outside a tagged directory are not labctl's
  }
  Object pool{ObjectKind::pool, classroom + "-pool", {classroom, "", "pool", ""}};
  pool.state = PowerState::running;
  inventory.objects.push_back(pool);
  for (const json& file : as_list(doc.value("Files", json()))) {
    const std::string name = text_of(file, "Name");
    if (!name.empty() && name[0] != '.') {
      inventory.objects.push_back(volume_object(name, classroom));
    }
  }
}

bool is_external(const json& sw) {
  const json type = sw.value("SwitchType", json());
  return type == json("External") || type == json(2);  // VMSwitchType: External 2
}

// What holds names outside the classroom (its conflicts), and the External switches that a
// bridge network can join. Absent from a dry run's empty answer: then nothing is checked.
void add_others(const json& doc, Inventory& inventory) {
  if (!doc.contains("OtherSwitches")) {
    return;
  }
  for (const json& vm : as_list(doc.value("OtherVms", json()))) {
    inventory.others.push_back(
        {ObjectKind::domain, text_of(vm, "Name"), parse_tag(text_of(vm, "Notes")).value_or(Tag{})});
  }
  std::vector<std::string> external;
  for (const char* key : {"Switches", "OtherSwitches"}) {
    for (const json& sw : as_list(doc.value(key, json()))) {
      if (is_external(sw)) {
        external.push_back(text_of(sw, "Name"));
      }
      if (std::string_view(key) == "OtherSwitches") {
        inventory.others.push_back({ObjectKind::network, text_of(sw, "Name"),
                                    parse_tag(text_of(sw, "Notes")).value_or(Tag{})});
      }
    }
  }
  inventory.devices = std::move(external);
}

}  // namespace

// Students' access: a forward object per team record, running when the NetNat still has
// every mapping the record lists. The backend publishes on every Hyper-V host.
void add_access(const nlohmann::json& doc, const std::string& classroom, Inventory& inventory) {
  inventory.publishes = true;
  const auto access = doc.find("Access");
  if (access == doc.end() || !access->is_array()) {
    return;
  }
  for (const nlohmann::json& item : *access) {
    const std::string owner = text_of(item, "Owner");
    const auto space = owner.find(' ');
    const std::string identity = space == std::string::npos ? "" : owner.substr(space + 1);
    Object object;
    object.kind = ObjectKind::forward;
    object.name = forward_name(classroom, text_of(item, "Team"));
    object.tag = {classroom, text_of(item, "Team"), "forward", owner.substr(0, space),
                  identity == "none" ? "" : identity};
    const auto ports = number_of(item, "Ports");
    object.state =
        ports > 0 && number_of(item, "Present") == ports ? PowerState::running : PowerState::off;
    inventory.objects.push_back(object);
  }
}

Result<Inventory> parse_inventory(std::string_view text, const std::string& classroom) {
  auto doc = parse_json(text, "inventory");
  if (!doc) {
    return doc.error();
  }
  Inventory inventory{"hyperv://", {}};
  if (doc->is_null() || (doc->is_array() && doc->empty())) {
    inventory.publishes = true;
    return inventory;  // nothing printed, or a dry run's recording runner answering "[]"
  }
  if (!doc->is_object()) {
    return Error::failure("inventory: expected a JSON object with Vms, Switches and Files");
  }
  add_storage(*doc, classroom, inventory);
  add_networks(*doc, classroom, inventory);
  add_domains(*doc, classroom, inventory);
  add_others(*doc, inventory);
  add_access(*doc, classroom, inventory);
  return inventory;
}

Result<HostInfo> parse_host_info(std::string_view text) {
  auto doc = parse_json(text, "host info");
  if (!doc) {
    return doc.error();
  }
  if (!doc->is_object() || number_of(*doc, "MemoryCapacity") == 0) {
    return Error::failure("host info: Get-VMHost gave no memory capacity");
  }
  HostInfo info;
  info.hostname = text_of(*doc, "Name");
  info.memory_total = number_of(*doc, "MemoryCapacity");
  info.memory_free = number_of(*doc, "FreePhysicalMemory") * 1024;  // Win32 reports KiB
  info.cpus = static_cast<int>(number_of(*doc, "LogicalProcessorCount"));
  return info;
}

Result<std::vector<HostNetwork>> parse_host_networks(std::string_view text) {
  auto doc = parse_json(text, "host networks");
  if (!doc) {
    return doc.error();
  }
  std::vector<HostNetwork> networks;
  if (!doc->is_object()) {
    return networks;
  }
  for (const json& sw : as_list(doc->value("Switches", json()))) {
    std::optional<Tag> tag = parse_tag(text_of(sw, "Notes"));
    networks.push_back(
        {text_of(sw, "Name"), network_cidr(text_of(sw, "Address")), tag ? tag->classroom : ""});
  }
  // A NetNat named <classroom>-nat is that classroom's (render.hpp, nat_name).
  const std::string suffix = nat_name("");
  for (const json& nat : as_list(doc->value("Nats", json()))) {
    const std::string name = text_of(nat, "Name");
    const bool labctl = name.size() > suffix.size() && name.ends_with(suffix);
    networks.push_back({name, network_cidr(text_of(nat, "Prefix")),
                        labctl ? name.substr(0, name.size() - suffix.size()) : "", true});
  }
  return networks;
}

Result<PowerState> parse_vm_state_output(std::string_view text) {
  auto doc = parse_json(text, "VM state");
  if (!doc) {
    return doc.error();
  }
  if (!doc->is_object()) {
    return PowerState::off;  // a dry run answers "[]": nothing is running
  }
  return parse_vm_state(doc->value("State", json()));
}

}  // namespace labctl::hv::hyperv

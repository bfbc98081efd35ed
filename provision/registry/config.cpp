// Settings, paths, config.yml and registry.json: pure.

#include <regex>

#include <fmt/format.h>

#include "provision/images/images.hpp"
#include "provision/model/addressing.hpp"
#include "provision/model/names.hpp"
#include "provision/registry/supervise.hpp"

namespace labctl::registry {

namespace {

// A YAML double-quoted scalar: a JSON string is one.
std::string quoted(const std::string& text) {
  return nlohmann::json(text).dump();
}

}  // namespace

std::string endpoint(const Settings& settings) {
  return fmt::format("{}:{}", settings.address, settings.port);
}

std::string mirror_url(const Settings& settings) {
  return "http://" + endpoint(settings);
}

Status check_settings(const Settings& settings) {
  const auto parsed = model::parse_cidr(settings.address + "/32");
  if (!parsed || parsed->address(0) != settings.address) {
    return Error::usage(
        fmt::format("registry address '{}' is not an IPv4 address", settings.address));
  }
  if (settings.address == "0.0.0.0") {
    return Error::usage("registry address 0.0.0.0 would listen everywhere: give one address");
  }
  if (settings.port < 1 || settings.port > 65535) {
    return Error::usage(fmt::format("registry port {} is not between 1 and 65535", settings.port));
  }
  if (!settings.upstream.empty() && !model::is_safe_url(settings.upstream, {"http", "https"})) {
    return Error::usage(
        fmt::format("registry upstream '{}' is not an http(s) URL", settings.upstream));
  }
  static const std::regex device("^[A-Za-z0-9_.-]{1,15}$");
  if (!std::regex_match(settings.interface, device)) {
    return Error::usage(
        fmt::format("registry interface '{}' is not a device name (1 to 15 "
                    "letters, digits, '_', '.', '-')",
                    settings.interface));
  }
  return {};
}

Paths paths_of(const Settings& settings) {
  const std::filesystem::path dir =
      std::filesystem::path(settings.cache_dir.empty() ? images::default_cache_dir()
                                                       : settings.cache_dir) /
      "registry";
  return {dir,
          dir / "config.yml",
          dir / "data",
          dir / "registry.pid",
          dir / "registry.log",
          dir / "registry.json",
          dir / "users",
          dir / "lock"};
}

std::string render_config(const Settings& settings, const Paths& paths) {
  std::string text = fmt::format(
      "# Written by labctl at each `labctl registry start`: edits are lost.\n"
      "version: 0.1\n"
      "log:\n"
      "  level: info\n"
      "storage:\n"
      "  filesystem:\n"
      "    rootdirectory: {}\n"
      "  delete:\n"
      "    enabled: true\n"
      "http:\n"
      "  addr: {}\n",
      quoted(paths.data.string()), quoted(endpoint(settings)));
  if (!settings.upstream.empty()) {
    text += fmt::format("proxy:\n  remoteurl: {}\n", quoted(settings.upstream));
  }
  return text;
}

bool Record::same_as(const Settings& settings) const {
  return address == settings.address && port == settings.port && upstream == settings.upstream;
}

std::string Record::describe() const {
  return fmt::format("{}:{}, upstream {}", address, port, upstream.empty() ? "none" : upstream);
}

nlohmann::json to_json(const Record& record) {
  return {{"address", record.address},
          {"port", record.port},
          {"upstream", record.upstream},
          {"pid", record.pid},
          {"started", record.started},
          {"interface", record.interface},
          {"interface_created", record.interface_created},
          {"address_added", record.address_added}};
}

Result<Record> record_from_json(const nlohmann::json& json) {
  try {
    Record record;
    record.address = json.at("address").get<std::string>();
    record.port = json.at("port").get<int>();
    record.upstream = json.at("upstream").get<std::string>();
    record.pid = json.at("pid").get<int>();
    record.started = json.value("started", "");
    record.interface = json.value("interface", "");
    record.interface_created = json.value("interface_created", false);
    record.address_added = json.value("address_added", false);
    return record;
  } catch (const nlohmann::json::exception& e) {
    return Error::failure(std::string("registry.json: ") + e.what());
  }
}

}  // namespace labctl::registry

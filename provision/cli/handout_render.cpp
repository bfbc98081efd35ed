#include "provision/cli/handout_render.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "provision/apply/guest.hpp"
#include "provision/ready/stages.hpp"

namespace labctl::cli {

namespace {

constexpr const char* k_login_note = "Squash TM's default account; change it at first login";

HandoutVm vm_of(const model::Lab& lab, const model::Vm& vm, const HandoutInputs& inputs) {
  HandoutVm out{vm.key, vm.hostname, ready::vm_address(vm)};
  for (const model::Nic& nic : vm.nics) {
    out.networks.emplace_back(nic.key, nic.ip.empty() ? "-" : nic.ip);
  }
  out.ssh_labctl = fmt::format("labctl ssh {} {}", vm.team, vm.key);
  out.ssh_plain = fmt::format("ssh -i {} -o UserKnownHostsFile={} {}@{}", inputs.private_key,
                              inputs.known_hosts, lab.admin_user, out.address);
  const squashtm::Secrets* secrets = nullptr;
  if (inputs.secrets) {
    auto it = inputs.secrets->find(vm.name);
    secrets = it == inputs.secrets->end() ? nullptr : &it->second;
  }
  auto instances = apply::effective_instances(vm, inputs.state);
  std::sort(instances.begin(), instances.end(),
            [](const auto& a, const auto& b) { return a.port < b.port; });
  for (const model::Instance& instance : instances) {
    HandoutInstance row{instance.name, instance.version,
                        fmt::format("http://{}:{}/squash", out.address, instance.port),
                        model::to_string(instance.db)};
    if (secrets != nullptr && instance.db != model::DbKind::h2 && secrets->contains(row.name)) {
      row.db_password = secrets->at(row.name);
    }
    out.instances.push_back(row);
  }
  return out;
}

std::string networks_text(const HandoutVm& vm) {
  std::string out;
  for (const auto& [key, ip] : vm.networks) {
    out += fmt::format("{}{} {}", out.empty() ? "" : ", ", key, ip);
  }
  return out;
}

std::string heading(const Handout& handout, const HandoutTeam& team) {
  return fmt::format("{}: {}", handout.title.empty() ? handout.classroom : handout.title,
                     team.name);
}

std::string login_text() {
  return fmt::format("{} / {}", k_squash_default_user, k_squash_default_password);
}

// Table cells: a '|' would end the cell early.
std::string md_cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    out += c == '|' ? std::string("\\|") : std::string(1, c);
  }
  return out;
}

std::string md_vm(const Handout& handout, const HandoutVm& vm) {
  std::string out = fmt::format("## {} ({})\n\n", vm.key, vm.hostname);
  out += fmt::format("- Address: {} ({})\n", vm.address, networks_text(vm));
  out += fmt::format("- SSH: `{}`\n", vm.ssh_labctl);
  out += fmt::format("- SSH without labctl: `{}`\n\n", vm.ssh_plain);
  if (vm.instances.empty()) {
    return out + "No Squash TM instance.\n\n";
  }
  out += handout.with_secrets ? "| Instance | Version | URL | Database | DB password |\n"
                                "|---|---|---|---|---|\n"
                              : "| Instance | Version | URL | Database |\n|---|---|---|---|\n";
  for (const HandoutInstance& i : vm.instances) {
    out += fmt::format("| {} | {} | {} | {} |", md_cell(i.name), md_cell(i.version), md_cell(i.url),
                       md_cell(i.db));
    if (handout.with_secrets) {
      out += i.db_password.empty() ? " - |" : fmt::format(" `{}` |", md_cell(i.db_password));
    }
    out += "\n";
  }
  return out + "\n";
}

std::string html_vm(const Handout& handout, const HandoutVm& vm) {
  const auto e = html_escape;
  std::string out = fmt::format("<h2>{} ({})</h2>\n<ul>\n", e(vm.key), e(vm.hostname));
  out += fmt::format("<li>Address: {} ({})</li>\n", e(vm.address), e(networks_text(vm)));
  out += fmt::format("<li>SSH: <code>{}</code></li>\n", e(vm.ssh_labctl));
  out += fmt::format("<li>SSH without labctl: <code>{}</code></li>\n</ul>\n", e(vm.ssh_plain));
  if (vm.instances.empty()) {
    return out + "<p>No Squash TM instance.</p>\n";
  }
  out += "<table>\n<tr><th>Instance</th><th>Version</th><th>URL</th><th>Database</th>";
  out += handout.with_secrets ? "<th>DB password</th></tr>\n" : "</tr>\n";
  for (const HandoutInstance& i : vm.instances) {
    out += fmt::format("<tr><td>{}</td><td>{}</td><td><a href=\"{}\">{}</a></td><td>{}</td>",
                       e(i.name), e(i.version), e(i.url), e(i.url), e(i.db));
    if (handout.with_secrets) {
      out +=
          fmt::format("<td><code>{}</code></td>", e(i.db_password.empty() ? "-" : i.db_password));
    }
    out += "</tr>\n";
  }
  return out + "</table>\n";
}

nlohmann::ordered_json json_vm(const Handout& handout, const HandoutVm& vm) {
  nlohmann::ordered_json networks = nlohmann::ordered_json::array();
  for (const auto& [key, ip] : vm.networks) {
    networks.push_back({{"network", key}, {"ip", ip}});
  }
  nlohmann::ordered_json instances = nlohmann::ordered_json::array();
  for (const HandoutInstance& i : vm.instances) {
    nlohmann::ordered_json one = {
        {"name", i.name}, {"version", i.version}, {"url", i.url}, {"db", i.db}};
    if (handout.with_secrets) {
      one["db_password"] = i.db_password;
    }
    instances.push_back(one);
  }
  return {{"vm", vm.key},
          {"hostname", vm.hostname},
          {"address", vm.address},
          {"networks", networks},
          {"ssh", {{"labctl", vm.ssh_labctl}, {"plain", vm.ssh_plain}}},
          {"instances", instances}};
}

}  // namespace

Handout handout_of(const model::Lab& lab, const HandoutInputs& inputs) {
  Handout handout{lab.classroom, lab.title, inputs.secrets.has_value()};
  for (const model::Team& team : lab.teams) {
    if (std::find(inputs.teams.begin(), inputs.teams.end(), team.name) == inputs.teams.end()) {
      continue;
    }
    HandoutTeam sheet{team.name};
    for (const model::Vm& vm : team.vms) {
      sheet.vms.push_back(vm_of(lab, vm, inputs));
    }
    handout.teams.push_back(sheet);
  }
  return handout;
}

std::string html_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string render_markdown(const Handout& handout) {
  std::string out;
  for (const HandoutTeam& team : handout.teams) {
    out += out.empty() ? "" : "\n---\n\n";
    out += fmt::format("# {}\n\nClassroom {}, team {}.\n\n", heading(handout, team),
                       handout.classroom, team.name);
    out += fmt::format("Squash TM login on every instance: **{}** ({}).\n\n", login_text(),
                       k_login_note);
    for (const HandoutVm& vm : team.vms) {
      out += md_vm(handout, vm);
    }
  }
  return out;
}

std::string render_html(const Handout& handout) {
  const auto e = html_escape;
  std::string out = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<title>{}</title>\n<style>\nbody {{ font-family: sans-serif; }}\n"
      "section {{ page-break-after: always; }}\ntable {{ border-collapse: collapse; }}\n"
      "td, th {{ border: 1px solid #999; padding: 0.2em 0.5em; text-align: left; }}\n"
      "</style>\n</head>\n<body>\n",
      e(handout.title.empty() ? handout.classroom : handout.title));
  for (const HandoutTeam& team : handout.teams) {
    out += fmt::format("<section>\n<h1>{}</h1>\n<p>Classroom {}, team {}.</p>\n",
                       e(heading(handout, team)), e(handout.classroom), e(team.name));
    out += fmt::format("<p>Squash TM login on every instance: <strong>{}</strong> ({}).</p>\n",
                       e(login_text()), e(k_login_note));
    for (const HandoutVm& vm : team.vms) {
      out += html_vm(handout, vm);
    }
    out += "</section>\n";
  }
  return out + "</body>\n</html>\n";
}

std::string render_json(const Handout& handout) {
  nlohmann::ordered_json teams = nlohmann::ordered_json::array();
  for (const HandoutTeam& team : handout.teams) {
    nlohmann::ordered_json vms = nlohmann::ordered_json::array();
    for (const HandoutVm& vm : team.vms) {
      vms.push_back(json_vm(handout, vm));
    }
    teams.push_back({{"team", team.name}, {"vms", vms}});
  }
  nlohmann::ordered_json out = {{"classroom", handout.classroom},
                                {"title", handout.title},
                                {"login",
                                 {{"user", k_squash_default_user},
                                  {"password", k_squash_default_password},
                                  {"note", k_login_note}}},
                                {"teams", teams}};
  return out.dump(2) + "\n";
}

std::string render_handout(const Handout& handout, HandoutFormat format) {
  switch (format) {
    case HandoutFormat::html:
      return render_html(handout);
    case HandoutFormat::json:
      return render_json(handout);
    case HandoutFormat::markdown:
      break;
  }
  return render_markdown(handout);
}

}  // namespace labctl::cli

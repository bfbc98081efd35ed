#include "provision/converge/handout_render.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "provision/model/access.hpp"
#include "provision/ready/stages.hpp"

namespace labctl::converge {

namespace {

constexpr const char* k_login_note = "Squash TM's default account; change it at first login";

HandoutVm vm_of(const model::Lab& lab, const model::Vm& vm, const HandoutInputs& inputs) {
  auto instances = inputs.state.effective_instances(vm);
  std::sort(instances.begin(), instances.end(),
            [](const auto& a, const auto& b) { return a.port < b.port; });
  const Reach reach = reach_of(lab, vm, instances);
  HandoutVm out{vm.key, vm.hostname, reach.ssh_host, reach.ssh_port};
  for (const model::Nic& nic : vm.nics) {
    const std::string ip = inputs.state.nic_address(vm, nic);
    out.networks.emplace_back(nic.key, ip.empty() ? "-" : ip);
  }
  out.ssh_config = fmt::format("ssh -F {} {}", k_ssh_config_file, vm.key);
  out.ssh_plain = fmt::format("ssh -i {} -o UserKnownHostsFile={}{} {}@{}", key_file(vm.team),
                              k_known_hosts_file,
                              reach.ssh_port == 22 ? "" : fmt::format(" -p {}", reach.ssh_port),
                              lab.admin_user, reach.ssh_host);
  const squashtm::Secrets* secrets = nullptr;
  if (inputs.secrets) {
    auto it = inputs.secrets->find(vm.name);
    secrets = it == inputs.secrets->end() ? nullptr : &it->second;
  }
  for (const model::Instance& instance : instances) {
    HandoutInstance row{instance.name, instance.version,
                        fmt::format("http://{}/squash", reach.http.at(instance.port)),
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

// The files beside the sheet, and where the SSH commands run.
std::string files_text(const HandoutTeam& team, const std::string& quote) {
  return fmt::format(
      "Your team's files: {0}{1}{0} (your team's private SSH key), {0}{2}{0} and {0}{3}{0} "
      "(the VMs' host keys). Run the SSH commands in the folder that holds them.",
      quote, key_file(team.name), k_ssh_config_file, k_known_hosts_file);
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
  out += fmt::format("- SSH: `{}`\n", vm.ssh_config);
  out += fmt::format("- SSH without ssh_config: `{}`\n\n", vm.ssh_plain);
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
  out += fmt::format("<li>SSH: <code>{}</code></li>\n", e(vm.ssh_config));
  out += fmt::format("<li>SSH without ssh_config: <code>{}</code></li>\n</ul>\n", e(vm.ssh_plain));
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
  return {{"vm", vm.key},          {"hostname", vm.hostname},
          {"address", vm.address}, {"ssh_port", vm.ssh_port},
          {"networks", networks},  {"ssh", {{"config", vm.ssh_config}, {"plain", vm.ssh_plain}}},
          {"instances", instances}};
}

}  // namespace

// Where a student reaches the VM: the lab's published endpoints (`access:`) when it has
// them, else the VM's own address, which only machines on its network can reach.
Reach reach_of(const model::Lab& lab, const model::Vm& vm,
               const std::vector<model::Instance>& instances) {
  Reach reach{ready::vm_address(vm)};
  if (auto ssh = model::ssh_endpoint(lab, vm)) {
    reach.ssh_host = ssh->host;
    reach.ssh_port = ssh->port;
  }
  for (const model::Instance& instance : instances) {
    if (auto http = model::instance_endpoint(lab, vm, instance)) {
      reach.http[instance.port] = fmt::format("{}:{}", http->host, http->port);
    } else {
      reach.http[instance.port] = fmt::format("{}:{}", ready::vm_address(vm), instance.port);
    }
  }
  return reach;
}

std::string key_file(const std::string& team) {
  return team + ".key";
}

Handout handout_of(const model::Lab& lab, const HandoutInputs& inputs) {
  Handout handout{lab.classroom, lab.title, lab.admin_user, inputs.secrets.has_value()};
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
    out += fmt::format("{}\n\n", files_text(team, "`"));
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
    out += fmt::format("<p>{}</p>\n", e(files_text(team, "")));
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
    teams.push_back({{"team", team.name},
                     {"files",
                      {{"key", key_file(team.name)},
                       {"ssh_config", k_ssh_config_file},
                       {"known_hosts", k_known_hosts_file}}},
                     {"vms", vms}});
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

}  // namespace labctl::converge

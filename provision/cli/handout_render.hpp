#pragma once

// The hand-out sheet of `labctl handout`: per team, its VMs (addresses, how to log in over
// SSH), its Squash TM instances (URL, name, version) and Squash TM's default login. Pure:
// built from the model and state.json, rendered to Markdown, HTML or JSON; nothing here
// reads files or prints. DB passwords appear only when the caller passes them.

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "provision/model/lab.hpp"
#include "stacks/squashtm/render.hpp"

namespace labctl::cli {

// Squash TM's documented default account; every new instance starts with it.
constexpr const char* k_squash_default_user = "admin";
constexpr const char* k_squash_default_password = "admin";

enum class HandoutFormat { markdown, html, json };

struct HandoutInstance {
  std::string name, version, url, db;
  std::string db_password;  // "" unless secrets were given
};

struct HandoutVm {
  std::string key, hostname, address;
  std::vector<std::pair<std::string, std::string>> networks;  // network key, address
  std::string ssh_labctl;                                     // "labctl ssh team3 vm1"
  std::string ssh_plain;                                      // "ssh -i KEY ... student@IP"
  std::vector<HandoutInstance> instances;
};

struct HandoutTeam {
  std::string name;
  std::vector<HandoutVm> vms;
};

struct Handout {
  std::string classroom, title;
  bool with_secrets = false;
  std::vector<HandoutTeam> teams;
};

struct HandoutInputs {
  std::vector<std::string> teams;  // in the lab's order; already checked against the lab
  nlohmann::json state;            // state.json: instances added or removed during class
  std::string private_key;         // the classroom key, for the plain ssh command
  std::string known_hosts;         // the pinned host keys, for the plain ssh command
  // model::Vm::name -> instance -> DB password; absent = no secrets on the sheet.
  std::optional<std::map<std::string, squashtm::Secrets>> secrets;
};

Handout handout_of(const model::Lab& lab, const HandoutInputs& inputs);

std::string render_handout(const Handout& handout, HandoutFormat format);
std::string render_markdown(const Handout& handout);
std::string render_html(const Handout& handout);
std::string render_json(const Handout& handout);

// & < > " ' as character references.
std::string html_escape(const std::string& text);

}  // namespace labctl::cli

#include "provision/converge/identity.hpp"

#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "provision/sys/random.hpp"

namespace labctl::converge {

namespace fs = std::filesystem;

namespace {

struct Record {
  std::string id;
  std::string lab_file;
};

std::string absolute_lab_file(const model::Lab& lab) {
  std::error_code ec;
  const fs::path absolute = fs::absolute(lab.file, ec);
  const fs::path canonical = fs::weakly_canonical(absolute, ec);
  return (ec ? absolute : canonical).string();
}

Record record_in(const nlohmann::json& state) {
  const auto it = state.find("identity");
  if (it == state.end() || !it->is_object()) {
    return {};
  }
  return {it->value("id", ""), it->value("lab_file", "")};
}

// state.json of the classroom, read without creating its directory.
Result<nlohmann::json> peek_state(const std::string& classroom) {
  auto root = sys::default_state_root();
  if (!root) {
    return root.error();
  }
  const fs::path path = *root / classroom / "state.json";
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    return nlohmann::json::object();
  }
  auto text = sys::read_text_file(path);
  if (!text) {
    return text.error();
  }
  auto state = nlohmann::json::parse(*text, nullptr, false);
  return state.is_object() ? state : nlohmann::json::object();
}

Status check_owner(const model::Lab& lab, const Record& record, bool adopt) {
  const std::string mine = absolute_lab_file(lab);
  if (record.id.empty() || record.lab_file.empty() || record.lab_file == mine || adopt) {
    return {};
  }
  return Error::failure(fmt::format(
      "classroom {} on this machine belongs to another lab file, {} (identity {}); this is {}. "
      "Two lab files must not share a classroom name: rename this one's `classroom:`, or give "
      "--adopt if this file now is that classroom (moved or copied), and it takes the "
      "classroom over",
      lab.classroom, record.lab_file, record.id, mine));
}

}  // namespace

std::string new_identity() {
  return sys::random_hex128();
}

Result<std::string> read_identity(const model::Lab& lab, bool adopt) {
  auto state = peek_state(lab.classroom);
  if (!state) {
    return state.error();
  }
  const Record record = record_in(*state);
  if (auto st = check_owner(lab, record, adopt); !st) {
    return st.error();
  }
  return record.id;
}

Result<std::string> claim_identity(const model::Lab& lab, const sys::StateDir& state, bool adopt) {
  auto current = state.read_state();
  if (!current) {
    return current.error();
  }
  Record record = record_in(*current);
  if (auto st = check_owner(lab, record, adopt); !st) {
    return st.error();
  }
  const std::string mine = absolute_lab_file(lab);
  if (!record.id.empty() && record.lab_file == mine) {
    return record.id;
  }
  record.id = record.id.empty() ? new_identity() : record.id;
  const Status written = state.update_state([&](nlohmann::json& s) {
    s["identity"] = {{"id", record.id}, {"lab_file", mine}};
  });
  if (!written) {
    return written.error();
  }
  return record.id;
}

}  // namespace labctl::converge

#include "provision/converge/identity.hpp"

#include <filesystem>

#include <fmt/format.h>

#include "provision/sys/random.hpp"

namespace labctl::converge {

namespace fs = std::filesystem;

namespace {

std::string absolute_lab_file(const model::Lab& lab) {
  std::error_code ec;
  const fs::path absolute = fs::absolute(lab.file, ec);
  const fs::path canonical = fs::weakly_canonical(absolute, ec);
  return (ec ? absolute : canonical).string();
}

// The record in `state`; a state that cannot be read is never taken for a classroom without
// an identity (which would leave its objects on the hosts to another identity's care).
Result<sys::RecordedIdentity> record_in(const sys::StateDir& state) {
  auto current = state.read_state();
  if (!current) {
    return Error::failure(fmt::format(
        "the classroom's recorded identity cannot be read: {}: repair the file, or move it "
        "away and give --adopt to take the classroom's objects over with a new identity",
        current.error().message));
  }
  return current->identity;
}

Status check_owner(const model::Lab& lab, const sys::RecordedIdentity& record, bool adopt) {
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
  // Read without creating the classroom's directory.
  auto state = sys::StateDir::open_read_only(lab.classroom);
  auto record = state ? record_in(*state) : Result<sys::RecordedIdentity>(state.error());
  if (!record) {
    return record.error();
  }
  if (auto st = check_owner(lab, *record, adopt); !st) {
    return st.error();
  }
  return record->id;
}

Result<std::string> claim_identity(const model::Lab& lab, const sys::StateDir& state, bool adopt) {
  auto recorded = record_in(state);
  if (!recorded) {
    return recorded.error();
  }
  sys::RecordedIdentity record = *recorded;
  if (auto st = check_owner(lab, record, adopt); !st) {
    return st.error();
  }
  const std::string mine = absolute_lab_file(lab);
  if (!record.id.empty() && record.lab_file == mine) {
    return record.id;
  }
  record.id = record.id.empty() ? new_identity() : record.id;
  const Status written = state.update_state([&](sys::ClassroomState& s) {
    s.identity = {record.id, mine};
  });
  if (!written) {
    return written.error();
  }
  return record.id;
}

}  // namespace labctl::converge

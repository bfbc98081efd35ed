#pragma once

// Writes a team's hand-out files (handout_render.hpp) where the instructor asked: a
// directory per team, or one gzip'ed tar per team (libarchive) holding that directory; and
// what the files need from the state directory (the team's keys, the DB passwords); and
// `labctl handout`'s (and the console's downloads') sequence around them: the hand-out of a
// scope read from the state directory, then each team's files written.

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "provision/converge/handout_render.hpp"
#include "provision/plan/plan.hpp"
#include "provision/result.hpp"
#include "provision/sys/state.hpp"

namespace labctl::converge {

// `dir` is created (0700: the team's private key is in it) and the files written in it.
Status write_handout_dir(const std::filesystem::path& dir, const std::vector<HandoutFile>& files);
// `archive` (.tar.gz) holds `top`/ and the files in it, with their modes.
Status write_handout_archive(const std::filesystem::path& archive, const std::string& top,
                             const std::vector<HandoutFile>& files);

// The team's key and its VMs' pinned host keys, made now if `up` has not made them yet.
Result<TeamSecrets> team_secrets(const sys::StateDir& state, const model::Team& team);
// Every covered VM's DB passwords, as `up` made them (made now if `up` has not run yet).
Result<std::map<std::string, squashtm::Secrets>> secrets_of(const model::Lab& lab,
                                                            const sys::StateDir& state,
                                                            const sys::ClassroomState& current,
                                                            const plan::Scope& scope);

// A hand-out and the state directory it was read from (the teams' keys are there).
struct PreparedHandout {
  Handout handout;
  sys::StateDir state;
};

// The hand-out of the scope's teams, in the lab's order, from the classroom's state. Only
// `with_secrets` (the DB passwords on the sheet) or `writes` (files to be written) open the
// state directory writable: the keys and passwords `up` will use are made now if need be.
Result<PreparedHandout> prepare_handout(const model::Lab& lab, const plan::Scope& scope,
                                        bool with_secrets, bool writes);

struct WrittenHandout {
  std::string team;
  std::filesystem::path path;
};

// Each team's files (handout_files) in `out_dir`/<classroom>-<team>/, or with `archive` as
// `out_dir`/<classroom>-<team>.tar.gz; what was written, in the hand-out's team order.
Result<std::vector<WrittenHandout>> write_team_handouts(const model::Lab& lab,
                                                        const PreparedHandout& prepared,
                                                        HandoutFormat format,
                                                        const std::filesystem::path& out_dir,
                                                        bool archive);

}  // namespace labctl::converge

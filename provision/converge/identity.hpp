#pragma once

// The classroom's identity (model::Lab::identity): 128 random bits as 32 hex digits, made by
// the first `up` and kept in the state directory's state.json with the absolute path of the
// lab file that made it:
//   "identity": {"id": "5c1f...", "lab_file": "/home/ann/cd26/labctl.yaml"}
// Every tag on the host carries the id. The state directory is keyed by the classroom's
// name, so a second lab file with the same `classroom:` finds the first one's record: it is
// refused unless `--adopt` says that it now owns the classroom (the record takes its path).

#include <string>

#include "provision/model/lab.hpp"
#include "provision/result.hpp"
#include "provision/sys/state.hpp"

namespace labctl::converge {

// The recorded identity, read without creating anything (plan, up --dry-run, down): "" when
// none is recorded. An Error when the record belongs to another lab file, unless `adopt`, and
// when the state cannot be read.
Result<std::string> read_identity(const model::Lab& lab, bool adopt);

// The same for `up` and `reset`: makes and records an identity when there is none, and with
// `adopt` records this lab file as the owner.
Result<std::string> claim_identity(const model::Lab& lab, const sys::StateDir& state, bool adopt);

// 32 random hex digits.
std::string new_identity();

}  // namespace labctl::converge

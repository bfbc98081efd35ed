#pragma once

// `up` as one sequence, for the CLI and a web console alike: the checks that need no host
// (stand-ins built for a stand-in classroom, the Squash TM versions against the registries,
// the classroom's identity), the teams' placement, the classroom registry's check, then the
// session's own checks on every host, and only then the changes: the state records
// (stand-in flag, placement, students' port range), the registry started, the hosts
// converged while the registry's cache fills.

#include <functional>
#include <vector>

#include "provision/converge/notify.hpp"
#include "provision/converge/placement.hpp"
#include "provision/converge/session.hpp"

namespace labctl::converge {

struct UpRequest {
  plan::Scope scope;
  bool all = false;      // --all: every team, and objects of teams no longer in the lab go
  bool standin = false;  // --standin: stand-in images built on this host (standin.hpp)
  bool dry_run = false;  // the checks and the placement only: nothing is built or recorded
  HostChoice hosts;
  Options options;
};

// What `up` checked and decided before any change.
struct UpChecked {
  bool standin = false;       // this request's --standin, or an earlier `up --standin`
  plan::Placement placement;  // this run's (not recorded in a dry run)
  std::vector<HostTeams> by_host;
  bool pulls = false;  // some host boots guests that pull images (not libvirt's test driver)
};

// Everything `up` checks without changing a host. Sets lab.identity (read, not claimed). In
// a dry run no stand-in is built.
Result<UpChecked> check_up(const Notify& notify, model::Lab& lab, const UpRequest& request);

// The scope of a set of hosts' teams (`all` kept only when they are every team).
plan::Scope scope_of_hosts(const model::Lab& lab, const std::vector<HostWork>& hosts, bool all);

// `up` after check_up: the session's checks on every host, the records, the registry, then
// the hosts converged. `reporter` is asked for once, right before the first host changes (a
// reporter's clock starts when it is made); it is finished before this returns.
Result<UpResult> run_up(Session& session, const Notify& notify, const UpRequest& request,
                        const UpChecked& checked, const std::function<sys::Reporter&()>& reporter);

}  // namespace labctl::converge

#pragma once

// `up --standin`, for machines that reach no Docker Hub (this project's development and CI
// machines): stand-in images (stacks/squashtm/standin/build-standin: NOT Squash TM, see
// docs/squashtm.md) are built once on the host and pushed under the real names to the host's
// stand-in registry, a plain docker-registry on 127.0.0.1, port = the classroom registry's
// port + 1, kept under <registry cache>/standin/. The classroom registry then caches that
// registry instead of Docker Hub, and the VMs pull through it as they would in class.

#include <string>
#include <vector>

#include "provision/converge/notify.hpp"
#include "provision/model/lab.hpp"
#include "provision/plan/plan.hpp"
#include "provision/registry/reference.hpp"
#include "provision/registry/supervise.hpp"

namespace labctl::converge {

// The stand-in registry's settings, and its URL ("http://127.0.0.1:5001").
registry::Settings standin_settings(const model::Lab& lab);
std::string standin_upstream(const model::Lab& lab);

// The classroom was brought up with --standin (its state says so); no state: no. A state
// that cannot be read is an error naming the file.
Result<bool> classroom_is_standin(const std::string& classroom);

// Starts the stand-in registry when it does not run, then builds and pushes the images of
// `refs` it lacks. An image the stand-in builder cannot make is an error naming it.
Status ensure_standins(const Notify& notify, const model::Lab& lab,
                       const std::vector<registry::Reference>& refs);

// ensure_standins for every image the scope's instances need.
Status ensure_lab_standins(const Notify& notify, const model::Lab& lab, const plan::Scope& scope);

// Stops the stand-in registry (`down --all` of the last classroom); its images stay.
void stop_standins(const Notify& notify, const model::Lab& lab);

}  // namespace labctl::converge

#pragma once

// The database password of each Squash TM instance on a VM: generated once, kept 0600 in the
// state directory (`<vm>-<instance>-db`), and handed to the seed, the deploy and `squash add`.

#include <string>
#include <vector>

#include "provision/model/lab.hpp"
#include "provision/result.hpp"
#include "provision/sys/state.hpp"
#include "stacks/squashtm/render.hpp"

namespace labctl::apply {

// DB passwords, generated once per instance and kept 0600 in the state directory.
Result<squashtm::Secrets> stack_secrets(const sys::StateDir& state, const model::Vm& vm,
                                        const std::vector<model::Instance>& instances);
// Once the instance's database is gone, so is its password: a new instance of that name gets
// a new one.
Status forget_stack_secret(const sys::StateDir& state, const model::Vm& vm,
                           const std::string& instance);

}  // namespace labctl::apply

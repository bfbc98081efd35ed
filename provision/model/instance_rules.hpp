#pragma once

// The rules of a VM's Squash TM instances, one home for the lab file's loader and for
// `squash add`: the port range and the next free port from 8081, a port used twice, the
// name derived from a version, and the VM's memory budget.

#include <set>
#include <string>
#include <vector>

#include "provision/model/lab.hpp"

namespace labctl::model {

constexpr int k_first_instance_port = 8081;  // where ports are given out from
constexpr int k_lowest_instance_port = 1024;
constexpr int k_highest_instance_port = 65535;

// The lowest port from `from` (8081) that `used` does not hold; 0 when none is left. A
// caller giving out many ports passes the last one it gave as `from`, which keeps it linear.
int next_free_port(const std::set<int>& used, int from = k_first_instance_port);
// The ports `instances` use.
std::set<int> ports_of(const std::vector<Instance>& instances);

// "" when `port` may carry an instance, else why not.
std::string port_range_complaint(int port);
// Port `port` of VM `vm` is already instance `other`'s.
std::string port_taken_complaint(int port, const std::string& other, const std::string& vm);

// The name an instance of `version` gets when none is given: "v6-1-0", then "v6-1-0-2", ...,
// unique among `existing` and within the 31 characters of a compose project.
std::string default_instance_name(const std::string& version,
                                  const std::vector<Instance>& existing);

// The VM's memory holds the Squash TM stack of `instances` (stack_footprint).
bool stack_fits(const Vm& vm, const std::vector<Instance>& instances);

}  // namespace labctl::model

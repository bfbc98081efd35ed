#pragma once

// Hand-built model values for the stack's tests (the YAML loader is not needed here).

#include <string>

#include "provision/model/lab.hpp"
#include "stacks/squashtm/render.hpp"

namespace labctl::squashtm::testlab {

inline model::Instance instance(const std::string& name, const std::string& version, int port,
                                model::DbKind db = model::DbKind::postgresql,
                                const std::string& image = "squashtest/squash-tm") {
  model::Instance i;
  i.name = name;
  i.version = version;
  i.port = port;
  i.db = db;
  i.image = image;
  return i;
}

inline model::Vm vm(model::Bytes memory = 2 * model::k_gib) {
  model::Vm v;
  v.key = "vm1";
  v.name = "cd26-team3-vm1";
  v.team = "team3";
  v.hostname = "team3-vm1";
  v.index = 1;
  v.memory = memory;
  return v;
}

inline Owner owner() {
  return {"cd26", "team3", "cd26-team3-vm1"};
}

}  // namespace labctl::squashtm::testlab

#pragma once

// What labctl records of one classroom between commands: state.json in its state directory
// (sys/state.hpp reads and writes it), typed, with the one reader and writer of its JSON.
//
// Why in sys/: StateDir, the lowest layer that knows the state directory, reads and writes
// it, and sys/ already depends on model/ (host_ports.hpp), so the record of added instances
// can hold model::Instance; converge/, apply/ and cli/, its users, all sit above both.
//
// The file, version 1. Files written before the version field hold the same keys and read
// as version 1; absent keys read as empty; a key of the wrong type, or a version newer than
// k_version, is an error (the file is never taken for an empty state).
//   {"version": 1,
//    "identity": {"id": "5c1f...", "lab_file": "/home/ann/cd26/labctl.yaml"},
//    "placement": {"team1": "qemu+ssh://host-a/system"},
//    "instances": {"team1/vm2": {"added": [{"name": "exam", "version": "6.1.0", "port": 8082,
//                                           "db": "postgresql", "image": "squashtest/squash-tm",
//                                           "memory": 1073741824}],
//                                "removed": ["main"]}},
//    "addresses": {"cd26-team1-vm1": {"campus": "192.168.77.50"}},
//    "standin": true,
//    "access": {"first": 20000, "last": 29999, "listen": "0.0.0.0"}}

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "provision/model/lab.hpp"
#include "provision/result.hpp"

namespace labctl::sys {

// The classroom's identity (converge/identity.hpp) and the lab file that owns it.
struct RecordedIdentity {
  std::string id;        // 32 hex digits; "" = none recorded yet
  std::string lab_file;  // absolute path
};

// The host ports the lab's access (`access:`) uses: other classrooms' `plan` keep apart.
struct RecordedAccess {
  int first = 0;
  int last = 0;
  std::string listen;
};

// What `squash add`, `squash upgrade` and `squash rm` changed on one VM.
struct InstanceChanges {
  // Only the recorded fields (name, version, port, db, image, memory); one of a lab file
  // instance's name stands for it.
  std::vector<model::Instance> added;
  std::vector<std::string> removed;  // names of lab file instances no longer run
};

struct ClassroomState {
  static constexpr int k_version = 1;  // the newest this labctl reads, and the one it writes

  int version = k_version;
  RecordedIdentity identity;
  std::map<std::string, std::string> placement;      // team -> host URI, recorded by `up`
  std::map<std::string, InstanceChanges> instances;  // "team/vm key" -> its changes
  // VM name -> network key -> the IPv4 address the guest reported on a LAN's DHCP.
  std::map<std::string, std::map<std::string, std::string>> addresses;
  bool standin = false;  // `up --standin`: the stand-in registry is the cache's upstream
  std::optional<RecordedAccess> access;

  // The VM's instances: the lab file's, plus those `squash add` recorded, minus those
  // `squash rm` recorded.
  std::vector<model::Instance> effective_instances(const model::Vm& vm) const;
  // A new record replaces an earlier one of that name (an upgrade, a re-add).
  void record_added(const model::Vm& vm, const model::Instance& instance);
  void record_removed(const model::Vm& vm, const std::string& name);

  // Replaces what was learned of the VM: network key -> address.
  void record_addresses(const model::Vm& vm, const std::map<std::string, std::string>& learned);
  // The address the VM has on a NIC: the static one, else the one last learned ("" unknown).
  std::string nic_address(const model::Vm& vm, const model::Nic& nic) const;
};

nlohmann::json to_json(const ClassroomState& state);
// The text of a state.json; `file` names it in errors.
Result<ClassroomState> parse_classroom_state(std::string_view text, const std::string& file);

// What state.json records of the lab's access.
RecordedAccess access_record(const model::AccessSettings& access);

}  // namespace labctl::sys

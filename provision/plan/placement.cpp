#include "provision/plan/placement.hpp"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

namespace labctl::plan {

namespace {

// A host while placing: its free memory may go below zero when pins overcommit it.
struct Room {
  const HostFacts* facts = nullptr;
  std::int64_t free = 0;
  model::Bytes placed = 0;  // by this classroom's teams
};

std::int64_t signed_bytes(model::Bytes bytes) {
  return static_cast<std::int64_t>(bytes);
}

std::vector<Room> rooms_of(const std::vector<HostFacts>& hosts) {
  std::vector<Room> rooms;
  rooms.reserve(hosts.size());
  for (const HostFacts& host : hosts) {
    rooms.push_back({&host, signed_bytes(host.total) - signed_bytes(host.reserve) -
                                signed_bytes(host.used_by_others)});
  }
  return rooms;
}

Room* find_room(std::vector<Room>& rooms, const std::string& uri) {
  auto it = std::find_if(rooms.begin(), rooms.end(),
                         [&](const Room& room) { return room.facts->uri == uri; });
  return it == rooms.end() ? nullptr : &*it;
}

std::string free_size(std::int64_t free) {
  return free < 0 ? "-" + format_size(model::Bytes(-free)) : format_size(model::Bytes(free));
}

std::string describe(const Room& room) {
  const HostFacts& f = *room.facts;
  if (!f.reachable) {
    return fmt::format("{} is unreachable ({})", f.uri, f.error);
  }
  return fmt::format(
      "{} has {} free ({} total, reserve {}, {} used by others, {} by teams "
      "placed there)",
      f.uri, free_size(room.free), format_size(f.total), format_size(f.reserve),
      format_size(f.used_by_others), format_size(room.placed));
}

std::string hosts_free(const std::vector<Room>& rooms) {
  std::string hosts;
  for (const Room& room : rooms) {
    hosts += (hosts.empty() ? "" : "; ") + describe(room);
  }
  return hosts;
}

// With `overcommit` a team is refused only when no host is reachable.
Error fits_nowhere(const TeamDemand& team, const std::vector<Room>& rooms, bool overcommit) {
  const char* advice =
      overcommit ? "No host is reachable"
                 : "Add a host, give the teams less memory, bring fewer teams up, or give "
                   "--force to overcommit";
  return Error::failure(fmt::format(
      "cannot place {}: it needs {} ({} VMs) and no host has that much free after its reserve: "
      "{}. {}",
      team.team, format_size(team.memory), team.vms, hosts_free(rooms), advice));
}

std::string overcommit_note(const TeamDemand& team, const Room& room,
                            const std::vector<Room>& rooms) {
  return fmt::format(
      "{} overcommits {}: it needs {} ({} VMs) and no host has that much free after its "
      "reserve: {}",
      team.team, room.facts->uri, format_size(team.memory), team.vms, hosts_free(rooms));
}

// A need every reachable host meets, however full (overcommit).
constexpr std::int64_t k_any_need = std::numeric_limits<std::int64_t>::min();

// The reachable host with the most free memory that holds `need`; ties go to host order.
Room* roomiest(std::vector<Room>& rooms, std::int64_t need) {
  Room* best = nullptr;
  for (Room& room : rooms) {
    if (room.facts->reachable && room.free >= need && (best == nullptr || room.free > best->free)) {
      best = &room;
    }
  }
  return best;
}

void take(Placement& out, Room& room, const TeamDemand& team) {
  out[team.team] = room.facts->uri;
  room.free -= signed_bytes(team.memory);
  room.placed += team.memory;
}

// Pins first, then teams placed before on a host still listed: neither moves.
Result<Placement> place_fixed(const PlacementInput& input, std::vector<Room>& rooms) {
  Placement out;
  for (const TeamDemand& team : input.teams) {
    if (!team.pin.empty()) {
      Room* room = find_room(rooms, team.pin);
      if (room == nullptr) {
        return Error::lab(
            fmt::format("{} is pinned to host '{}', which is not in hosts:", team.team, team.pin));
      }
      take(out, *room, team);
    }
  }
  for (const TeamDemand& team : input.teams) {
    auto before = input.previous.find(team.team);
    if (team.pin.empty() && before != input.previous.end()) {
      if (Room* room = find_room(rooms, before->second)) {
        take(out, *room, team);
      }
    }
  }
  return out;
}

}  // namespace

Result<Placement> place_teams(const PlacementInput& input,
                              std::vector<std::string>* overcommitted) {
  Placement out;
  if (input.hosts.empty()) {
    for (const TeamDemand& team : input.teams) {
      out[team.team] = team.pin.empty() ? input.default_uri : team.pin;
    }
    return out;
  }
  std::vector<Room> rooms = rooms_of(input.hosts);
  auto fixed = place_fixed(input, rooms);
  if (!fixed) {
    return fixed.error();
  }
  out = std::move(*fixed);
  for (const TeamDemand& team : input.teams) {
    if (out.count(team.team) != 0) {
      continue;
    }
    Room* room = roomiest(rooms, signed_bytes(team.memory));
    if (room == nullptr && input.overcommit) {
      room = roomiest(rooms, k_any_need);
      if (room != nullptr && overcommitted != nullptr) {
        overcommitted->push_back(overcommit_note(team, *room, rooms));
      }
    }
    if (room == nullptr) {
      return fits_nowhere(team, rooms, input.overcommit);
    }
    take(out, *room, team);
  }
  return out;
}

std::vector<TeamDemand> team_demands(const model::Lab& lab, const Scope& scope,
                                     const Placement& previous) {
  std::vector<TeamDemand> out;
  for (const model::Team& team : lab.teams) {
    if (!scope.covers(team.name) && previous.count(team.name) == 0) {
      continue;
    }
    TeamDemand demand{team.name, 0, int(team.vms.size()), team.host};
    for (const model::Vm& vm : team.vms) {
      demand.memory += vm.memory;
    }
    out.push_back(std::move(demand));
  }
  return out;
}

HostFacts host_facts(const model::Host& host, const Result<hv::HostInfo>& info,
                     const Result<hv::Inventory>& inventory) {
  HostFacts facts{host.uri, 0, 0, host.reserve, true, ""};
  if (!info || !inventory) {
    facts.reachable = false;
    facts.error = !info ? info.error().message : inventory.error().message;
    return facts;
  }
  facts.total = info->memory_total;
  const model::Bytes used =
      info->memory_total > info->memory_free ? info->memory_total - info->memory_free : 0;
  model::Bytes ours = 0;
  for (const hv::Object& object : inventory->objects) {
    if (object.kind == hv::ObjectKind::domain && object.state != hv::PowerState::off) {
      ours += object.memory;
    }
  }
  facts.used_by_others = used > ours ? used - ours : 0;
  return facts;
}

}  // namespace labctl::plan

#pragma once

// What the host must not hold, and must hold, before `up` changes anything; pure, from the
// inventory (hypervisor.hpp). Found by `plan` (and so by `up --dry-run`) as well as by `up`.
//  - Names the classroom needs that something not ours holds: a domain, network or pool of
//    that name, a bridge device a created network would take. Never touched: `up` refuses.
//  - The classroom's own domains and networks tagged by another identity: another lab file
//    with the same classroom name, or tags written before classrooms had identities.
//    `--adopt` re-tags them with the lab's identity (Lab::identity).
//  - Bridges that a `kind: bridge` or `ovs` network joins and that the host does not have.

#include <string>
#include <vector>

#include "hypervisors/hypervisor.hpp"
#include "provision/model/lab.hpp"
#include "provision/plan/plan.hpp"

namespace labctl::plan {

// Conflicts over the names the scope's teams need (and the classroom's pool), then every
// object of the classroom tagged by another identity; in that order, each part stable.
std::vector<Conflict> find_conflicts(const model::Lab& lab, const hv::Inventory& inventory,
                                     const Scope& scope);

// Only the classroom's objects tagged by another identity (what `down` must not delete).
std::vector<Conflict> ownership_conflicts(const model::Lab& lab, const hv::Inventory& inventory);

// The inventory's domains and networks that `--adopt` re-tags: those tagged by another
// identity, or by none.
std::vector<const hv::Object*> adoptable_objects(const model::Lab& lab,
                                                 const hv::Inventory& inventory);

// An Error naming each conflict and what to do; ok when there is none, or when `adopt` is
// given and every conflict is adoptable.
Status refuse_conflicts(const std::vector<Conflict>& conflicts, const std::string& uri, bool adopt);

// The bridges the scope's bridge and ovs networks join must exist on the host (when the
// backend can list its devices: Inventory::devices).
Status check_bridges(const model::Lab& lab, const hv::Inventory& inventory, const Scope& scope);

}  // namespace labctl::plan

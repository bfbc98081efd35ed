// `labctl squash add|rm|ls|upgrade`: one VM's Squash TM instances during class, through
// squashtm::Lifecycle over SSH. state.json records what was added or removed, so that `up`
// and `reset` deploy the same instances again.

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "provision/apply/guest.hpp"
#include "provision/cli/common.hpp"
#include "provision/cli/squash_instance.hpp"
#include "provision/cli/standin.hpp"
#include "provision/cli/versions.hpp"
#include "provision/converge/guest_ssh.hpp"
#include "provision/model/access.hpp"
#include "provision/ready/stages.hpp"
#include "provision/registry/lab_images.hpp"
#include "stacks/squashtm/health.hpp"
#include "stacks/squashtm/lifecycle.hpp"

namespace labctl::cli {

namespace {

struct AddArgs {
  std::string team, vm, name, version, db = "postgresql";
  int port = 0;
};

struct RmArgs {
  std::string team, vm, name;
  bool keep_data = false;
};

struct UpgradeArgs {
  std::string team, vm, name, version;
  bool force = false;
};

// One VM of the lab file with the classroom's state directory and state.json.
struct Target {
  model::Lab lab;
  const model::Vm* vm = nullptr;  // into `lab`: its vectors keep their buffers when moved
  sys::StateDir state;
  nlohmann::json current;

  std::vector<model::Instance> instances() const {
    return apply::effective_instances(*vm, current);
  }
  std::string where() const { return vm->team + "/" + vm->key; }
  VmRef ref() const { return {lab, state, *vm}; }
};

Result<Target> target_of(const GlobalOptions& global, const std::string& team,
                         const std::string& vm) {
  auto found = find_vm(global, team, vm);
  if (!found) {
    return found.error();
  }
  auto state = sys::StateDir::open(found->first.classroom);
  if (!state) {
    return state.error();
  }
  auto current = state->read_state();
  if (!current) {
    return current.error();
  }
  return Target{std::move(found->first), found->second, *state, *current};
}

Result<model::Instance> recorded(const Target& t, const std::string& name) {
  std::string known;
  for (const model::Instance& instance : t.instances()) {
    if (instance.name == name) {
      return instance;
    }
    known += (known.empty() ? "" : ", ") + instance.name;
  }
  return Error::usage(fmt::format("{} has no instance '{}' (instances: {})", t.where(), name,
                                  known.empty() ? "none" : known));
}

std::string url_of(const model::Vm& vm, int port) {
  return fmt::format("http://{}:{}/squash", ready::vm_address(vm), port);
}

Result<model::DbKind> db_of(const std::string& db) {
  if (db == "postgresql") {
    return model::DbKind::postgresql;
  }
  if (db == "mariadb") {
    return model::DbKind::mariadb;
  }
  if (db == "h2") {
    return model::DbKind::h2;
  }
  return Error::usage(fmt::format("--db {}: use postgresql, mariadb or h2", db));
}

// The new instance's URL, and as students see it when the lab publishes it.
void print_instance(const GlobalOptions& global, const Target& t, const model::Instance& instance) {
  const auto published = model::instance_endpoint(t.lab, *t.vm, instance);
  const std::string url = url_of(*t.vm, instance.port);
  if (global.json) {
    global.output->document = {{"team", t.vm->team},
                               {"vm", t.vm->key},
                               {"name", instance.name},
                               {"version", instance.version},
                               {"url", url}};
    if (published) {
      global.output->document["published_url"] = published->student_form(t.lab.admin_user);
    }
  } else if (published) {
    fmt::print("{} {} {} {} (private {})\n", t.where(), instance.name, instance.version,
               published->student_form(t.lab.admin_user), url);
  } else {
    fmt::print("{} {} {} {}\n", t.where(), instance.name, instance.version, url);
  }
}

// The instance's image exists (a missing tag is refused with the nearest ones); a stand-in
// classroom gets the version's stand-in built first (any version has one).
Status image_ready(const GlobalOptions& global, const model::Lab& lab,
                   const model::Instance& instance) {
  auto image = registry::squash_image(instance);
  if (!image) {
    return image.error();
  }
  const bool standin = classroom_is_standin(lab.classroom);
  if (standin) {
    std::vector<registry::Reference> refs{*image};
    const char* db = registry::db_image(instance.db);
    if (db != nullptr) {
      if (auto db_ref = registry::parse_reference(db); db_ref) {
        refs.push_back(*db_ref);
      }
    }
    if (auto st = ensure_standins(global, lab, refs); !st) {
      return st;
    }
  }
  return check_version_of(global, lab, standin, *image);
}

Status run_add(const GlobalOptions& global, const AddArgs& args) {
  auto t = target_of(global, args.team, args.vm);
  auto db = db_of(args.db);
  if (!t || !db) {
    return !t ? t.error() : db.error();
  }
  NewInstanceArgs wanted{args.name, args.version,        args.port,
                         *db,       t->lab.squash_image, t->lab.instance_memory};
  auto instance = new_instance(*t->vm, t->instances(), wanted);
  if (!instance) {
    return instance.error();
  }
  // Checked before the VM is touched.
  if (auto st = image_ready(global, t->lab, *instance); !st) {
    return st;
  }
  auto remote = converge::connect_remote(t->lab, t->state, *t->vm);
  if (!remote) {
    return remote.error();
  }
  if (auto st = add_recorded(**remote, t->ref(), *instance); !st) {
    return st;
  }
  print_instance(global, *t, *instance);
  return {};
}

Status run_rm(const GlobalOptions& global, const RmArgs& args) {
  auto t = target_of(global, args.team, args.vm);
  if (!t) {
    return t.error();
  }
  if (auto instance = recorded(*t, args.name); !instance) {
    return instance.error();
  }
  auto remote = converge::connect_remote(t->lab, t->state, *t->vm);
  if (!remote) {
    return remote.error();
  }
  if (auto st = rm_recorded(**remote, t->ref(), args.name, args.keep_data); !st) {
    return st;
  }
  if (global.json) {
    global.output->document = {{"team", t->vm->team},
                               {"vm", t->vm->key},
                               {"removed", args.name},
                               {"kept_data", args.keep_data}};
  }
  return {};
}

Status run_upgrade(const GlobalOptions& global, const UpgradeArgs& args) {
  auto t = target_of(global, args.team, args.vm);
  if (!t) {
    return t.error();
  }
  auto instance = recorded(*t, args.name);
  auto version = check_version(args.version);
  if (!instance || !version) {
    return !instance ? instance.error() : version.error();
  }
  model::Instance target = *instance;
  target.version = args.version;
  if (auto st = image_ready(global, t->lab, target); !st) {
    return st;
  }
  auto remote = converge::connect_remote(t->lab, t->state, *t->vm);
  if (!remote) {
    return remote.error();
  }
  auto done = upgrade_recorded(**remote, t->ref(), *instance, args.version, args.force);
  if (!done) {
    return done.error();
  }
  if (global.json) {
    global.output->document = {{"team", t->vm->team},
                               {"vm", t->vm->key},
                               {"name", args.name},
                               {"from", done->result.from_version},
                               {"to", done->result.to_version},
                               {"url", url_of(*t->vm, instance->port)},
                               {"dump_kind", done->result.dump_kind},
                               {"dump", done->dump.string()}};
    return {};
  }
  fmt::print("{} {} {} -> {} {}\ndump ({}): {}\n", t->where(), args.name, done->result.from_version,
             done->result.to_version, url_of(*t->vm, instance->port), done->result.dump_kind,
             done->dump.string());
  return {};
}

// One row of `squash ls`: what state.json records and what the VM runs, merged by name.
struct LsRow {
  std::string team, vm, name, version, url, state = "absent", docker_health;
  std::string detail;  // why the VM could not be listed
  int port = 0;
  std::optional<model::Endpoint> published;  // students' access (`access:`)
  std::chrono::seconds uptime{0};
  int restarts = 0;
  bool is_recorded = false;  // in the lab file or recorded by `squash add`
  bool standin = false;      // the classroom runs the stand-in stack (`up --standin`)
  squashtm::Health health;
};

LsRow& row_for(std::vector<LsRow>& rows, const model::Vm& vm, const model::Instance& instance) {
  for (LsRow& row : rows) {
    if (row.name == instance.name) {
      return row;
    }
  }
  rows.push_back({vm.team, vm.key, instance.name, instance.version, url_of(vm, instance.port)});
  rows.back().port = instance.port;
  return rows.back();
}

void merge_running(std::vector<LsRow>& rows, const model::Vm& vm,
                   const std::vector<squashtm::InstanceStatus>& running) {
  for (const squashtm::InstanceStatus& status : running) {
    LsRow& row = row_for(rows, vm, status.instance);
    row.version = status.instance.version;  // what runs wins over what was recorded
    row.state = status.state;
    row.docker_health = status.health;
    row.uptime = status.uptime;
    row.restarts = status.restarts;
  }
}

std::vector<LsRow> list_vm(const model::Lab& lab, const sys::StateDir& state,
                           const nlohmann::json& current, const model::Vm& vm) {
  std::vector<LsRow> rows;
  for (const model::Instance& instance : apply::effective_instances(vm, current)) {
    row_for(rows, vm, instance).is_recorded = true;
  }
  auto remote = converge::connect_remote(lab, state, vm);
  auto running = remote ? squashtm::Lifecycle(**remote, squashtm::owner_of(lab.classroom, vm), vm,
                                              squashtm::StackOptions{})
                              .ls()
                        : Result<std::vector<squashtm::InstanceStatus>>(remote.error());
  if (running) {
    merge_running(rows, vm, *running);
  } else {
    for (LsRow& row : rows) {
      row.state = "unreachable";
      row.detail = running.error().message;
    }
  }
  for (LsRow& row : rows) {
    row.health =
        squashtm::probe_health(ready::vm_address(vm), row.port, std::chrono::milliseconds(1500));
    row.standin = current.value("standin", false);
    model::Instance instance;
    instance.name = row.name;
    instance.port = row.port;
    row.published = model::instance_endpoint(lab, vm, instance);
  }
  return rows;
}

std::string health_text(const squashtm::Health& health) {
  if (health.healthy) {
    return "up";
  }
  return health.http_status != 0 ? fmt::format("HTTP {}", health.http_status) : "down";
}

std::string uptime_text(std::chrono::seconds uptime) {
  const auto s = uptime.count();
  if (s <= 0) {
    return "-";
  }
  if (s >= 86400) {
    return fmt::format("{}d{}h", s / 86400, s % 86400 / 3600);
  }
  if (s >= 3600) {
    return fmt::format("{}h{}m", s / 3600, s % 3600 / 60);
  }
  return s >= 60 ? fmt::format("{}m", s / 60) : fmt::format("{}s", s);
}

std::string state_text(const LsRow& row) {
  std::string text = row.state;
  if (!row.docker_health.empty()) {
    text += " (" + row.docker_health + ")";
  }
  if (row.restarts > 0) {
    text += fmt::format(", {} restarts", row.restarts);
  }
  return row.is_recorded ? text : text + ", not recorded";
}

void print_ls_table(const std::vector<LsRow>& rows) {
  const bool published = std::any_of(rows.begin(), rows.end(),
                                     [](const LsRow& row) { return row.published.has_value(); });
  std::vector<std::vector<std::string>> table;
  table.reserve(rows.size());
  for (const LsRow& row : rows) {
    table.push_back({row.team, row.vm, row.name,
                     row.standin ? row.version + " (standin)" : row.version, row.url,
                     health_text(row.health), state_text(row), uptime_text(row.uptime)});
    if (published) {
      table.back().insert(table.back().begin() + 4,
                          row.published ? row.published->student_form("") : "-");
    }
  }
  std::vector<std::string> header = {"TEAM", "VM",     "NAME",  "VERSION",
                                     "URL",  "HEALTH", "STATE", "UPTIME"};
  if (published) {
    header.insert(header.begin() + 4, "PUBLISHED");
  }
  print_table(header, table);
}

void print_ls(const GlobalOptions& global, const std::vector<LsRow>& rows) {
  if (!global.json) {
    print_ls_table(rows);
    return;
  }
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const LsRow& row : rows) {
    out.push_back({{"team", row.team},
                   {"vm", row.vm},
                   {"name", row.name},
                   {"version", row.version},
                   {"port", row.port},
                   {"url", row.url},
                   {"healthy", row.health.healthy},
                   {"http_status", row.health.http_status},
                   {"state", row.state},
                   {"docker_health", row.docker_health},
                   {"uptime_seconds", row.uptime.count()},
                   {"restarts", row.restarts},
                   {"recorded", row.is_recorded},
                   {"standin", row.standin},
                   {"detail", row.detail}});
    if (row.published) {
      out.back()["published_url"] = row.published->student_form("");
      out.back()["published_port"] = row.published->port;
    }
  }
  global.output->document = std::move(out);
}

Status run_ls(const GlobalOptions& global, const std::string& team) {
  auto lab = load(global);
  if (!lab) {
    return lab.error();
  }
  auto scope =
      scope_of(*lab, team.empty() ? std::vector<std::string>{} : std::vector{team}, team.empty());
  auto state =
      scope ? sys::StateDir::open_read_only(lab->classroom) : Result<sys::StateDir>(scope.error());
  auto current = state ? state->read_state() : Result<nlohmann::json>(state.error());
  if (!current) {
    return current.error();
  }
  std::vector<const model::Vm*> vms;
  for (const model::Team& t : lab->teams) {
    for (const model::Vm& vm : t.vms) {
      if (scope->covers(t.name)) {
        vms.push_back(&vm);
      }
    }
  }
  std::vector<std::vector<LsRow>> per_vm(vms.size());
  {
    std::vector<std::jthread> threads;  // one SSH session per VM, all at once
    for (std::size_t i = 0; i < vms.size(); ++i) {
      threads.emplace_back([&, i] { per_vm[i] = list_vm(*lab, *state, *current, *vms[i]); });
    }
  }
  std::vector<LsRow> rows;
  for (auto& vm_rows : per_vm) {
    std::sort(vm_rows.begin(), vm_rows.end(),
              [](const LsRow& a, const LsRow& b) { return a.port < b.port; });
    rows.insert(rows.end(), vm_rows.begin(), vm_rows.end());
  }
  print_ls(global, rows);
  return {};
}

void add_add(Registry r, CLI::App& squash) {
  auto args = std::make_shared<AddArgs>();
  auto* sub = squash.add_subcommand("add", "Start one more instance on a VM");
  sub->add_option("TEAM", args->team, "Team")->required();
  sub->add_option("VM", args->vm, "VM")->required();
  sub->add_option("--version", args->version, "Squash TM version (image tag)")->required();
  sub->add_option("--name", args->name, "Instance name (default: from the version, v6-0-0)");
  sub->add_option("--port", args->port, "Port on the VM (default: the next free from 8081)");
  sub->add_option("--db", args->db, "postgresql (default), mariadb or h2");
  sub->callback([r, args] { r.command = [r, args] { return run_add(r.global, *args); }; });
}

void add_rm(Registry r, CLI::App& squash) {
  auto args = std::make_shared<RmArgs>();
  auto* sub = squash.add_subcommand("rm", "Remove one instance (its data too, unless --keep-data)");
  sub->add_option("TEAM", args->team, "Team")->required();
  sub->add_option("VM", args->vm, "VM")->required();
  sub->add_option("NAME", args->name, "Instance")->required();
  sub->add_flag("--keep-data", args->keep_data, "Keep the database volume");
  sub->callback([r, args] { r.command = [r, args] { return run_rm(r.global, *args); }; });
}

void add_ls(Registry r, CLI::App& squash) {
  auto team = std::make_shared<std::string>();
  auto* sub = squash.add_subcommand("ls", "Every instance: version, URL, health, state, uptime");
  sub->add_option("TEAM", *team, "Only this team");
  sub->callback([r, team] { r.command = [r, team] { return run_ls(r.global, *team); }; });
}

void add_upgrade(Registry r, CLI::App& squash) {
  auto args = std::make_shared<UpgradeArgs>();
  auto* sub = squash.add_subcommand("upgrade", "Dump the database, then move the app to a version");
  sub->add_option("TEAM", args->team, "Team")->required();
  sub->add_option("VM", args->vm, "VM")->required();
  sub->add_option("NAME", args->name, "Instance")->required();
  sub->add_option("--version", args->version, "Squash TM version to move to")->required();
  sub->add_flag("--force", args->force, "Allow a downgrade (Squash TM migrates one way)");
  sub->callback([r, args] { r.command = [r, args] { return run_upgrade(r.global, *args); }; });
}

}  // namespace

void add_squash(Registry r) {
  auto* squash =
      r.app.add_subcommand("squash", "Squash TM instances on a VM: add, rm, ls, upgrade");
  squash->require_subcommand(1);
  for (auto add : {add_add, add_rm, add_ls, add_upgrade}) {
    add(r, *squash);
  }
}

}  // namespace labctl::cli

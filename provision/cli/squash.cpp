// `labctl squash add|rm|ls|upgrade`: one VM's Squash TM instances during class. The flags
// become a call into the converge layer (converge/instances.hpp), whose answer is printed.

#include <algorithm>
#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "provision/cli/common.hpp"
#include "provision/converge/instances.hpp"

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

// A VM to change, and the classroom's lock, taken before its state is read and held while
// the command lasts.
struct Locked {
  sys::ClassroomLock lock;
  converge::InstanceTarget target;
};

Result<Locked> target_of(const GlobalOptions& global, const std::string& team,
                         const std::string& vm, const std::string& command_line) {
  auto found = find_vm(global, team, vm);
  if (!found) {
    return found.error();
  }
  auto lock = lock_classroom(global, found->first, command_line);
  if (!lock) {
    return lock.error();
  }
  auto target = converge::open_target(std::move(found->first), found->second);
  if (!target) {
    return target.error();
  }
  return Locked{std::move(*lock), std::move(*target)};
}

// The new instance's URL, and as students see it when the lab publishes it.
void print_instance(const GlobalOptions& global, const converge::InstanceTarget& t,
                    const model::Instance& instance) {
  const auto published = model::instance_endpoint(t.lab, *t.vm, instance);
  const std::string url = converge::instance_url(*t.vm, instance.port);
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

Status run_add(const GlobalOptions& global, const AddArgs& args) {
  auto locked = target_of(
      global, args.team, args.vm,
      fmt::format("labctl squash add {} {} --version {}", args.team, args.vm, args.version));
  auto db = converge::db_kind(args.db);
  if (!locked || !db) {
    return !locked ? locked.error() : db.error();
  }
  const converge::InstanceTarget* t = &locked->target;
  converge::NewInstanceArgs wanted{args.name, args.version,        args.port,
                                   *db,       t->lab.squash_image, t->lab.instance_memory};
  auto instance = converge::add_instance(notifier(global), *t, wanted);
  if (!instance) {
    return instance.error();
  }
  print_instance(global, *t, *instance);
  return {};
}

Status run_rm(const GlobalOptions& global, const RmArgs& args) {
  auto locked = target_of(global, args.team, args.vm,
                          fmt::format("labctl squash rm {} {} {}", args.team, args.vm, args.name));
  if (!locked) {
    return locked.error();
  }
  const converge::InstanceTarget* t = &locked->target;
  if (auto st = converge::remove_instance(*t, args.name, args.keep_data); !st) {
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
  auto locked = target_of(global, args.team, args.vm,
                          fmt::format("labctl squash upgrade {} {} {} --version {}", args.team,
                                      args.vm, args.name, args.version));
  if (!locked) {
    return locked.error();
  }
  const converge::InstanceTarget* t = &locked->target;
  auto done = converge::upgrade_instance(notifier(global), *t, args.name, args.version, args.force);
  if (!done) {
    return done.error();
  }
  const squashtm::UpgradeResult& result = done->upgraded.result;
  const std::string url = converge::instance_url(*t->vm, done->instance.port);
  if (global.json) {
    global.output->document = {{"team", t->vm->team},
                               {"vm", t->vm->key},
                               {"name", args.name},
                               {"from", result.from_version},
                               {"to", result.to_version},
                               {"url", url},
                               {"dump_kind", result.dump_kind},
                               {"dump", done->upgraded.dump.string()}};
    return {};
  }
  fmt::print("{} {} {} -> {} {}\ndump ({}): {}\n", t->where(), args.name, result.from_version,
             result.to_version, url, result.dump_kind, done->upgraded.dump.string());
  return {};
}

using LsRow = converge::InstanceRow;

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
  auto rows =
      scope ? converge::list_instances(*lab, *scope) : Result<std::vector<LsRow>>(scope.error());
  if (!rows) {
    return rows.error();
  }
  print_ls(global, *rows);
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

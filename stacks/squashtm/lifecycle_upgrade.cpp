// Lifecycle::upgrade: dump first, then recreate only the app container on the new version.

#include <algorithm>

#include <fmt/format.h>

#include "stacks/squashtm/lifecycle.hpp"
#include "stacks/squashtm/names.hpp"

namespace labctl::squashtm {

namespace {

Status check_direction(const std::string& name, const std::string& from, const std::string& to,
                       bool force) {
  auto old_version = parse_version(from);
  auto new_version = parse_version(to);
  if (!new_version) {
    return new_version.error();
  }
  if (!old_version) {
    return Error::failure(fmt::format("instance '{}' runs an unreadable version '{}'", name, from));
  }
  const int order = new_version->compare(*old_version);
  if (order == 0 && to == from) {
    return Error::usage(fmt::format("instance '{}' already runs {}", name, from));
  }
  if (order < 0 && !force) {
    return Error::usage(fmt::format(
        "refusing to downgrade '{}' from {} to {}: Squash TM migrates its database one way "
        "(use force, and restore a dump taken on {})",
        name, from, to, to));
  }
  return {};
}

}  // namespace

Result<std::string> Lifecycle::dump_of(const InstanceStatus& current, std::string& kind) {
  const std::string& name = current.instance.name;
  const std::string file = compose_path(m_options, name);
  if (current.instance.db == model::DbKind::h2) {
    // h2 files are only consistent when the application is stopped; docker cp reads a stopped
    // container's volume as a tar stream.
    kind = "h2-tar";
    const std::string stop = compose_command(project_name(name), file, "stop app");
    if (auto r = exec_checked(m_remote, stop, "stopping " + name); !r) {
      return r.error();
    }
    return exec_checked(
        m_remote, fmt::format("docker cp {}:/opt/squash-tm/data -", sh_quote(current.container)),
        "copying the h2 database of " + name);
  }
  const bool maria = current.instance.db == model::DbKind::mariadb;
  kind = maria ? "mariadb-dump" : "pg_dump";
  const std::string tool =
      maria ? fmt::format("sh -c 'mariadb-dump -u {} -p\"$MARIADB_PASSWORD\" {}'", k_db_user,
                          k_db_name)
            : fmt::format("pg_dump -U {} {}", k_db_user, k_db_name);
  return exec_checked(m_remote, compose_command(project_name(name), file, "exec -T db " + tool),
                      "dumping the database of " + name);
}

Result<UpgradeResult> Lifecycle::upgrade(const std::string& name, const std::string& version,
                                         bool force, const KeepDump& keep) {
  auto statuses = ls();
  if (!statuses) {
    return statuses.error();
  }
  const auto it = std::find_if(statuses->begin(), statuses->end(),
                               [&](const InstanceStatus& s) { return s.instance.name == name; });
  if (it == statuses->end()) {
    return Error::usage(fmt::format("{}: no instance '{}'", m_vm.name, name));
  }
  if (auto s = check_direction(name, it->instance.version, version, force); !s) {
    return s.error();
  }
  UpgradeResult result{it->instance.version, version, "", ""};
  auto dump = dump_of(*it, result.dump_kind);
  if (!dump) {
    return dump.error();
  }
  result.dump = std::move(*dump);
  const std::string file = compose_path(m_options, name);
  if (auto kept = keep ? keep(result) : Status{}; !kept) {
    // An h2 app was stopped for its dump: back on its old version, nothing changed.
    (void)exec_checked(m_remote, compose_command(project_name(name), file, "start app"),
                       "restarting " + name);
    return Error::failure(fmt::format("not upgrading '{}': its dump could not be kept: {}", name,
                                      kept.error().message));
  }
  model::Instance next = it->instance;
  next.version = version;
  if (auto s = m_remote.put_file(file, render_compose(m_owner, next, m_options), 0644); !s) {
    return s.error();
  }
  const std::string up = compose_command(project_name(name), file, "up -d --no-deps app");
  if (auto r = exec_checked(m_remote, up, "recreating " + name + " on " + version); !r) {
    return r.error();
  }
  return result;
}

}  // namespace labctl::squashtm

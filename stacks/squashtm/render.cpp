#include "stacks/squashtm/render.hpp"

#include <fmt/format.h>
#include <yaml-cpp/emitter.h>

#include "stacks/squashtm/names.hpp"
#include "stacks/squashtm/yaml_out.hpp"

namespace labctl::squashtm {

namespace {

using model::DbKind;
using model::EnvScheme;
using model::Instance;

bool has_db(const Instance& instance) {
  return instance.db != DbKind::h2;
}

// The distribution's bin/startup.sh, which every image runs, puts JAVA_ARGS on the java
// command line (its default: "-Xms128m -Xmx512m -server"), where its -Xmx beats
// JAVA_TOOL_OPTIONS. So the heap cap goes there, with the script's other default flags kept.
// Java gets three quarters of the container: the rest is metaspace, threads and buffers.
std::string java_args(const Instance& instance) {
  return fmt::format("-Xms128m -Xmx{}m -server", heap_mib(instance));
}

std::string db_host_port(const Instance& instance) {
  return instance.db == DbKind::mariadb ? "3306" : "5432";
}

// Non-secret connection settings; the password is in the instance's .env.
std::vector<std::pair<std::string, std::string>> app_environment(const Instance& instance) {
  std::vector<std::pair<std::string, std::string>> env{{"JAVA_ARGS", java_args(instance)}};
  if (!has_db(instance)) {
    return env;
  }
  if (effective_scheme(instance) == EnvScheme::current) {
    env.insert(env.end(), {{"SQTM_DB_TYPE", model::to_string(instance.db)},
                           {"SQTM_DB_HOST", "db"},
                           {"SQTM_DB_PORT", db_host_port(instance)},
                           {"SQTM_DB_NAME", k_db_name},
                           {"SQTM_DB_USERNAME", k_db_user}});
    return env;
  }
  // 1.x entrypoints look for linked-container variables (MYSQL_ENV_* / POSTGRES_ENV_*) and
  // honour DB_HOST; the port is fixed by the image.
  env.emplace_back("DB_HOST", "db");
  if (instance.db == DbKind::mariadb) {
    env.insert(env.end(),
               {{"MYSQL_ENV_MYSQL_USER", k_db_user}, {"MYSQL_ENV_MYSQL_DATABASE", k_db_name}});
  } else {
    env.insert(env.end(), {{"POSTGRES_ENV_POSTGRES_USER", k_db_user},
                           {"POSTGRES_ENV_POSTGRES_DB", k_db_name}});
  }
  return env;
}

void healthcheck(YAML::Emitter& out, const std::string& command, const std::string& start_period,
                 const StackOptions& options) {
  out << YAML::Key << "healthcheck" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "test" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  emit_value(out, "CMD-SHELL");
  emit_value(out, command);
  out << YAML::EndSeq;
  out << YAML::Key << "interval" << YAML::Value << options.check_interval;
  out << YAML::Key << "timeout" << YAML::Value << "10s";
  out << YAML::Key << "retries" << YAML::Value << 5;
  out << YAML::Key << "start_period" << YAML::Value << start_period << YAML::EndMap;
}

std::string port_mapping(const Instance& instance, const StackOptions& options) {
  const std::string host = options.bind_address.empty() ? "" : options.bind_address + ":";
  return fmt::format("{}{}:8080", host, instance.port);
}

std::string mem_limit(std::uint64_t bytes) {
  return fmt::format("{}m", bytes / model::k_mib);
}

// The app's port, settings and memory, and what it waits for or keeps.
void app_runtime(YAML::Emitter& out, const Instance& instance, const StackOptions& options) {
  out << YAML::Key << "ports" << YAML::Value << YAML::BeginSeq;
  emit_value(out, port_mapping(instance, options));
  out << YAML::EndSeq;
  out << YAML::Key << "env_file" << YAML::Value << YAML::BeginSeq << "../shared.env"
      << ".env" << YAML::EndSeq;
  out << YAML::Key << "environment" << YAML::Value << YAML::BeginMap;
  emit_entries(out, app_environment(instance));
  out << YAML::EndMap << YAML::Key << "mem_limit" << YAML::Value << mem_limit(instance.memory);
  if (has_db(instance)) {
    out << YAML::Key << "depends_on" << YAML::Value << YAML::BeginMap << YAML::Key << "db"
        << YAML::Value << YAML::BeginMap << YAML::Key << "condition" << YAML::Value
        << "service_healthy" << YAML::EndMap << YAML::EndMap;
  } else {
    out << YAML::Key << "volumes" << YAML::Value << YAML::BeginSeq << "app-data:/opt/squash-tm/data"
        << YAML::EndSeq;  // the embedded h2 files
  }
}

void app_service(YAML::Emitter& out, const Owner& owner, const Instance& instance,
                 const StackOptions& options) {
  begin_service(out, "app", instance.image + ":" + instance.version);
  app_runtime(out, instance, options);
  // First start creates the schema: minutes on a 2 GiB VM before the first answer.
  healthcheck(out,
              "curl -fsS -o /dev/null http://localhost:8080/squash/isSquashAlive || "
              "wget -q -O /dev/null http://localhost:8080/squash/isSquashAlive",
              "5m", options);
  emit_logging(out);
  out << YAML::Key << "networks" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "frontend" << YAML::Value << YAML::BeginMap << YAML::Key << "aliases"
      << YAML::Value << YAML::BeginSeq << project_name(instance.name) << YAML::EndSeq
      << YAML::EndMap;
  out << YAML::Key << "backend" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::EndMap;
  out << YAML::EndMap;
  Labels labels = instance_labels(owner, instance);
  labels["labctl.role"] = "app";
  if (options.autoheal) {
    labels["labctl.autoheal"] = "true";
  }
  emit_labels(out, labels);
  out << YAML::EndMap;
}

std::string db_image(const Instance& instance, const StackOptions& options) {
  return instance.db == DbKind::mariadb ? options.mariadb_image : options.postgres_image;
}

void db_service(YAML::Emitter& out, const Owner& owner, const Instance& instance,
                const StackOptions& options) {
  const bool maria = instance.db == DbKind::mariadb;
  begin_service(out, "db", db_image(instance, options));
  out << YAML::Key << "env_file" << YAML::Value << YAML::BeginSeq << "db.env" << YAML::EndSeq;
  out << YAML::Key << "environment" << YAML::Value << YAML::BeginMap;
  emit_entries(out, maria ? Entries{{"MARIADB_USER", k_db_user},
                                    {"MARIADB_DATABASE", k_db_name},
                                    {"MARIADB_RANDOM_ROOT_PASSWORD", "yes"}}
                          : Entries{{"POSTGRES_USER", k_db_user}, {"POSTGRES_DB", k_db_name}});
  out << YAML::EndMap << YAML::Key << "volumes" << YAML::Value << YAML::BeginSeq
      << (maria ? "db-data:/var/lib/mysql" : "db-data:/var/lib/postgresql/data") << YAML::EndSeq;
  out << YAML::Key << "mem_limit" << YAML::Value << mem_limit(model::k_db_memory);
  healthcheck(out,
              maria ? "healthcheck.sh --connect --innodb_initialized"
                    : fmt::format("pg_isready -U {} -d {}", k_db_user, k_db_name),
              "1m", options);
  emit_logging(out);
  // Backend only: the database is never reachable from outside the project.
  out << YAML::Key << "networks" << YAML::Value << YAML::BeginSeq << "backend" << YAML::EndSeq;
  Labels labels = instance_labels(owner, instance);
  labels["labctl.role"] = "db";
  emit_labels(out, labels);
  out << YAML::EndMap;
}

void networks_and_volumes(YAML::Emitter& out, const Owner& owner, const Instance& instance) {
  // Only labels that never change: compose refuses to reuse a network whose labels differ,
  // and an upgrade must keep the network and the data volume.
  Labels stable = owner_labels(owner);
  stable["labctl.instance"] = instance.name;
  stable["labctl.role"] = "stack";
  out << YAML::Key << "networks" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "frontend" << YAML::Value << YAML::BeginMap;
  emit_labels(out, stable);
  // internal: no route out of the backend network, so the database cannot reach anything.
  out << YAML::EndMap << YAML::Key << "backend" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "internal" << YAML::Value << true;
  emit_labels(out, stable);
  out << YAML::EndMap << YAML::EndMap;
  out << YAML::Key << "volumes" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << (has_db(instance) ? "db-data" : "app-data") << YAML::Value << YAML::BeginMap;
  emit_labels(out, stable);
  out << YAML::EndMap << YAML::EndMap;
}

}  // namespace

std::uint64_t heap_mib(const model::Instance& instance) {
  return instance.memory * 3 / 4 / model::k_mib;
}

Owner owner_of(const std::string& classroom, const model::Vm& vm) {
  return {classroom, vm.team, vm.name};
}

std::string project_name(const std::string& instance) {
  return "squash-" + instance;
}

std::string instance_dir(const StackOptions& options, const std::string& instance) {
  return options.root + "/" + instance;
}

std::string compose_path(const StackOptions& options, const std::string& instance) {
  return instance_dir(options, instance) + "/docker-compose.yml";
}

std::string compose_program() {
  // Debian 12 ships compose v1 only; Docker's repository ships the v2 plugin only.
  return "$(if docker compose version >/dev/null 2>&1; then echo 'docker compose'; "
         "else echo docker-compose; fi)";
}

std::string compose_command(const std::string& project, const std::string& file,
                            const std::string& args) {
  return fmt::format("{} -p {} -f {} {}", compose_program(), sh_quote(project), sh_quote(file),
                     args);
}

std::string render_compose(const Owner& owner, const Instance& instance,
                           const StackOptions& options) {
  YAML::Emitter out;
  begin_compose(out, fmt::format("Squash TM instance \"{}\" ({}) of {}, rendered by labctl: "
                                 "re-render, do not edit.",
                                 instance.name, instance.version, owner.vm));
  app_service(out, owner, instance, options);
  if (has_db(instance)) {
    db_service(out, owner, instance, options);
  }
  out << YAML::EndMap;
  networks_and_volumes(out, owner, instance);
  out << YAML::EndMap;
  return text_of(out);
}

std::string render_app_env(const Instance& instance, const std::string& password) {
  std::string out = "# Secrets of this instance: mode 0600, never printed.\n";
  if (!has_db(instance)) {
    return out;
  }
  if (effective_scheme(instance) == EnvScheme::current) {
    return out + "SQTM_DB_PASSWORD=" + password + "\n";
  }
  return out +
         (instance.db == DbKind::mariadb ? "MYSQL_ENV_MYSQL_PASSWORD="
                                         : "POSTGRES_ENV_POSTGRES_PASSWORD=") +
         password + "\n";
}

std::string render_db_env(const Instance& instance, const std::string& password) {
  return std::string("# Secrets of this instance: mode 0600, never printed.\n") +
         (instance.db == DbKind::mariadb ? "MARIADB_PASSWORD=" : "POSTGRES_PASSWORD=") + password +
         "\n";
}

std::string render_shared_env(const SharedSettings& shared) {
  std::string out =
      "# Shared by every Squash TM instance of this VM, rendered by labctl.\n"
      "TZ=" +
      shared.timezone + "\n";
  if (!shared.http_proxy.empty()) {
    for (const char* key : {"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"}) {
      out += fmt::format("{}={}\n", key, shared.http_proxy);
    }
    out += fmt::format("no_proxy={}\nNO_PROXY={}\n", shared.no_proxy, shared.no_proxy);
  }
  if (!shared.java_extra_opts.empty()) {
    out += "JDK_JAVA_OPTIONS=" + shared.java_extra_opts + "\n";
  }
  return out;
}

}  // namespace labctl::squashtm

#include "stacks/squashtm/render.hpp"

#include <fmt/format.h>

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

std::string labels_block(const Owner& owner, const Instance& instance, const std::string& role,
                         int indent) {
  Labels labels = instance_labels(owner, instance);
  labels["labctl.role"] = role;
  return render_labels(labels, indent);
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

std::string healthcheck_block(const std::string& command, const std::string& start_period,
                              const StackOptions& options) {
  return fmt::format(
      "    healthcheck:\n"
      "      test: [\"CMD-SHELL\", {}]\n"
      "      interval: {}\n"
      "      timeout: 10s\n"
      "      retries: 5\n"
      "      start_period: {}\n",
      yaml_quote(command), options.check_interval, start_period);
}

std::string logging_block() {
  return "    logging:\n"
         "      driver: json-file\n"
         "      options:\n"
         "        max-size: \"10m\"\n"
         "        max-file: \"3\"\n";
}

std::string port_mapping(const Instance& instance, const StackOptions& options) {
  const std::string host = options.bind_address.empty() ? "" : options.bind_address + ":";
  return fmt::format("{}{}:8080", host, instance.port);
}

std::string app_service(const Owner& owner, const Instance& instance, const StackOptions& options) {
  std::string out = fmt::format(
      "  app:\n"
      "    image: {}\n"
      "    restart: unless-stopped\n"
      "    ports:\n"
      "      - {}\n"
      "    env_file:\n"
      "      - ../shared.env\n"
      "      - .env\n"
      "    environment:\n{}"
      "    mem_limit: {}m\n",
      yaml_quote(instance.image + ":" + instance.version),
      yaml_quote(port_mapping(instance, options)), render_map(app_environment(instance), 6),
      instance.memory / model::k_mib);
  if (has_db(instance)) {
    out += "    depends_on:\n      db:\n        condition: service_healthy\n";
  } else {
    out += "    volumes:\n      - app-data:/opt/squash-tm/data\n";  // the embedded h2 files
  }
  // First start creates the schema: minutes on a 2 GiB VM before the first answer.
  out += healthcheck_block(
      "curl -fsS -o /dev/null http://localhost:8080/squash/isSquashAlive || "
      "wget -q -O /dev/null http://localhost:8080/squash/isSquashAlive",
      "5m", options);
  out += logging_block();
  out += fmt::format(
      "    networks:\n      frontend:\n        aliases:\n          - {}\n"
      "      backend: {{}}\n",
      project_name(instance.name));
  Labels labels = instance_labels(owner, instance);
  labels["labctl.role"] = "app";
  if (options.autoheal) {
    labels["labctl.autoheal"] = "true";
  }
  return out + "    labels:\n" + render_labels(labels, 6);
}

std::string db_image(const Instance& instance, const StackOptions& options) {
  return instance.db == DbKind::mariadb ? options.mariadb_image : options.postgres_image;
}

std::string db_service(const Owner& owner, const Instance& instance, const StackOptions& options) {
  const bool maria = instance.db == DbKind::mariadb;
  const std::vector<std::pair<std::string, std::string>> env =
      maria ? std::vector<std::pair<std::string, std::string>>{{"MARIADB_USER", k_db_user},
                                                               {"MARIADB_DATABASE", k_db_name},
                                                               {"MARIADB_RANDOM_ROOT_PASSWORD",
                                                                "yes"}}
            : std::vector<std::pair<std::string, std::string>>{{"POSTGRES_USER", k_db_user},
                                                               {"POSTGRES_DB", k_db_name}};
  const std::string check = maria ? "healthcheck.sh --connect --innodb_initialized"
                                  : fmt::format("pg_isready -U {} -d {}", k_db_user, k_db_name);
  std::string out = fmt::format(
      "  db:\n"
      "    image: {}\n"
      "    restart: unless-stopped\n"
      "    env_file:\n"
      "      - db.env\n"
      "    environment:\n{}"
      "    volumes:\n"
      "      - db-data:{}\n"
      "    mem_limit: {}m\n",
      yaml_quote(db_image(instance, options)), render_map(env, 6),
      maria ? "/var/lib/mysql" : "/var/lib/postgresql/data", model::k_db_memory / model::k_mib);
  out += healthcheck_block(check, "1m", options);
  out += logging_block();
  // Backend only: the database is never reachable from outside the project.
  out += "    networks:\n      - backend\n";
  return out + "    labels:\n" + labels_block(owner, instance, "db", 6);
}

std::string networks_and_volumes(const Owner& owner, const Instance& instance) {
  // Only labels that never change: compose refuses to reuse a network whose labels differ,
  // and an upgrade must keep the network and the data volume.
  Labels stable = owner_labels(owner);
  stable["labctl.instance"] = instance.name;
  stable["labctl.role"] = "stack";
  const std::string labels = render_labels(stable, 6);
  std::string out = "networks:\n  frontend:\n    labels:\n" + labels;
  // internal: no route out of the backend network, so the database cannot reach anything.
  out += "  backend:\n    internal: true\n    labels:\n" + labels;
  out += "volumes:\n";
  out += fmt::format("  {}:\n    labels:\n{}", has_db(instance) ? "db-data" : "app-data", labels);
  return out;
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
  std::string out = fmt::format(
      "# Squash TM instance \"{}\" ({}) of {}, rendered by labctl: re-render, do not edit.\n"
      "version: \"2.4\"\n"
      "services:\n",
      instance.name, instance.version, owner.vm);
  out += app_service(owner, instance, options);
  if (has_db(instance)) {
    out += db_service(owner, instance, options);
  }
  return out + networks_and_volumes(owner, instance);
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

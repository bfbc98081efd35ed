#pragma once

// The Squash TM stack of one VM as files and commands: one compose project per instance
// ("squash-<name>", its own database), one shared env file, an optional reverse proxy by host
// name and an optional autoheal container. Pure: nothing here touches the VM; passwords are
// inputs (secrets.hpp makes them).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "provision/model/lab.hpp"
#include "provision/result.hpp"

namespace labctl::squashtm {

constexpr const char* k_default_root = "/opt/labctl/squash";
constexpr const char* k_postgres_image = "postgres:15";  // pinned major: dumps stay loadable
constexpr const char* k_mariadb_image = "mariadb:10.11";
constexpr const char* k_proxy_image = "nginx:1.25-alpine";
constexpr const char* k_autoheal_image = "willfarrell/autoheal:1.2.0";
constexpr const char* k_db_user = "squashtm";
constexpr const char* k_db_name = "squashtm";

// Ownership labels put on every container, network and volume.
struct Owner {
  std::string classroom;
  std::string team;
  std::string vm;  // model::Vm::name
};
Owner owner_of(const std::string& classroom, const model::Vm& vm);

// Settings shared by every instance of a VM, written once to <root>/shared.env.
struct SharedSettings {
  std::string timezone = "Etc/UTC";
  std::string http_proxy;  // "" = none
  std::string no_proxy = "localhost,127.0.0.1";
  std::string java_extra_opts;  // JDK_JAVA_OPTIONS: read by the java launcher of Java 9+
};

struct StackOptions {
  std::string root = k_default_root;  // directory on the VM holding every project
  std::string bind_address;           // "" = all interfaces; tests use 127.0.0.1
  std::string postgres_image = k_postgres_image;
  std::string mariadb_image = k_mariadb_image;
  std::string check_interval = "30s";  // healthcheck interval; tests shorten it
  SharedSettings shared;
  bool proxy = false;        // reverse proxy routing <instance>.<proxy_domain> to each instance
  std::string proxy_domain;  // "" = the VM's host name
  int proxy_port = 80;
  bool autoheal = false;  // opt-in: needs the Docker socket read-write (breaks isolation)
};

// The options a lab file sets (`squashtm: {proxy:, autoheal:}`); the rest keep their defaults.
StackOptions stack_options(const model::Lab& lab);

struct File {
  std::string path;  // absolute, under StackOptions::root
  std::string content;
  int mode = 0644;
};

struct Rendered {
  std::vector<File> files;
  std::vector<std::string> commands;  // POSIX sh, run in order on the VM
};

using Secrets = std::map<std::string, std::string>;  // instance name -> DB password

std::string project_name(const std::string& instance);  // "squash-<name>"
// The Java heap cap (-Xmx, MiB) rendered for an instance: three quarters of its container.
std::uint64_t heap_mib(const model::Instance& instance);
std::string instance_dir(const StackOptions& options, const std::string& instance);
std::string compose_path(const StackOptions& options, const std::string& instance);

// Shell prefix running `docker compose` (v2) when present, else `docker-compose` (v1).
std::string compose_program();
// One compose command on a project: "<compose> -p 'P' -f 'F' ARGS".
std::string compose_command(const std::string& project, const std::string& file,
                            const std::string& args);

// The compose file (format 2.4: valid for docker-compose 1.29 and compose v2).
std::string render_compose(const Owner& owner, const model::Instance& instance,
                           const StackOptions& options);
// The instance's secrets: ".env" for the application, "db.env" for the database (mode 0600).
std::string render_app_env(const model::Instance& instance, const std::string& password);
std::string render_db_env(const model::Instance& instance, const std::string& password);
std::string render_shared_env(const SharedSettings& shared);

// One instance's files and its start command (validates the instance first).
Result<Rendered> render_instance(const Owner& owner, const model::Instance& instance,
                                 const StackOptions& options, const std::string& password);

// Refuses when the instances do not fit in the VM's memory cap.
Status check_capacity(const model::Vm& vm, const std::vector<model::Instance>& instances);

// The whole VM: shared.env, every instance, then the optional proxy and autoheal projects.
Result<Rendered> render_stack(const Owner& owner, const model::Vm& vm, const StackOptions& options,
                              const Secrets& secrets);

// Optional projects ("labctl-squash-proxy", "labctl-squash-autoheal").
Rendered render_proxy(const Owner& owner, const model::Vm& vm, const StackOptions& options);
Rendered render_autoheal(const Owner& owner, const StackOptions& options);

}  // namespace labctl::squashtm

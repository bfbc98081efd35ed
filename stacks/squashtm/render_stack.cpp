// The VM-level part of the renderer: capacity, the whole stack, the optional projects.

#include <set>

#include <fmt/format.h>
#include <yaml-cpp/emitter.h>

#include "provision/model/size.hpp"
#include "stacks/squashtm/names.hpp"
#include "stacks/squashtm/render.hpp"
#include "stacks/squashtm/yaml_out.hpp"

namespace labctl::squashtm {

namespace {

constexpr const char* k_proxy_project = "labctl-squash-proxy";
constexpr const char* k_autoheal_project = "labctl-squash-autoheal";

Status check_unique(const std::vector<model::Instance>& instances) {
  std::set<std::string> names;
  std::set<int> ports;
  for (const model::Instance& instance : instances) {
    if (!names.insert(instance.name).second) {
      return Error::usage(fmt::format("instance name '{}' is used twice", instance.name));
    }
    if (!ports.insert(instance.port).second) {
      return Error::usage(
          fmt::format("port {} is used twice (instance '{}')", instance.port, instance.name));
    }
  }
  return {};
}

std::string up_command(const std::string& project, const std::string& file) {
  return compose_command(project, file, "up -d --remove-orphans");
}

std::string proxy_domain(const model::Vm& vm, const StackOptions& options) {
  return options.proxy_domain.empty() ? vm.hostname : options.proxy_domain;
}

std::string nginx_conf(const model::Vm& vm, const StackOptions& options) {
  // Every instance serves /squash, so routing is by host name, never by path.
  std::string out = fmt::format(
      "# Reverse proxy by host name for {}, rendered by labctl.\n"
      "server {{\n  listen 80 default_server;\n  return 404;\n}}\n",
      vm.name);
  for (const model::Instance& instance : vm.instances) {
    out += fmt::format(
        "server {{\n"
        "  listen 80;\n"
        "  server_name {}.{};\n"
        "  client_max_body_size 100m;\n"
        "  location / {{\n"
        "    proxy_pass http://{}:8080;\n"
        "    proxy_set_header Host $http_host;\n"
        "    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
        "    proxy_set_header X-Forwarded-Proto $scheme;\n"
        "  }}\n"
        "}}\n",
        instance.name, proxy_domain(vm, options), project_name(instance.name));
  }
  return out;
}

std::string frontend_of(const model::Instance& instance) {
  return instance.name + "-frontend";
}

// The proxy service joins each instance's frontend network; with no instance the key is null.
void proxy_service_networks(YAML::Emitter& out, const model::Vm& vm) {
  out << YAML::Key << "networks" << YAML::Value;
  if (vm.instances.empty()) {
    out << YAML::Null;
    return;
  }
  out << YAML::BeginSeq;
  for (const model::Instance& instance : vm.instances) {
    out << frontend_of(instance);
  }
  out << YAML::EndSeq;
}

// Each instance's frontend network, made by its own project.
void frontend_networks(YAML::Emitter& out, const model::Vm& vm) {
  if (vm.instances.empty()) {
    return;
  }
  out << YAML::Key << "networks" << YAML::Value << YAML::BeginMap;
  for (const model::Instance& instance : vm.instances) {
    out << YAML::Key << frontend_of(instance) << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "external" << YAML::Value << true;
    out << YAML::Key << "name" << YAML::Value << project_name(instance.name) + "_frontend";
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
}

std::string proxy_compose(const Owner& owner, const model::Vm& vm, const StackOptions& options) {
  Labels labels = owner_labels(owner);
  labels["labctl.role"] = "proxy";
  YAML::Emitter out;
  begin_compose(out,
                fmt::format("Reverse proxy by host name for {}, rendered by labctl: re-render, do "
                            "not edit.",
                            owner.vm));
  begin_service(out, "proxy", k_proxy_image);
  out << YAML::Key << "ports" << YAML::Value << YAML::BeginSeq;
  emit_value(out,
             fmt::format("{}{}:80", options.bind_address.empty() ? "" : options.bind_address + ":",
                         options.proxy_port));
  out << YAML::EndSeq << YAML::Key << "volumes" << YAML::Value << YAML::BeginSeq
      << "./nginx.conf:/etc/nginx/conf.d/default.conf:ro" << YAML::EndSeq;
  out << YAML::Key << "mem_limit" << YAML::Value << "32m";
  emit_logging(out);
  emit_labels(out, labels);
  proxy_service_networks(out, vm);
  out << YAML::EndMap << YAML::EndMap;
  frontend_networks(out, vm);
  out << YAML::EndMap;
  return text_of(out);
}

std::string autoheal_compose(const Owner& owner) {
  Labels labels = owner_labels(owner);
  labels["labctl.role"] = "autoheal";
  YAML::Emitter out;
  begin_compose(out, fmt::format("Opt-in autoheal for {}, rendered by labctl. WARNING: it mounts "
                                 "the Docker socket\nread-write, i.e. root on the VM for whoever "
                                 "controls this container.",
                                 owner.vm));
  begin_service(out, "autoheal", k_autoheal_image);
  out << YAML::Key << "environment" << YAML::Value << YAML::BeginMap;
  emit_entries(out, {{"AUTOHEAL_CONTAINER_LABEL", "labctl.autoheal"}});
  out << YAML::EndMap << YAML::Key << "volumes" << YAML::Value << YAML::BeginSeq
      << "/var/run/docker.sock:/var/run/docker.sock" << YAML::EndSeq;
  out << YAML::Key << "network_mode" << YAML::Value << "none";
  out << YAML::Key << "mem_limit" << YAML::Value << "32m";
  emit_labels(out, labels);
  out << YAML::EndMap << YAML::EndMap << YAML::EndMap;
  return text_of(out);
}

}  // namespace

StackOptions stack_options(const model::Lab& lab) {
  StackOptions options;
  options.proxy = lab.squash_proxy;
  options.autoheal = lab.squash_autoheal;
  return options;
}

Status check_capacity(const model::Vm& vm, const std::vector<model::Instance>& instances) {
  if (model::stack_footprint(instances) > vm.memory) {
    return Error::usage(fmt::format("{}: {} Squash TM instance(s) need more than the VM's {}: {}",
                                    vm.name, instances.size(), model::format_size(vm.memory),
                                    model::explain_footprint(instances)));
  }
  return {};
}

Result<Rendered> render_instance(const Owner& owner, const model::Instance& instance,
                                 const StackOptions& options, const std::string& password) {
  if (auto s = validate_instance(instance); !s) {
    return s.error();
  }
  if (instance.db != model::DbKind::h2 && password.empty()) {
    return Error::failure(fmt::format("instance '{}': no database password", instance.name));
  }
  const std::string dir = instance_dir(options, instance.name);
  Rendered out;
  out.files.push_back(
      {compose_path(options, instance.name), render_compose(owner, instance, options), 0644});
  out.files.push_back({dir + "/.env", render_app_env(instance, password), 0600});
  if (instance.db != model::DbKind::h2) {
    out.files.push_back({dir + "/db.env", render_db_env(instance, password), 0600});
  }
  out.commands.push_back(
      up_command(project_name(instance.name), compose_path(options, instance.name)));
  return out;
}

Result<Rendered> render_stack(const Owner& owner, const model::Vm& vm, const StackOptions& options,
                              const Secrets& secrets) {
  if (auto s = check_unique(vm.instances); !s) {
    return s.error();
  }
  if (auto s = check_capacity(vm, vm.instances); !s) {
    return s.error();
  }
  Rendered out;
  out.files.push_back({options.root + "/shared.env", render_shared_env(options.shared), 0644});
  for (const model::Instance& instance : vm.instances) {
    const auto found = secrets.find(instance.name);
    auto one = render_instance(owner, instance, options,
                               found == secrets.end() ? std::string() : found->second);
    if (!one) {
      return one.error();
    }
    out.files.insert(out.files.end(), one->files.begin(), one->files.end());
    out.commands.insert(out.commands.end(), one->commands.begin(), one->commands.end());
  }
  for (const Rendered& extra : {options.proxy ? render_proxy(owner, vm, options) : Rendered{},
                                options.autoheal ? render_autoheal(owner, options) : Rendered{}}) {
    out.files.insert(out.files.end(), extra.files.begin(), extra.files.end());
    out.commands.insert(out.commands.end(), extra.commands.begin(), extra.commands.end());
  }
  return out;
}

Rendered render_proxy(const Owner& owner, const model::Vm& vm, const StackOptions& options) {
  const std::string dir = options.root + "/_proxy";
  Rendered out;
  out.files.push_back({dir + "/nginx.conf", nginx_conf(vm, options), 0644});
  out.files.push_back({dir + "/docker-compose.yml", proxy_compose(owner, vm, options), 0644});
  // Recreated whenever instances change: nginx resolves its upstreams at start.
  out.commands.push_back(compose_command(k_proxy_project, dir + "/docker-compose.yml",
                                         "up -d --force-recreate --remove-orphans"));
  return out;
}

Rendered render_autoheal(const Owner& owner, const StackOptions& options) {
  const std::string file = options.root + "/_autoheal/docker-compose.yml";
  return {{{file, autoheal_compose(owner), 0644}}, {up_command(k_autoheal_project, file)}};
}

}  // namespace labctl::squashtm

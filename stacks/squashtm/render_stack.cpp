// The VM-level part of the renderer: capacity, the whole stack, the optional projects.

#include <set>

#include <fmt/format.h>

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

std::string proxy_compose(const Owner& owner, const model::Vm& vm, const StackOptions& options) {
  Labels labels = owner_labels(owner);
  labels["labctl.role"] = "proxy";
  std::string out = fmt::format(
      "# Reverse proxy by host name for {}, rendered by labctl: re-render, do not edit.\n"
      "version: \"2.4\"\n"
      "services:\n"
      "  proxy:\n"
      "    image: {}\n"
      "    restart: unless-stopped\n"
      "    ports:\n      - {}\n"
      "    volumes:\n      - ./nginx.conf:/etc/nginx/conf.d/default.conf:ro\n"
      "    mem_limit: 32m\n"
      "    logging:\n      driver: json-file\n      options:\n"
      "        max-size: \"10m\"\n        max-file: \"3\"\n"
      "    labels:\n{}"
      "    networks:\n",
      owner.vm, yaml_quote(k_proxy_image),
      yaml_quote(fmt::format("{}{}:80",
                             options.bind_address.empty() ? "" : options.bind_address + ":",
                             options.proxy_port)),
      render_labels(labels, 6));
  std::string networks = "networks:\n";
  for (const model::Instance& instance : vm.instances) {
    const std::string key = instance.name + "-frontend";
    out += "      - " + key + "\n";
    networks += fmt::format("  {}:\n    external: true\n    name: {}_frontend\n", key,
                            project_name(instance.name));
  }
  return out + (vm.instances.empty() ? "" : networks);
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
  Labels labels = owner_labels(owner);
  labels["labctl.role"] = "autoheal";
  const std::string file = options.root + "/_autoheal/docker-compose.yml";
  std::string compose = fmt::format(
      "# Opt-in autoheal for {}, rendered by labctl. WARNING: it mounts the Docker socket\n"
      "# read-write, i.e. root on the VM for whoever controls this container.\n"
      "version: \"2.4\"\n"
      "services:\n"
      "  autoheal:\n"
      "    image: {}\n"
      "    restart: unless-stopped\n"
      "    environment:\n"
      "      AUTOHEAL_CONTAINER_LABEL: \"labctl.autoheal\"\n"
      "    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock\n"
      "    network_mode: none\n"
      "    mem_limit: 32m\n"
      "    labels:\n{}",
      owner.vm, yaml_quote(k_autoheal_image), render_labels(labels, 6));
  return {{{file, compose, 0644}}, {up_command(k_autoheal_project, file)}};
}

}  // namespace labctl::squashtm

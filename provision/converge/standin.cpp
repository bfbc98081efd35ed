#include "provision/converge/standin.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "provision/converge/cache_fill.hpp"
#include "provision/converge/classroom_registry.hpp"
#include "provision/registry/client.hpp"
#include "provision/registry/lab_images.hpp"
#include "provision/registry/versions.hpp"
#include "provision/sys/printable.hpp"
#include "provision/sys/process.hpp"
#include "provision/sys/state.hpp"
#include "stacks/squashtm/render.hpp"

namespace labctl::converge {

namespace {

constexpr const char* k_squash_repository = "squashtest/squash-tm";

// What build-standin makes besides the Squash TM versions (its "support" images): the
// stack's own database, proxy and autoheal images, as registries name them.
const std::set<std::string>& support_images() {
  static const std::set<std::string> names = [] {
    std::set<std::string> out;
    for (const char* image : {squashtm::k_postgres_image, squashtm::k_mariadb_image,
                              squashtm::k_proxy_image, squashtm::k_autoheal_image}) {
      if (auto ref = registry::parse_reference(image); ref) {
        out.insert(ref->name());
      }
    }
    return out;
  }();
  return names;
}

std::string builder() {
  return std::string(LABCTL_SOURCE_DIR) + "/stacks/squashtm/standin/build-standin";
}

}  // namespace

registry::Settings standin_settings(const model::Lab& lab) {
  registry::Settings settings;
  settings.address = "127.0.0.1";
  settings.port = lab.registry.port + 1;
  settings.upstream = "";
  settings.cache_dir = registry_cache_dir() + "/standin";
  return settings;
}

std::string standin_upstream(const model::Lab& lab) {
  return registry::mirror_url(standin_settings(lab));
}

Result<bool> classroom_is_standin(const std::string& classroom) {
  auto state = sys::StateDir::open_read_only(classroom);
  if (!state) {
    return false;  // no state root: nothing was ever recorded
  }
  auto current = state->read_state();
  if (!current) {
    return Error::failure(fmt::format(
        "whether the classroom runs the stand-in stack cannot be read: {}: repair the file",
        current.error().message));
  }
  return current->standin;
}

Status ensure_standins(const Notify& notify, const model::Lab& lab,
                       const std::vector<registry::Reference>& refs) {
  const registry::Settings settings = standin_settings(lab);
  sys::SystemRunner runner;
  auto started = registry::start(settings, runner);
  if (!started) {
    return Error::failure("the stand-in registry: " + started.error().message);
  }
  registry::CurlTransport transport;
  registry::Client client(transport, registry::mirror_url(settings));
  auto missing = registry::find_missing(client, refs);
  if (!missing) {
    return Error::failure("the stand-in registry: " + missing.error().message);
  }
  std::vector<std::string> versions;
  bool support = false;
  for (const registry::MissingImage& image : *missing) {
    if (image.ref.repository == k_squash_repository) {
      versions.push_back(image.ref.tag);
    } else if (support_images().contains(image.ref.name())) {
      support = true;
    } else {
      return Error::usage(
          fmt::format("--standin: no stand-in exists for {} (the stand-ins are {} and {})",
                      sys::printable(image.ref.name()), k_squash_repository,
                      fmt::join(support_images(), ", ")));
    }
  }
  if (versions.empty() && !support) {
    return {};
  }
  notify("standin",
         fmt::format(
             "building stand-in images on this host ({}{}), pushed to {}",
             versions.empty() ? "" : "squash-tm " + fmt::format("{}", fmt::join(versions, " ")),
             support ? (versions.empty() ? "databases, proxy, autoheal"
                                         : "; databases, proxy, autoheal")
                     : "",
             registry::endpoint(settings)));
  std::vector<std::string> argv{builder(), "--push", registry::endpoint(settings)};
  if (!support) {
    argv.push_back("--no-support");
  }
  argv.insert(argv.end(), versions.begin(), versions.end());
  auto built = runner.run(argv);
  if (!built) {
    return built.error();
  }
  if (built->exit_code != 0) {
    return Error::failure(fmt::format("build-standin failed (exit {}): {}", built->exit_code,
                                      sys::printable(built->err)));
  }
  return {};
}

Status ensure_lab_standins(const Notify& notify, const model::Lab& lab, const plan::Scope& scope) {
  auto uses = needed_images(lab, scope.all ? std::vector<std::string>{} : scope.teams);
  if (!uses) {
    return uses.error();
  }
  std::vector<registry::Reference> refs;
  for (const registry::ImageUse& use : *uses) {
    refs.push_back(use.ref);
  }
  return ensure_standins(notify, lab, refs);
}

void stop_standins(const Notify& notify, const model::Lab& lab) {
  const registry::Settings settings = standin_settings(lab);
  if (!registry::status(settings).running) {
    return;
  }
  sys::SystemRunner runner;
  if (auto stopped = registry::stop(settings, runner); !stopped) {
    notify("warning", "the stand-in registry did not stop: " + stopped.error().message);
  }
}

}  // namespace labctl::converge

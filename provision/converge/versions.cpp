#include "provision/converge/versions.hpp"

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

#include "provision/converge/classroom_registry.hpp"
#include "provision/converge/instances.hpp"
#include "provision/converge/standin.hpp"
#include "provision/registry/lab_images.hpp"
#include "provision/registry/versions.hpp"

namespace labctl::converge {
namespace {

// A registry never holds up `plan` for long: 3 s to connect, 15 s per request.
registry::CurlTransport& bounded_transport() {
  static registry::CurlTransport transport({std::chrono::seconds(3), std::chrono::seconds(15)});
  return transport;
}

struct Checked {
  std::string registry;  // "" when none answered
  std::vector<registry::MissingImage> missing;
  std::string unreachable;  // why, when none answered
};

Checked check_refs(const std::vector<std::string>& registries,
                   const std::vector<registry::Reference>& refs) {
  Checked out;
  for (const std::string& url : registries) {
    registry::Client client(bounded_transport(), url);
    Status ping = client.ping();
    auto missing = ping ? registry::find_missing(client, refs)
                        : Result<std::vector<registry::MissingImage>>(ping.error());
    if (missing) {
      return {url, std::move(*missing), ""};
    }
    out.unreachable += (out.unreachable.empty() ? "" : "; ") + missing.error().message;
  }
  return out;
}

std::string at_site(const ErrorSite& site, const std::string& what) {
  return fmt::format("{}:{}:{}: {}: {}", site.file, site.line, site.column, site.key, what);
}

}  // namespace

std::vector<std::string> version_registries(const model::Lab& lab, bool standin) {
  const registry::Settings settings = registry_settings(lab, standin);
  std::vector<std::string> out;
  const bool classroom = model::uses_classroom_registry(lab);
  if (const char* env = std::getenv("LABCTL_REGISTRY"); env != nullptr && *env != '\0') {
    out.emplace_back(env);
  } else if (classroom) {
    out.push_back(registry::mirror_url(settings));
  } else if (!lab.docker.registry_mirror.empty()) {
    out.push_back(lab.docker.registry_mirror);
  }
  if (const char* env = std::getenv("LABCTL_UPSTREAM"); env != nullptr && *env != '\0') {
    out.emplace_back(env);
  } else if (!settings.upstream.empty()) {
    out.push_back(settings.upstream);
  }
  return out;
}

Status check_versions(const Notify& notify, const model::Lab& lab, const plan::Scope& scope,
                      bool standin) {
  registry::LabImageOptions options;
  if (!scope.all) {
    options.teams = scope.teams;
  }
  auto uses = registry::lab_images(lab, options);
  if (!uses) {
    return uses.error();
  }
  std::vector<registry::Reference> refs;
  for (const registry::ImageUse& use : *uses) {
    if (!use.sites.empty()) {  // the Squash TM images: the versions the lab file chose
      refs.push_back(use.ref);
    }
  }
  const Checked checked = check_refs(version_registries(lab, standin), refs);
  if (checked.registry.empty()) {
    notify("warning", "image versions not checked, no registry answered: " + checked.unreachable);
    return {};
  }
  std::vector<std::string> lines;
  std::optional<ErrorSite> first;
  for (const registry::MissingImage& missing : checked.missing) {
    for (const registry::ImageUse& use : *uses) {
      if (use.ref.name() != missing.ref.name()) {
        continue;
      }
      for (const ErrorSite& site : use.sites) {
        lines.push_back(at_site(site, registry::describe(missing, checked.registry)));
        first = first ? first : site;
      }
    }
  }
  if (lines.empty()) {
    return {};
  }
  Error error = Error::lab(fmt::format("{}", fmt::join(lines, "\n")));
  error.site = first;
  return error;
}

Status check_version_of(const Notify& notify, const model::Lab& lab, bool standin,
                        const registry::Reference& ref) {
  const Checked checked = check_refs(version_registries(lab, standin), {ref});
  if (checked.registry.empty()) {
    notify("warning", "image version not checked, no registry answered: " + checked.unreachable);
    return {};
  }
  if (checked.missing.empty()) {
    return {};
  }
  return Error::usage("--version: " +
                      registry::describe(checked.missing.front(), checked.registry));
}

std::vector<std::string> offered_versions(const model::Lab& lab,
                                          const std::vector<std::string>& in_use) {
  std::vector<std::string> out;
  auto ref = registry::parse_reference(lab.squash_image);
  // A state that cannot be read asks no registry: only the versions in use are offered (the
  // console shows why its probe failed).
  auto standin = classroom_is_standin(lab.classroom);
  const std::vector<std::string> registries =
      standin ? version_registries(lab, *standin) : std::vector<std::string>{};
  for (const std::string& url : registries) {
    if (!ref) {
      break;
    }
    registry::Client client(bounded_transport(), url);
    auto tags = client.ping() ? client.tags(ref->repository)
                              : Result<std::optional<std::vector<std::string>>>(std::nullopt);
    if (tags && *tags) {
      for (const std::string& tag : **tags) {
        if (check_version(tag)) {
          out.push_back(tag);
        }
      }
      break;
    }
  }
  out.insert(out.end(), in_use.begin(), in_use.end());
  std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
    return registry::compare_versions(b, a) < 0;
  });
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace labctl::converge

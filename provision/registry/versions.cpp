#include "provision/registry/versions.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace labctl::registry {
namespace {

// The next run of digits or of other characters, from `at`.
std::string next_run(const std::string& text, std::size_t& at) {
  const bool digits = std::isdigit(static_cast<unsigned char>(text[at])) != 0;
  const std::size_t start = at;
  while (at < text.size() && (std::isdigit(static_cast<unsigned char>(text[at])) != 0) == digits) {
    ++at;
  }
  return text.substr(start, at - start);
}

int compare_runs(const std::string& a, const std::string& b) {
  const bool a_num = std::isdigit(static_cast<unsigned char>(a[0])) != 0;
  const bool b_num = std::isdigit(static_cast<unsigned char>(b[0])) != 0;
  if (a_num && b_num) {
    const std::string x = a.substr(std::min(a.find_first_not_of('0'), a.size() - 1));
    const std::string y = b.substr(std::min(b.find_first_not_of('0'), b.size() - 1));
    if (x.size() != y.size()) {
      return x.size() < y.size() ? -1 : 1;
    }
    return x.compare(y);
  }
  if (a_num != b_num) {
    return a_num ? 1 : -1;  // "1.0.1" after "1.0-RC1"
  }
  return a.compare(b);
}

bool looks_like_version(const std::string& tag) {
  return !tag.empty() && std::isdigit(static_cast<unsigned char>(tag[0])) != 0;
}

}  // namespace

int compare_versions(const std::string& a, const std::string& b) {
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < a.size() && j < b.size()) {
    if (const int c = compare_runs(next_run(a, i), next_run(b, j)); c != 0) {
      return c < 0 ? -1 : 1;
    }
  }
  if (i == a.size() && j == b.size()) {
    return 0;
  }
  return i == a.size() ? -1 : 1;
}

std::vector<std::string> nearest_tags(const std::string& wanted,
                                      const std::vector<std::string>& tags, std::size_t count) {
  std::vector<std::string> versions;
  std::copy_if(tags.begin(), tags.end(), std::back_inserter(versions), looks_like_version);
  std::sort(versions.begin(), versions.end(),
            [](const std::string& a, const std::string& b) { return compare_versions(a, b) < 0; });
  const auto split = std::lower_bound(
      versions.begin(), versions.end(), wanted,
      [](const std::string& a, const std::string& b) { return compare_versions(a, b) < 0; });
  const std::size_t below = static_cast<std::size_t>(split - versions.begin());
  const std::size_t above = versions.size() - below;
  std::size_t take_below = std::min(below, count / 2);
  const std::size_t take_above = std::min(above, count - take_below);
  take_below = std::min(below, count - take_above);
  return {split - static_cast<std::ptrdiff_t>(take_below),
          split + static_cast<std::ptrdiff_t>(take_above)};
}

Result<std::vector<MissingImage>> find_missing(Client& client, const std::vector<Reference>& refs) {
  std::vector<MissingImage> missing;
  for (const Reference& ref : refs) {
    auto digest = client.manifest_digest(ref.repository, ref.reference());
    if (!digest) {
      return digest.error();
    }
    if (*digest) {
      continue;
    }
    auto tags = client.tags(ref.repository);
    if (!tags) {
      return tags.error();
    }
    MissingImage entry{ref, !*tags, {}};
    if (*tags) {
      entry.nearest = nearest_tags(ref.tag, **tags);
    }
    missing.push_back(std::move(entry));
  }
  return missing;
}

std::string describe(const MissingImage& missing, const std::string& registry) {
  if (missing.repository_missing) {
    return fmt::format("image {} does not exist on {}: no repository {}", missing.ref.name(),
                       registry, missing.ref.repository);
  }
  return fmt::format(
      "image {} does not exist on {}; nearest tags: {}", missing.ref.name(), registry,
      missing.nearest.empty() ? "(none)" : fmt::format("{}", fmt::join(missing.nearest, ", ")));
}

}  // namespace labctl::registry

#pragma once

// `labctl image build|pull`: the lab's base image (provision/images/), built with debootstrap
// or downloaded, in the image cache; what `up` does on its own when the image is missing
// (host.hpp). Returns where the image is for the caller to print.

#include <optional>
#include <string>
#include <vector>

#include "provision/images/images.hpp"
#include "provision/model/lab.hpp"

namespace labctl::converge {

// Builds the lab's image (cached); `with`, when given, replaces the lab's extras baked in.
// An image pulled from a URL is a usage error naming the lab file.
Result<images::ImagePaths> build_base_image(const model::Lab& lab,
                                            const std::optional<std::vector<std::string>>& with,
                                            bool verbose, const images::LogFn& log);

// Downloads the lab's image, verifies and caches it. An image built from a recipe is a usage
// error naming the lab file.
Result<images::ImagePaths> pull_base_image(const model::Lab& lab, const sys::ProgressFn& progress,
                                           const images::LogFn& log);

}  // namespace labctl::converge

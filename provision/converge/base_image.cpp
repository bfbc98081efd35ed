#include "provision/converge/base_image.hpp"

#include "provision/sys/http.hpp"
#include "provision/sys/process.hpp"

namespace labctl::converge {

Result<images::ImagePaths> build_base_image(const model::Lab& lab,
                                            const std::optional<std::vector<std::string>>& with,
                                            bool verbose, const images::LogFn& log) {
  model::Image image = lab.image;
  if (image.build.empty()) {
    return Error::usage(lab.file + ": image has no build recipe (it is pulled from a URL)");
  }
  if (with) {
    image.with = *with;
  }
  images::BuildOptions options;
  options.verbose = verbose;
  options.log = log;
  sys::SystemRunner runner;
  return images::build_image(image, options, runner);
}

Result<images::ImagePaths> pull_base_image(const model::Lab& lab, const sys::ProgressFn& progress,
                                           const images::LogFn& log) {
  if (lab.image.url.empty()) {
    return Error::usage(lab.file + ": image has no url (it is built: `labctl image build`)");
  }
  images::PullOptions options;
  options.progress = progress;
  options.log = log;
  sys::CurlHttpClient http;
  return images::pull_image(lab.image, options, http);
}

}  // namespace labctl::converge

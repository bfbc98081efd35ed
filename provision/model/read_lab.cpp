// Top-level settings of a lab file: everything except teams and the team template.

#include <algorithm>
#include <cctype>
#include <regex>
#include <unordered_set>

#include <fmt/format.h>

#include "provision/model/addressing.hpp"
#include "provision/model/names.hpp"
#include "provision/model/size.hpp"
#include "provision/model/spec.hpp"

namespace labctl::model {

namespace {

const std::string k_default_mirror = "http://deb.debian.org/debian";

std::string read_url(Reader& reader, const Field& field, const std::vector<std::string>& schemes,
                     const std::string& fallback) {
  std::string value = reader.text(field, fallback);
  if (field.present() && !is_safe_url(value, schemes)) {
    reader.error(field.loc, fmt::format("invalid URL '{}' (expected {}://...)", value,
                                        fmt::join(schemes, "://... or ")));
  }
  return value;
}

void read_hosts(Reader& reader, const Field& root, LabSpec& spec) {
  std::unordered_set<std::string> listed;
  for (const Field& item : reader.items(root.child("hosts"))) {
    if (!reader.check_map(item, {"uri", "reserve", "labels"})) {
      continue;
    }
    Host host;
    const Field uri = item.child("uri");
    host.uri = reader.required_text(item, "uri");
    if (uri.present() && !is_safe_url(host.uri, {})) {
      reader.error(uri.loc, fmt::format("invalid host URI '{}' (expected e.g. qemu:///system, "
                                        "qemu+ssh://host/system or hyperv://host)",
                                        host.uri));
    }
    if (!listed.insert(host.uri).second) {
      reader.error(uri.loc, fmt::format("host '{}' is listed twice", host.uri));
    }
    host.reserve = reader.size(item.child("reserve")).value_or(0);
    for (const Field& label : reader.items(item.child("labels"))) {
      const std::string text = reader.text(label, {});
      if (std::string complaint = check_name("label", text); !complaint.empty()) {
        reader.error(label.loc, complaint);
      }
      host.labels.push_back(text);
    }
    spec.lab.hosts.push_back(host);
    spec.host_locs.push_back(uri.loc);
  }
}

std::string derived_image_name(const Image& image) {
  if (!image.build.empty()) {
    std::string name = image.build;
    for (const std::string& extra : image.with) {
      name += "-" + extra;
    }
    return name;
  }
  std::string stem = image.url.substr(0, image.url.find_first_of("?#"));
  stem = stem.substr(stem.find_last_of('/') + 1);
  if (const auto dot = stem.rfind('.'); dot != std::string::npos && dot > 0) {
    stem.resize(dot);  // "debian-12-generic-amd64.qcow2" -> "debian-12-generic-amd64"
  }
  std::transform(stem.begin(), stem.end(), stem.begin(), [](unsigned char c) {
    const char lower = static_cast<char>(std::tolower(c));
    return std::isalnum(c) != 0 || lower == '-' || lower == '_' ? lower : '-';
  });
  return stem.empty() ? "image" : stem;
}

void read_build_image(Reader& reader, const Field& field, Image& image) {
  const Field build = field.child("build");
  image.build = reader.text(build, {});
  if (image.build != "debian-12") {
    reader.error(build.loc,
                 fmt::format("unknown image recipe '{}' (known: debian-12)", image.build));
  }
  for (const Field& item : reader.items(field.child("with"))) {
    const std::string extra = reader.text(item, {});
    if (extra != "docker") {
      reader.error(item.loc, fmt::format("unknown image extra '{}' (known: docker)", extra));
    }
    image.with.push_back(extra);
  }
  image.mirror = read_url(reader, field.child("mirror"), {"http", "https"}, k_default_mirror);
  for (const char* key : {"checksums", "sha256"}) {
    if (field.child(key).present()) {
      reader.error(field.child(key).loc, "only for images given by url:");
    }
  }
}

void read_pulled_image(Reader& reader, const Field& field, Image& image) {
  image.url = read_url(reader, field.child("url"), {"http", "https", "file"}, {});
  image.checksum_url = read_url(reader, field.child("checksums"), {"http", "https", "file"}, {});
  const Field sha = field.child("sha256");
  image.sha256 = reader.text(sha, {});
  std::transform(image.sha256.begin(), image.sha256.end(), image.sha256.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  static const std::regex hex("^[0-9a-f]{64}$");
  if (sha.present() && !std::regex_match(image.sha256, hex)) {
    reader.error(sha.loc, "invalid sha256 (expected 64 hexadecimal digits)");
  }
  for (const char* key : {"with", "mirror"}) {
    if (field.child(key).present()) {
      reader.error(field.child(key).loc, "only for images given by build:");
    }
  }
  // `up` verifies every download before using it: without a digest it would fail there,
  // after creating networks and the pool.
  if (image.sha256.empty() && image.checksum_url.empty()) {
    reader.error(field.child("url").loc,
                 "a downloaded image must be verified: give image.sha256 (its SHA-256 digest) "
                 "or image.checksums (the URL of the SHA256SUMS or SHA512SUMS file beside it)");
  }
}

void read_boot(Reader& reader, const Field& field, Image& image) {
  const Field boot = field.child("boot");
  // A built image has a boot loader only in its efi layout; a downloaded one has no kernel
  // and initrd beside it, so it boots by its own loader (disk) unless told efi.
  const bool built = !image.build.empty();
  const BootMode fallback = built ? BootMode::kernel : BootMode::disk;
  image.boot = static_cast<BootMode>(
      reader.choice(boot, {"kernel", "disk", "efi"}, static_cast<int>(fallback)));
  if (built && image.boot == BootMode::disk) {
    reader.error(boot.loc,
                 "a built image boots with kernel or efi (disk is for downloaded images)");
  } else if (!built && image.boot == BootMode::kernel) {
    reader.error(boot.loc,
                 "a downloaded image boots with disk or efi (kernel boot needs the "
                 "kernel and initrd that a built image has beside its disk)");
  }
  const Field cmdline = field.child("cmdline");
  image.cmdline = reader.text(cmdline, image.cmdline);
  static const std::regex safe(R"(^[A-Za-z0-9 _./:=,+@-]+$)");
  if (cmdline.present() && !std::regex_match(image.cmdline, safe)) {
    reader.error(cmdline.loc,
                 "invalid kernel command line (use letters, digits, spaces and "
                 "_ . / : = , + @ -)");
  }
  if (cmdline.present() && !built) {
    reader.error(cmdline.loc,
                 "cmdline is for built images with boot: kernel (a downloaded "
                 "image boots with its own)");
  } else if (cmdline.present() && image.boot != BootMode::kernel) {
    reader.error(cmdline.loc,
                 "cmdline needs boot: kernel (a disk or efi boot uses the image's own)");
  }
}

void read_image(Reader& reader, const Field& root, LabSpec& spec) {
  Image& image = spec.lab.image;
  const Field field = root.child("image");
  spec.boot_loc = field.child("boot").loc;
  if (!field.present()) {
    image.build = "debian-12";
    image.mirror = k_default_mirror;
  } else if (reader.check_map(field, {"build", "with", "mirror", "boot", "cmdline", "url",
                                      "checksums", "sha256", "name"})) {
    const bool build = field.child("build").present();
    if (build == field.child("url").present()) {
      reader.error(field.loc, "give exactly one of build: (a recipe) or url: (a download)");
    }
    build ? read_build_image(reader, field, image) : read_pulled_image(reader, field, image);
    read_boot(reader, field, image);
  }
  const Field name = field.child("name");
  image.name = reader.text(name, derived_image_name(image));
  static const std::regex safe("^[a-z0-9][a-z0-9._-]{0,63}$");
  if (!std::regex_match(image.name, safe)) {
    reader.error(name.loc, fmt::format("invalid image name '{}' (use lower-case letters, digits, "
                                       "'.', '_' and '-', at most 64 characters)",
                                       image.name));
  }
}

void read_docker(Reader& reader, const Field& root, LabSpec& spec) {
  DockerSettings& docker = spec.lab.docker;
  const auto& with = spec.lab.image.with;
  const bool baked = std::find(with.begin(), with.end(), "docker") != with.end();
  docker.source = baked ? DockerSource::preinstalled : DockerSource::repository;
  const Field field = root.child("docker");
  if (!field.present() || !reader.check_map(field, {"source", "registry_mirror", "apt_proxy"})) {
    return;
  }
  const Field source = field.child("source");
  docker.source = static_cast<DockerSource>(reader.choice(
      source, {"repository", "distribution", "preinstalled"}, static_cast<int>(docker.source)));
  // A built image's contents are known: Docker is there exactly when it was baked in. (A
  // downloaded image may have it or not: the lab says.)
  if (source.present() && !spec.lab.image.build.empty()) {
    if (baked && docker.source != DockerSource::preinstalled) {
      reader.error(source.loc, fmt::format("the image has Docker baked in (image.with: docker), "
                                           "so its guests cannot install it from {}: use "
                                           "preinstalled, or drop docker from image.with",
                                           model::to_string(docker.source)));
    } else if (!baked && docker.source == DockerSource::preinstalled) {
      reader.error(source.loc,
                   "preinstalled, but the image is built without Docker: add docker to "
                   "image.with, or use repository or distribution");
    }
  }
  docker.registry_mirror = read_url(reader, field.child("registry_mirror"), {"http", "https"}, {});
  docker.apt_proxy = read_url(reader, field.child("apt_proxy"), {"http", "https"}, {});
}

void read_squashtm(Reader& reader, const Field& root, LabSpec& spec) {
  const Field field = root.child("squashtm");
  if (!field.present() || !reader.check_map(field, {"image", "memory", "proxy", "autoheal"})) {
    return;
  }
  Lab& lab = spec.lab;
  const Field memory = field.child("memory");
  lab.instance_memory = reader.size(memory).value_or(lab.instance_memory);
  check_instance_memory(reader, memory.loc, lab.instance_memory);
  lab.squash_proxy = reader.choice(field.child("proxy"), {"false", "true"}, 0) == 1;
  lab.squash_autoheal = reader.choice(field.child("autoheal"), {"false", "true"}, 0) == 1;
  const Field image = field.child("image");
  spec.lab.squash_image = reader.text(image, spec.lab.squash_image);
  static const std::regex repository(
      "^([A-Za-z0-9.-]+(:[0-9]+)?/)?[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$");
  if (!std::regex_match(spec.lab.squash_image, repository)) {
    reader.error(image.loc, fmt::format("invalid image repository '{}' (give the repository "
                                        "without a tag: the tag is each instance's version)",
                                        spec.lab.squash_image));
  }
}

void read_limits(Reader& reader, const Field& root, LabSpec& spec) {
  Lab& lab = spec.lab;
  lab.accelerator = static_cast<Accelerator>(
      reader.choice(root.child("accelerator"), {"auto", "kvm", "qemu"}, 0));
  const Field cap = root.child("memory_cap");
  lab.memory_cap = reader.size(cap).value_or(lab.memory_cap);
  check_memory_unit(reader, spec, cap.loc, lab.memory_cap);
  const Field admin = root.child("admin_user");
  lab.admin_user = reader.text(admin, lab.admin_user);
  if (std::string complaint = check_name("admin user", lab.admin_user); !complaint.empty()) {
    reader.error(admin.loc, complaint);
  } else if (lab.admin_user == "root") {
    reader.error(admin.loc, "admin user 'root' is not allowed: pick an ordinary user name");
  }
  const Field subnets = root.child("subnets");
  if (const auto text = reader.scalar(subnets)) {
    spec.pool = parse_cidr(*text);
    spec.pool_loc = subnets.loc;
    if (!spec.pool || spec.pool->prefix < 8 || spec.pool->prefix > 24) {
      reader.error(subnets.loc, fmt::format("invalid subnet pool '{}' (expected a network "
                                            "/8 to /24, e.g. 10.64.0.0/16)",
                                            *text));
      spec.pool.reset();
    }
  }
  const Field defaults = root.child("defaults");
  if (defaults.present() && reader.check_map(defaults, {"memory", "vcpus", "disk"})) {
    spec.defaults = read_shape(reader, defaults, spec);
  }
}

void read_timeouts(Reader& reader, const Field& root, LabSpec& spec) {
  const Field field = root.child("timeouts");
  StageTimeouts& t = spec.lab.timeouts;
  const std::vector<std::pair<const char*, std::chrono::seconds*>> stages = {
      {"running", &t.running},       {"address", &t.address}, {"ssh", &t.ssh},
      {"cloud_init", &t.cloud_init}, {"docker", &t.docker},   {"stack", &t.stack}};
  std::vector<std::string> keys;
  keys.reserve(stages.size());
  for (const auto& [key, value] : stages) {
    keys.emplace_back(key);
  }
  if (!field.present() || !reader.check_map(field, keys)) {
    return;
  }
  using std::chrono::hours;
  using std::chrono::seconds;
  for (const auto& [key, value] : stages) {
    *value = reader.duration(field.child(key), seconds(1), hours(24)).value_or(*value);
  }
}

}  // namespace

void read_settings(Reader& reader, const Field& root, LabSpec& spec) {
  Lab& lab = spec.lab;
  lab.classroom = reader.required_text(root, "classroom");
  if (std::string complaint = check_classroom(lab.classroom); !complaint.empty()) {
    reader.error(root.child("classroom").loc, complaint);
  }
  const Field title = root.child("title");
  lab.title = reader.text(title, {});
  if (std::any_of(lab.title.begin(), lab.title.end(),
                  [](unsigned char c) { return c < 0x20 || c == 0x7f; })) {
    reader.error(title.loc, "the title must be one line of text");
  }
  read_hosts(reader, root, spec);
  read_image(reader, root, spec);
  read_limits(reader, root, spec);
  read_docker(reader, root, spec);
  read_squashtm(reader, root, spec);
  read_timeouts(reader, root, spec);
  read_registry(reader, root, spec);
  read_access(reader, root, spec);
  lab.pool = lab.classroom + "-pool";
  lab.base_volume = lab.classroom + "-base.qcow2";
  lab.base_kernel = lab.classroom + "-base-vmlinuz";
  lab.base_initrd = lab.classroom + "-base-initrd.img";
}

}  // namespace labctl::model

#include "provision/registry/client.hpp"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "provision/images/cache.hpp"

namespace labctl::registry {
namespace {

using Json = nlohmann::json;

const std::string k_manifest_accept = fmt::format("Accept: {}, {}, {}, {}", k_docker_manifest,
                                                  k_oci_manifest, k_docker_list, k_oci_index);

std::string sha256_of(const std::string& data) {
  return "sha256:" + images::digest_hex(images::DigestKind::sha256, data);
}

// "scheme://host[:port]" of a URL, for resolving "/v2/..." paths.
std::string origin_of(const std::string& url) {
  const auto scheme = url.find("://");
  const auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  return slash == std::string::npos ? url : url.substr(0, slash);
}

std::string url_encode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// The registry's own words: {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "..."}]}.
std::string registry_errors(const std::string& body) {
  const Json json = Json::parse(body, nullptr, false);
  if (!json.is_object() || !json.contains("errors") || !json["errors"].is_array()) {
    return "";
  }
  std::string out;
  for (const Json& e : json["errors"]) {
    if (e.is_object()) {
      out += fmt::format("{}{} {}", out.empty() ? "" : "; ", e.value("code", ""),
                         e.value("message", ""));
    }
  }
  return out;
}

Error http_error(const Request& request, const Response& response) {
  std::string message = fmt::format("{} {}: HTTP {}", request.method, request.url, response.status);
  if (const std::string said = registry_errors(response.body); !said.empty()) {
    message += " (" + said + ")";
  }
  return Error::failure(message);
}

Result<Descriptor> descriptor_of(const Json& json, const std::string& what) {
  if (!json.is_object() || !json.contains("digest") || !json["digest"].is_string() ||
      !json.contains("size") || !json["size"].is_number_unsigned()) {
    return Error::failure("manifest: " + what + " lacks a digest or a size");
  }
  Descriptor d{json.value("mediaType", ""), json["digest"].get<std::string>(),
               json["size"].get<std::uint64_t>()};
  if (!valid_digest(d.digest)) {
    return Error::failure("manifest: " + what + " has digest '" + d.digest +
                          "', not sha256:<64 hex digits>");
  }
  return d;
}

std::string join_url(const std::string& location, const std::string& query) {
  return location + (location.find('?') == std::string::npos ? "?" : "&") + query;
}

}  // namespace

std::uint64_t Image::size() const {
  std::uint64_t total = manifest.body.size() + config.size;
  for (const Descriptor& layer : layers) {
    total += layer.size;
  }
  return total;
}

Result<Image> parse_image(RawManifest manifest) {
  const Json json = Json::parse(manifest.body, nullptr, false);
  if (!json.is_object()) {
    return Error::failure("manifest " + manifest.digest + " is not JSON");
  }
  const std::string type = json.value("mediaType", manifest.media_type);
  if (type == k_docker_list || type == k_oci_index || json.contains("manifests")) {
    return Error::failure("manifest " + manifest.digest + " is a list of platforms, not an image");
  }
  if (!json.contains("layers") || !json["layers"].is_array()) {
    return Error::failure("manifest " + manifest.digest +
                          " has no layers (schema 1 is unsupported)");
  }
  Image image;
  auto config = descriptor_of(json.value("config", Json()), "config");
  if (!config) {
    return config.error();
  }
  image.config = *config;
  for (std::size_t i = 0; i < json["layers"].size(); ++i) {
    auto layer = descriptor_of(json["layers"][i], fmt::format("layer {}", i));
    if (!layer) {
      return layer.error();
    }
    image.layers.push_back(*layer);
  }
  manifest.media_type = type.empty() ? k_oci_manifest : type;
  image.manifest = std::move(manifest);
  return image;
}

Result<std::string> pick_platform(const RawManifest& index, const std::string& os,
                                  const std::string& architecture) {
  const Json json = Json::parse(index.body, nullptr, false);
  if (!json.is_object() || !json.contains("manifests") || !json["manifests"].is_array()) {
    return Error::failure("manifest " + index.digest + " is not a list of platforms");
  }
  for (const Json& entry : json["manifests"]) {
    const Json platform = entry.value("platform", Json::object());
    if (platform.value("os", "") == os && platform.value("architecture", "") == architecture &&
        entry.contains("digest") && entry["digest"].is_string()) {
      return entry["digest"].get<std::string>();
    }
  }
  return Error::failure(
      fmt::format("manifest {} has no {}/{} image", index.digest, os, architecture));
}

std::map<std::string, std::string> parse_bearer_challenge(const std::string& header) {
  std::map<std::string, std::string> parts;
  if (header.size() < 7 ||
      !std::equal(header.begin(), header.begin() + 7, "Bearer ",
                  [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
    return parts;
  }
  std::size_t at = 7;
  while (at < header.size()) {
    const auto eq = header.find('=', at);
    if (eq == std::string::npos) {
      break;
    }
    std::string key = header.substr(at, eq - at);
    key.erase(0, key.find_first_not_of(" ,"));
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string value;
    if (eq + 1 < header.size() && header[eq + 1] == '"') {
      const auto close = header.find('"', eq + 2);
      value = header.substr(eq + 2, close - eq - 2);
      at = close == std::string::npos ? header.size() : close + 1;
    } else {
      const auto comma = header.find(',', eq + 1);
      value = header.substr(eq + 1, comma - eq - 1);
      at = comma == std::string::npos ? header.size() : comma;
    }
    parts[key] = value;
    at = header.find_first_not_of(" ,", at);
  }
  return parts;
}

std::string next_link(const std::string& header, const std::string& base) {
  const auto open = header.find('<');
  const auto close = header.find('>', open);
  if (open == std::string::npos || close == std::string::npos ||
      header.find("rel=\"next\"", close) == std::string::npos) {
    return "";
  }
  const std::string target = header.substr(open + 1, close - open - 1);
  return target.starts_with("/") ? origin_of(base) + target : target;
}

Client::Client(Transport& transport, std::string base)
    : m_transport(transport), m_base(std::move(base)) {
  while (m_base.ends_with("/")) {
    m_base.pop_back();
  }
}

Result<std::string> Client::fetch_token(const std::string& challenge) {
  const auto parts = parse_bearer_challenge(challenge);
  if (parts.count("realm") == 0) {
    return Error::failure(m_base + " asks for credentials (" + challenge +
                          "); only anonymous access is supported");
  }
  std::string url = parts.at("realm");
  for (const char* key : {"service", "scope"}) {
    if (parts.count(key) != 0) {
      url = join_url(url, std::string(key) + "=" + url_encode(parts.at(key)));
    }
  }
  Request request{"GET", url};
  auto response = m_transport.send(request);
  if (!response) {
    return response.error();
  }
  if (response->status != 200) {
    return http_error(request, *response);
  }
  const Json json = Json::parse(response->body, nullptr, false);
  const std::string token =
      json.is_object() ? json.value("token", json.value("access_token", "")) : std::string();
  if (token.empty()) {
    return Error::failure("GET " + url + ": no token in the answer");
  }
  return token;
}

Result<Response> Client::send(Request request, const std::string& repository) {
  const std::vector<std::string> plain_headers = request.headers;
  for (int attempt = 0;; ++attempt) {
    request.headers = plain_headers;
    if (const auto it = m_tokens.find(repository); it != m_tokens.end()) {
      request.headers.push_back("Authorization: Bearer " + it->second);
    }
    auto response = m_transport.send(request);
    if (!response || response->status != 401 || attempt > 0) {
      return response;
    }
    auto token = fetch_token(response->header("www-authenticate"));
    if (!token) {
      return token.error();
    }
    m_tokens[repository] = *token;
  }
}

Result<Response> Client::send_expecting(Request request, const std::string& repository,
                                        std::initializer_list<long> statuses) {
  auto response = send(request, repository);
  if (response && std::find(statuses.begin(), statuses.end(), response->status) == statuses.end()) {
    return http_error(request, *response);
  }
  return response;
}

Status Client::ping() {
  Request request{"GET", m_base + "/v2/"};
  auto response = m_transport.send(request);
  if (!response) {
    return response.error();
  }
  if (response->status == 200 || response->status == 401) {
    return {};
  }
  return Error::failure(
      fmt::format("{} is not a registry: GET /v2/ answered HTTP {}", m_base, response->status));
}

Result<std::optional<std::vector<std::string>>> Client::paged(const std::string& path,
                                                              const std::string& repository,
                                                              const std::string& key) {
  std::vector<std::string> all;
  std::string url = m_base + path;
  while (!url.empty()) {
    auto response = send_expecting({"GET", url}, repository, {200, 404});
    if (!response) {
      return response.error();
    }
    if (response->status == 404) {
      return std::optional<std::vector<std::string>>();
    }
    const Json json = Json::parse(response->body, nullptr, false);
    if (!json.is_object()) {
      return Error::failure("GET " + url + ": not JSON");
    }
    for (const Json& item : json.value(key, Json::array())) {
      if (item.is_string()) {
        all.push_back(item.get<std::string>());
      }
    }
    url = next_link(response->header("link"), m_base);
  }
  return std::optional<std::vector<std::string>>(std::move(all));
}

Result<std::optional<std::vector<std::string>>> Client::tags(const std::string& repository) {
  return paged("/v2/" + repository + "/tags/list?n=1000", repository, "tags");
}

Result<std::vector<std::string>> Client::catalog() {
  auto all = paged("/v2/_catalog?n=1000", "", "repositories");
  if (!all) {
    return all.error();
  }
  if (!*all) {
    return Error::failure(m_base + " has no catalog (GET /v2/_catalog answered HTTP 404)");
  }
  return std::move(**all);
}

Result<std::optional<std::string>> Client::manifest_digest(const std::string& repository,
                                                           const std::string& reference) {
  Request request{
      "HEAD", m_base + "/v2/" + repository + "/manifests/" + reference, {k_manifest_accept}};
  auto response = send_expecting(request, repository, {200, 404});
  if (!response) {
    return response.error();
  }
  if (response->status == 404) {
    return std::optional<std::string>();
  }
  return std::optional<std::string>(response->header("docker-content-digest"));
}

Result<RawManifest> Client::manifest(const std::string& repository, const std::string& reference) {
  Request request{
      "GET", m_base + "/v2/" + repository + "/manifests/" + reference, {k_manifest_accept}};
  auto response = send_expecting(request, repository, {200});
  if (!response) {
    return response.error();
  }
  RawManifest raw{response->header("content-type"), sha256_of(response->body), response->body};
  const std::string said = response->header("docker-content-digest");
  const std::string expected = valid_digest(reference) ? reference : said;
  if (!expected.empty() && expected != raw.digest) {
    return Error::failure(fmt::format("manifest {}:{} has digest {}, the registry said {}",
                                      repository, reference, raw.digest, expected));
  }
  return raw;
}

Result<Image> Client::image(const Reference& ref) {
  auto raw = manifest(ref.repository, ref.reference());
  if (!raw) {
    return raw.error();
  }
  const Json json = Json::parse(raw->body, nullptr, false);
  if (json.is_object() && json.contains("manifests")) {
    auto digest = pick_platform(*raw);
    if (!digest) {
      return Error::failure(ref.name() + ": " + digest.error().message);
    }
    raw = manifest(ref.repository, *digest);
    if (!raw) {
      return raw.error();
    }
  }
  return parse_image(std::move(*raw));
}

Status Client::blob(const std::string& repository, const Descriptor& blob, const std::string& path,
                    const sys::ProgressFn& progress) {
  Request request{"GET", m_base + "/v2/" + repository + "/blobs/" + blob.digest};
  request.output_file = path;
  request.progress = progress;
  auto response = send_expecting(request, repository, {200});
  if (!response) {
    return response.error();
  }
  auto hex = images::file_digest_hex(images::DigestKind::sha256, path);
  if (!hex) {
    return hex.error();
  }
  if ("sha256:" + *hex != blob.digest) {
    std::error_code ec;
    std::filesystem::remove(path, ec);
    return Error::failure(fmt::format("blob {} of {} from {} has digest sha256:{}", blob.digest,
                                      repository, m_base, *hex));
  }
  return {};
}

Result<bool> Client::has_blob(const std::string& repository, const std::string& digest) {
  auto response = send_expecting({"HEAD", m_base + "/v2/" + repository + "/blobs/" + digest},
                                 repository, {200, 404});
  if (!response) {
    return response.error();
  }
  return response->status == 200;
}

Status Client::push_blob(const std::string& repository, const std::string& digest,
                         const std::string& path) {
  Request start{"POST", m_base + "/v2/" + repository + "/blobs/uploads/"};
  auto started = send_expecting(start, repository, {202});
  if (!started) {
    return started.error();
  }
  std::string location = started->header("location");
  if (location.starts_with("/")) {
    location = origin_of(m_base) + location;
  }
  Request put{"PUT",
              join_url(location, "digest=" + url_encode(digest)),
              {"Content-Type: application/octet-stream"}};
  put.body_file = path;
  auto done = send_expecting(put, repository, {201});
  return done ? Status() : Status(done.error());
}

Status Client::push_manifest(const std::string& repository, const std::string& reference,
                             const RawManifest& manifest) {
  Request put{"PUT",
              m_base + "/v2/" + repository + "/manifests/" + reference,
              {"Content-Type: " + manifest.media_type}};
  put.body = manifest.body;
  auto done = send_expecting(put, repository, {201});
  return done ? Status() : Status(done.error());
}

}  // namespace labctl::registry

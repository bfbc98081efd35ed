#pragma once

// The Registry HTTP API v2 (the CNCF distribution spec) over a Transport: ping, anonymous
// Bearer tokens (Docker Hub's flow: a 401 names the realm, service and scope to ask a token
// for), manifests (Docker schema 2 and OCI, lists and indexes resolved to linux/amd64), tags
// and catalog with `Link` pagination, blobs to files verified by sha256, monolithic uploads.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "provision/registry/reference.hpp"
#include "provision/registry/transport.hpp"
#include "provision/result.hpp"
#include "provision/sys/http.hpp"

namespace labctl::registry {

constexpr const char* k_docker_manifest = "application/vnd.docker.distribution.manifest.v2+json";
constexpr const char* k_docker_list = "application/vnd.docker.distribution.manifest.list.v2+json";
constexpr const char* k_oci_manifest = "application/vnd.oci.image.manifest.v1+json";
constexpr const char* k_oci_index = "application/vnd.oci.image.index.v1+json";

struct Descriptor {
  std::string media_type;
  std::string digest;
  std::uint64_t size = 0;
};

// A manifest as the registry sent it: its bytes are what the digest covers.
struct RawManifest {
  std::string media_type;
  std::string digest;  // sha256 of body, checked against the registry's and the reference
  std::string body;
};

// A single-platform image: the manifest and what it references.
struct Image {
  RawManifest manifest;
  Descriptor config;
  std::vector<Descriptor> layers;

  std::uint64_t size() const;  // manifest, config and layers
};

// Parses an image manifest (Docker schema 2 or OCI); an index or list is an error.
Result<Image> parse_image(RawManifest manifest);
// The digest of linux/amd64 in a manifest list or OCI index.
Result<std::string> pick_platform(const RawManifest& index, const std::string& os = "linux",
                                  const std::string& architecture = "amd64");

class Client {
 public:
  // `base` is "http://127.0.0.1:5000" or "https://registry-1.docker.io" (no /v2).
  Client(Transport& transport, std::string base);

  const std::string& base() const { return m_base; }
  // GET /v2/: a registry answers 200, or 401 when it wants a token.
  Status ping();
  // Every tag of a repository, following `Link: <...>; rel="next"`. nullopt: no such repository.
  Result<std::optional<std::vector<std::string>>> tags(const std::string& repository);
  Result<std::vector<std::string>> catalog();
  // HEAD: the manifest's digest, nullopt when the registry has no such manifest.
  Result<std::optional<std::string>> manifest_digest(const std::string& repository,
                                                     const std::string& reference);
  Result<RawManifest> manifest(const std::string& repository, const std::string& reference);
  // The linux/amd64 image of a reference (a list or index resolved to its entry).
  Result<Image> image(const Reference& ref);
  // Writes the blob to `path` and checks its sha256; a wrong digest removes the file.
  Status blob(const std::string& repository, const Descriptor& blob, const std::string& path,
              const sys::ProgressFn& progress = {});
  Result<bool> has_blob(const std::string& repository, const std::string& digest);
  // Monolithic upload: POST an upload, then PUT the file with ?digest=.
  Status push_blob(const std::string& repository, const std::string& digest,
                   const std::string& path);
  Status push_manifest(const std::string& repository, const std::string& reference,
                       const RawManifest& manifest);

 private:
  Result<Response> send(Request request, const std::string& repository);
  Result<Response> send_expecting(Request request, const std::string& repository,
                                  std::initializer_list<long> statuses);
  Result<std::string> fetch_token(const std::string& challenge);
  // The list under `key` across every page; nullopt when the first page is a 404.
  Result<std::optional<std::vector<std::string>>> paged(const std::string& path,
                                                        const std::string& repository,
                                                        const std::string& key);

  Transport& m_transport;
  std::string m_base;
  std::map<std::string, std::string> m_tokens;  // scope -> Bearer token
};

// Parts of `WWW-Authenticate: Bearer realm="...",service="...",scope="..."` (keys lower case);
// empty when it is not a Bearer challenge.
std::map<std::string, std::string> parse_bearer_challenge(const std::string& header);
// The URL of `Link: </v2/x/tags/list?last=y&n=100>; rel="next"` resolved against `base`; "" none.
std::string next_link(const std::string& header, const std::string& base);

}  // namespace labctl::registry

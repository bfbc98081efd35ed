#include "provision/registry/client.hpp"

#include <catch2/catch.hpp>

#include "provision/images/cache.hpp"
#include "provision/registry/fake_transport.hpp"
#include "provision/registry/versions.hpp"
#include "tests/support/golden.hpp"

namespace labctl::registry {
namespace {

const std::string k_hub = "https://registry.test";
const std::string k_auth = "https://auth.test/token";

std::string sha(const std::string& data) {
  return "sha256:" + images::digest_hex(images::DigestKind::sha256, data);
}

Response ok(std::string body, std::map<std::string, std::string> headers = {}) {
  return {200, std::move(headers), std::move(body)};
}

Response status(long code, std::map<std::string, std::string> headers = {}) {
  return {code, std::move(headers), ""};
}

Response challenge(const std::string& scope) {
  return status(
      401, {{"www-authenticate",
             "Bearer realm=\"" + k_auth + "\",service=\"registry.test\",scope=\"" + scope + "\""}});
}

std::string image_manifest(const std::string& config, const std::string& layer) {
  return R"({"schemaVersion":2,"mediaType":")" + std::string(k_docker_manifest) +
         R"(","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":)" +
         std::to_string(config.size()) + R"(,"digest":")" + sha(config) +
         R"("},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":)" +
         std::to_string(layer.size()) + R"(,"digest":")" + sha(layer) + R"("}]})";
}

}  // namespace

TEST_CASE("registry client: anonymous token flow", "[unit]") {
  FakeTransport http;
  const std::string manifest = image_manifest("{}", "layer");
  const std::string url = k_hub + "/v2/library/postgres/manifests/15";
  http.on("GET", url, challenge("repository:library/postgres:pull"));
  http.on("GET", url,
          ok(manifest,
             {{"content-type", k_docker_manifest}, {"docker-content-digest", sha(manifest)}}));
  http.on("GET", k_auth + "?service=registry.test&scope=repository%3Alibrary%2Fpostgres%3Apull",
          ok(R"({"token":"T1"})"));
  Client client(http, k_hub + "/");

  auto image = client.image(*parse_reference("postgres:15"));
  REQUIRE(image.ok());
  CHECK(image->manifest.digest == sha(manifest));
  CHECK(image->layers.size() == 1);
  CHECK(http.asked() ==
        std::vector<std::string>{
            "GET " + url,
            "GET " + k_auth + "?service=registry.test&scope=repository%3Alibrary%2Fpostgres%3Apull",
            "GET " + url});
  const auto& retried = http.requests().back().headers;
  CHECK(std::find(retried.begin(), retried.end(), "Authorization: Bearer T1") != retried.end());

  SECTION("the token is kept for the repository") {
    http.on("HEAD", url, ok("", {{"docker-content-digest", sha(manifest)}}));
    auto digest = client.manifest_digest("library/postgres", "15");
    REQUIRE(digest.ok());
    CHECK(**digest == sha(manifest));
    CHECK(http.asked().size() == 4);
  }
  SECTION("a challenge without a realm is refused with what it said") {
    http.on("GET", k_hub + "/v2/x/y/tags/list?n=1000",
            status(401, {{"www-authenticate", "Basic realm=\"x\""}}));
    auto tags = client.tags("x/y");
    REQUIRE_FALSE(tags.ok());
    CHECK_THAT(tags.error().message, Catch::Contains("only anonymous access"));
  }
}

TEST_CASE("registry client: tags follow Link pagination", "[unit]") {
  FakeTransport http;
  http.on("GET", k_hub + "/v2/s/tm/tags/list?n=1000",
          ok(R"({"name":"s/tm","tags":["1.19.1","1.20.0"]})",
             {{"link", "</v2/s/tm/tags/list?last=1.20.0&n=1000>; rel=\"next\""}}));
  http.on("GET", k_hub + "/v2/s/tm/tags/list?last=1.20.0&n=1000",
          ok(R"({"name":"s/tm","tags":["6.0.0","latest"]})"));
  http.on("GET", k_hub + "/v2/none/tags/list?n=1000", status(404));
  Client client(http, k_hub);

  auto tags = client.tags("s/tm");
  REQUIRE(tags.ok());
  REQUIRE(tags->has_value());
  CHECK(**tags == std::vector<std::string>{"1.19.1", "1.20.0", "6.0.0", "latest"});
  auto none = client.tags("none");
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
}

TEST_CASE("registry client: a manifest list resolves to linux/amd64", "[unit]") {
  FakeTransport http;
  const std::string manifest = image_manifest("{\"a\":1}", "L");
  const std::string list = R"({"schemaVersion":2,"mediaType":")" + std::string(k_oci_index) +
                           R"(","manifests":[)"
                           R"({"digest":")" +
                           sha("arm") +
                           R"(","size":3,"platform":{"os":"linux","architecture":"arm64"}},)"
                           R"({"digest":")" +
                           sha(manifest) +
                           R"(","size":3,"platform":{"os":"linux","architecture":"amd64"}}]})";
  http.on("GET", k_hub + "/v2/library/nginx/manifests/1.25-alpine",
          ok(list, {{"content-type", k_oci_index}}));
  http.on("GET", k_hub + "/v2/library/nginx/manifests/" + sha(manifest),
          ok(manifest, {{"content-type", k_docker_manifest}}));
  Client client(http, k_hub);

  auto image = client.image(*parse_reference("nginx:1.25-alpine"));
  REQUIRE(image.ok());
  CHECK(image->manifest.digest == sha(manifest));
  CHECK(image->config.digest == sha("{\"a\":1}"));
  const auto& accept = http.requests().front().headers;
  REQUIRE(accept.size() == 1);
  for (const char* type : {k_docker_manifest, k_docker_list, k_oci_manifest, k_oci_index}) {
    CHECK_THAT(accept.front(), Catch::Contains(type));
  }

  SECTION("a manifest whose bytes do not match the digest asked for is refused") {
    FakeTransport tampered;
    tampered.on("GET", k_hub + "/v2/library/nginx/manifests/1.25-alpine", ok(list));
    tampered.on("GET", k_hub + "/v2/library/nginx/manifests/" + sha(manifest), ok(manifest + " "));
    Client bad_client(tampered, k_hub);
    auto bad = bad_client.image(*parse_reference("nginx:1.25-alpine"));
    REQUIRE_FALSE(bad.ok());
    CHECK_THAT(bad.error().message, Catch::Contains("has digest"));
  }
}

TEST_CASE("registry client: blobs are verified by sha256", "[unit]") {
  testing::ScratchDir dir("lct-blob");
  FakeTransport http;
  http.on("GET", k_hub + "/v2/r/blobs/" + sha("good"), ok("good"));
  http.on("GET", k_hub + "/v2/r/blobs/" + sha("other"), ok("tampered"));
  Client client(http, k_hub);
  const std::string path = (dir.path() / "blob").string();

  REQUIRE(client.blob("r", {"", sha("good"), 4}, path).ok());
  CHECK(testing::read_file(path) == "good");
  auto bad = client.blob("r", {"", sha("other"), 5}, path);
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.error().message, Catch::Contains("has digest " + sha("tampered")));
  CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("registry client: a monolithic upload posts, then puts with the digest", "[unit]") {
  testing::ScratchDir dir("lct-push");
  std::ofstream(dir.path() / "blob") << "data";
  FakeTransport http;
  http.on("POST", "http://r.test/v2/a/b/blobs/uploads/",
          status(202, {{"location", "/v2/a/b/blobs/uploads/u1?_state=s"}}));
  http.on("PUT", "http://r.test/v2/a/b/blobs/uploads/u1?_state=s&digest=sha256%3Aabc", status(201));
  Client client(http, "http://r.test");
  REQUIRE(client.push_blob("a/b", "sha256:abc", (dir.path() / "blob").string()).ok());
  CHECK(http.requests().back().body_file == (dir.path() / "blob").string());

  SECTION("a pull-through cache refuses pushes, and the error says what it said") {
    FakeTransport proxy;
    proxy.on("POST", "http://r.test/v2/a/b/blobs/uploads/",
             {405,
              {},
              R"({"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]})"});
    Client cache(proxy, "http://r.test");
    auto refused = cache.push_blob("a/b", "sha256:abc", (dir.path() / "blob").string());
    REQUIRE_FALSE(refused.ok());
    CHECK_THAT(refused.error().message, Catch::Contains("HTTP 405 (UNSUPPORTED"));
  }
}

TEST_CASE("registry client: ping tells a registry from another server", "[unit]") {
  FakeTransport http;
  http.on("GET", "http://a.test/v2/", status(401));
  http.on("GET", "http://b.test/v2/", status(404));
  FakeTransport none;
  CHECK(Client(http, "http://a.test").ping().ok());
  CHECK(Client(http, "http://b.test").ping().error().message ==
        "http://b.test is not a registry: GET /v2/ answered HTTP 404");
  CHECK_FALSE(Client(none, "http://c.test").ping().ok());
}

TEST_CASE("registry references and challenges parse", "[unit]") {
  CHECK(parse_reference("postgres:15")->name() == "library/postgres:15");
  CHECK(parse_reference("squashtest/squash-tm:6.0.0")->repository == "squashtest/squash-tm");
  CHECK(parse_reference("docker.io/library/nginx:1.25-alpine")->name() ==
        "library/nginx:1.25-alpine");
  CHECK(parse_reference("localhost:5000/x/y")->domain == "localhost:5000");
  CHECK(parse_reference("localhost:5000/x/y")->tag == "latest");
  CHECK_FALSE(parse_reference("Bad/Name:1").ok());
  const auto parts = parse_bearer_challenge(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/postgres:pull")");
  CHECK(parts == std::map<std::string, std::string>{{"realm", "https://auth.docker.io/token"},
                                                    {"service", "registry.docker.io"},
                                                    {"scope", "repository:library/postgres:pull"}});
  CHECK(next_link("<https://x.test/v2/_catalog?last=b>; rel=\"next\"", "http://y.test") ==
        "https://x.test/v2/_catalog?last=b");
  CHECK(next_link("", "http://y.test").empty());
}

TEST_CASE("nearest tags in version order", "[unit]") {
  const std::vector<std::string> tags{"latest", "6.0.0", "1.19.1",  "1.20.0", "1.22.2",
                                      "2.0.0",  "1.9.0", "nightly", "1.22.10"};
  CHECK(compare_versions("1.9", "1.10") < 0);
  CHECK(compare_versions("1.10.1", "1.10") > 0);
  CHECK(compare_versions("6.0.0", "6.0.0") == 0);
  CHECK(nearest_tags("1.16", tags) ==
        std::vector<std::string>{"1.9.0", "1.19.1", "1.20.0", "1.22.2"});
  CHECK(nearest_tags("1.7.4", tags) ==
        std::vector<std::string>{"1.9.0", "1.19.1", "1.20.0", "1.22.2"});
  CHECK(nearest_tags("9.9", tags) ==
        std::vector<std::string>{"1.22.2", "1.22.10", "2.0.0", "6.0.0"});
  CHECK(nearest_tags("1.22.5", tags, 2) == std::vector<std::string>{"1.22.2", "1.22.10"});
  CHECK(nearest_tags("1.0", {"latest"}).empty());
}

TEST_CASE("missing images are found with their nearest tags", "[unit]") {
  FakeTransport http;
  http.on("HEAD", k_hub + "/v2/s/tm/manifests/6.0.0",
          ok("", {{"docker-content-digest", "sha256:x"}}));
  http.on("HEAD", k_hub + "/v2/s/tm/manifests/1.16", status(404));
  http.on("GET", k_hub + "/v2/s/tm/tags/list?n=1000", ok(R"({"tags":["1.19.1","6.0.0"]})"));
  http.on("HEAD", k_hub + "/v2/s/gone/manifests/1", status(404));
  http.on("GET", k_hub + "/v2/s/gone/tags/list?n=1000", status(404));
  Client client(http, k_hub);
  auto missing =
      find_missing(client, {*parse_reference("s/tm:6.0.0"), *parse_reference("s/tm:1.16"),
                            *parse_reference("s/gone:1")});
  REQUIRE(missing.ok());
  REQUIRE(missing->size() == 2);
  CHECK(describe((*missing)[0], k_hub) ==
        "image s/tm:1.16 does not exist on " + k_hub + "; nearest tags: 1.19.1, 6.0.0");
  CHECK(describe((*missing)[1], k_hub) ==
        "image s/gone:1 does not exist on " + k_hub + ": no repository s/gone");
}

}  // namespace labctl::registry

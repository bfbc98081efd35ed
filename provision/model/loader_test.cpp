#include "provision/model/loader.hpp"

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>
#include <catch2/catch.hpp>

#include "tests/support/backends.hpp"
#include "tests/support/golden.hpp"

using labctl::ErrorKind;
using labctl::model::load_lab;
using labctl::model::parse_lab;

namespace {

// A small valid lab; cases below change one thing in it.
const std::string k_base = R"(classroom: cd26
teams: {count: 2}
template:
  networks:
    lan: {kind: nat}
    lab: {kind: isolated}
  vms:
    vm1:
      instances:
        - {name: main, version: 6.0.0}
)";

std::string error_of(const std::string& text) {
  const auto lab = parse_lab(text, "lab.yaml", labctl::testing::two_backends());
  REQUIRE_FALSE(lab.ok());
  CHECK(lab.error().kind == ErrorKind::lab);
  return lab.error().message;
}

const std::string k_sha = "sha256: " + std::string(64, 'a');

std::string with_vm1(const std::string& body) {
  return "classroom: cd26\nteams: {count: 2}\ntemplate:\n  networks:\n    lan: {kind: nat}\n"
         "  vms:\n    vm1:\n" +
         body;
}

}  // namespace

TEST_CASE("the base lab of these tests is valid", "[unit][model]") {
  const auto lab = parse_lab(k_base, "lab.yaml");
  INFO((lab.ok() ? std::string() : lab.error().message));
  REQUIRE(lab.ok());
  CHECK(lab->teams.size() == 2);
}

TEST_CASE("lab file syntax and schema errors", "[unit][model]") {
  SECTION("yaml syntax errors keep yaml-cpp's location") {
    CHECK(error_of("classroom: cd26\nteams: {count: 2\n") ==
          "lab.yaml:3:1: yaml: end of map flow not found");
    CHECK(error_of("classroom: cd26\n  bad: indent\n") == "lab.yaml:2:6: yaml: illegal map value");
  }
  SECTION("unknown keys suggest the closest known one") {
    CHECK(error_of(with_vm1("      memroy: 1GiB\n")) ==
          "lab.yaml:8:7: template.vms.vm1.memroy: unknown key (did you mean 'memory'?)");
    CHECK(error_of("bananas: 3\n" + k_base) == "lab.yaml:1:1: bananas: unknown key");
    CHECK(error_of(k_base + "acelerator: kvm\n") ==
          "lab.yaml:11:1: acelerator: unknown key (did you mean 'accelerator'?)");
  }
  SECTION("wrong types") {
    CHECK(error_of("classroom: cd26\nteams: {count: 2}\ntemplate: [a]\n") ==
          "lab.yaml:3:11: template: expected a mapping");
    CHECK(error_of(with_vm1("      instances: main\n")) ==
          "lab.yaml:8:18: template.vms.vm1.instances: expected a list");
    CHECK(error_of("classroom: [cd26]\n" + k_base.substr(k_base.find('\n') + 1)) ==
          "lab.yaml:1:12: classroom: expected a single value, not a list or mapping");
    CHECK(error_of(with_vm1("      vcpus: two\n")) ==
          "lab.yaml:8:14: template.vms.vm1.vcpus: invalid number 'two' (expected an integer from 1 "
          "to 64)");
    CHECK(error_of("accelerator: xen\n" + k_base) ==
          "lab.yaml:1:14: accelerator: invalid value 'xen' (expected auto, kvm, qemu)");
  }
  SECTION("missing required keys point at the enclosing mapping") {
    CHECK(error_of(k_base.substr(k_base.find('\n') + 1)) ==
          "lab.yaml:1:1: classroom: missing required key");
    CHECK(error_of("") ==
          "lab.yaml:1:1: (top level): the file is empty (expected a mapping with classroom:, "
          "teams: and template:)");
    CHECK(error_of(with_vm1("      instances:\n        - {name: main}\n")) ==
          "lab.yaml:9:11: template.vms.vm1.instances[0].version: missing required key");
    CHECK(error_of("classroom: cd26\nteams: {count: 2}\ntemplate:\n  networks:\n    lan: {}\n"
                   "  vms: {vm1: }\n") ==
          "lab.yaml:5:5: template.networks.lan: missing required key 'kind'");
  }
  SECTION("URLs and overlong values") {
    CHECK(error_of("docker: {apt_proxy: \"http://x:3142/$(reboot)\"}\n" + k_base) ==
          "lab.yaml:1:21: docker.apt_proxy: invalid URL 'http://x:3142/$(reboot)' (expected "
          "http://... or https://...)");
    CHECK(error_of("title: " + std::string(5000, 'x') + "\n" + k_base) ==
          "lab.yaml:1:8: title: value is too long (at most 4096 characters)");
  }
  SECTION("exactly one of teams.count and teams.names") {
    CHECK(error_of("classroom: cd26\nteams: {count: 2, names: [a]}\ntemplate:\n  networks:\n"
                   "    lan: {kind: nat}\n  vms: {vm1: }\n") ==
          "lab.yaml:2:8: teams: give exactly one of count: or names:");
  }
}

TEST_CASE("lab file value rules", "[unit][model]") {
  SECTION("sizes") {
    CHECK(error_of(with_vm1("      memory: 2 bananas\n")) ==
          "lab.yaml:8:15: template.vms.vm1.memory: invalid size '2 bananas' (use e.g. 2GiB, "
          "512MiB)");
    CHECK(error_of(with_vm1("      disk: -1G\n")) ==
          "lab.yaml:8:13: template.vms.vm1.disk: invalid size '-1G' (use e.g. 2GiB, 512MiB)");
    CHECK(error_of("memory_cap: 0\n" + k_base) ==
          "lab.yaml:1:13: memory_cap: invalid size '0' (must be more than zero)");
  }
  SECTION("memory above the classroom's cap") {
    CHECK(error_of(with_vm1("      memory: 4GiB\n")) ==
          "lab.yaml:8:15: template.vms.vm1.memory: memory 4GiB exceeds the classroom's cap of "
          "2GiB");
    CHECK(error_of("defaults: {memory: 3072MiB}\n" + k_base) ==
          "lab.yaml:1:20: defaults.memory: memory 3GiB exceeds the classroom's cap of 2GiB");
  }
  SECTION("names") {
    CHECK(error_of("classroom: CD26\n" + k_base.substr(k_base.find('\n') + 1)) ==
          "lab.yaml:1:12: classroom: invalid classroom name 'CD26': use 1 to 12 lower-case "
          "letters and digits, starting with a letter");
    CHECK(error_of("admin_user: Student\n" + k_base) ==
          "lab.yaml:1:13: admin_user: invalid admin user 'Student': use lower-case letters, "
          "digits and '-', starting with a letter, not ending with '-', at most 32 characters");
    CHECK(error_of("classroom: cd26\nteams: {names: [red, Blue]}\ntemplate:\n  networks:\n"
                   "    lan: {kind: nat}\n  vms: {vm1: }\n") ==
          "lab.yaml:2:22: teams.names[1]: invalid team name 'Blue': use lower-case letters, "
          "digits and '-', starting with a letter, not ending with '-', at most 32 characters");
    CHECK(error_of("classroom: cd26\nteams: {count: 1}\ntemplate:\n  networks:\n"
                   "    my_lan: {kind: nat}\n  vms: {vm1: }\n") ==
          "lab.yaml:5:5: template.networks.my_lan: invalid network key 'my_lan': use lower-case "
          "letters, digits and '-', starting with a letter, not ending with '-', at most 32 "
          "characters");
    CHECK(error_of(with_vm1("      instances:\n        - {name: main-, version: 6.0.0}\n")) ==
          "lab.yaml:9:18: template.vms.vm1.instances[0].name: invalid instance name 'main-': "
          "use lower-case letters, digits and '-', starting with a letter, not ending with "
          "'-', at most 32 characters");
  }
  SECTION("duplicates") {
    CHECK(error_of("classroom: cd26\nteams: {names: [red, red]}\ntemplate:\n  networks:\n"
                   "    lan: {kind: nat}\n  vms: {vm1: }\n") ==
          "lab.yaml:2:22: teams.names[1]: duplicate team name 'red'");
    CHECK(error_of(with_vm1("      vcpus: 1\n    vm1:\n      vcpus: 2\n")) ==
          "lab.yaml:9:5: template.vms.vm1: duplicate key");
    CHECK(error_of(with_vm1("      instances:\n        - {name: main, version: 6.0.0}\n"
                            "        - {name: main, version: 5.1.0}\n")) ==
          "lab.yaml:10:18: template.vms.vm1.instances[1].name: duplicate instance name 'main' "
          "on vm1");
  }
  SECTION("ports") {
    CHECK(error_of(with_vm1("      instances:\n"
                            "        - {name: main, version: 6.0.0, port: 8081, db: h2}\n"
                            "        - {name: next, version: 6.1.0, port: 8081, db: h2}\n")) ==
          "lab.yaml:10:46: template.vms.vm1.instances[1].port: port 8081 already used by "
          "instance 'main' on vm1");
    CHECK(error_of(
              with_vm1("      instances:\n        - {name: main, version: 6.0.0, port: 80}\n")) ==
          "lab.yaml:9:46: template.vms.vm1.instances[0].port: invalid number '80' (expected an "
          "integer from 1024 to 65535)");
    CHECK(error_of(with_vm1("      instances:\n"
                            "        - {name: main, version: 6.0.0, port: 70000}\n")) ==
          "lab.yaml:9:46: template.vms.vm1.instances[0].port: invalid number '70000' (expected "
          "an integer from 1024 to 65535)");
    CHECK(error_of(with_vm1("      instances:\n"
                            "        - {name: main, version: 6.0.0, port: http}\n")) ==
          "lab.yaml:9:46: template.vms.vm1.instances[0].port: invalid number 'http' (expected "
          "an integer from 1024 to 65535)");
  }
  SECTION("image boot modes: a built image boots by kernel or efi, cmdline is for kernel") {
    for (const char* boot : {"kernel", "efi"}) {
      const auto lab = parse_lab(
          "image: {build: debian-12, boot: " + std::string(boot) + "}\n" + k_base, "lab.yaml");
      REQUIRE(lab.ok());
      CHECK(labctl::model::to_string(lab->image.boot) == boot);
    }
    const auto pulled = parse_lab(
        "image: {url: \"https://x.example/d.qcow2\", boot: efi, " + k_sha + "}\n" + k_base,
        "lab.yaml");
    REQUIRE(pulled.ok());
    CHECK(pulled->image.boot == labctl::model::BootMode::efi);
    CHECK(error_of("image: {build: debian-12, boot: disk}\n" + k_base) ==
          "lab.yaml:1:33: image.boot: a built image boots with kernel or efi (disk is for "
          "downloaded images)");
    CHECK(error_of("image: {build: debian-12, boot: efi, cmdline: root=/dev/sda}\n" + k_base) ==
          "lab.yaml:1:47: image.cmdline: cmdline needs boot: kernel (a disk or efi boot uses the "
          "image's own)");
    const auto download = parse_lab(
        "image: {url: \"https://x.example/d.qcow2\", " + k_sha + "}\n" + k_base, "lab.yaml");
    REQUIRE(download.ok());
    CHECK(download->image.boot == labctl::model::BootMode::disk);
    CHECK(error_of("image: {url: \"https://x.example/d.qcow2\", boot: kernel, " + k_sha + "}\n" +
                   k_base) ==
          "lab.yaml:1:49: image.boot: a downloaded image boots with disk or efi (kernel boot "
          "needs the kernel and initrd that a built image has beside its disk)");
    CHECK(error_of("image: {url: \"https://x.example/d.qcow2\", cmdline: root=/dev/vda, " + k_sha +
                   "}\n" + k_base) ==
          "lab.yaml:1:52: image.cmdline: cmdline is for built images with boot: kernel (a "
          "downloaded image boots with its own)");
    CHECK(error_of("image: {build: debian-12, boot: bios}\n" + k_base).find("image.boot") !=
          std::string::npos);
  }
  SECTION("versions") {
    CHECK(error_of(with_vm1("      instances:\n        - {name: main, version: 6.x}\n")) ==
          "lab.yaml:9:33: template.vms.vm1.instances[0].version: invalid version '6.x' "
          "(expected e.g. 6.0.0 or 1.22.2.RELEASE)");
  }
}

TEST_CASE("readiness timeouts: per stage, seconds or s/m/h, checked", "[unit][model]") {
  SECTION("defaults fit a slow classroom link") {
    const auto lab = parse_lab(k_base, "lab.yaml");
    REQUIRE(lab.ok());
    CHECK(lab->timeouts.running == std::chrono::seconds(60));
    CHECK(lab->timeouts.address == std::chrono::seconds(300));
    CHECK(lab->timeouts.cloud_init == std::chrono::seconds(1200));
    CHECK(lab->timeouts.stack == std::chrono::seconds(900));
  }
  SECTION("each stage in any of the spellings; the others keep their defaults") {
    const auto lab = parse_lab(
        "timeouts: {address: 90, ssh: 45s, cloud_init: 30m, stack: 1h}\n" + k_base, "lab.yaml");
    INFO((lab.ok() ? std::string() : lab.error().message));
    REQUIRE(lab.ok());
    CHECK(lab->timeouts.address == std::chrono::seconds(90));
    CHECK(lab->timeouts.ssh == std::chrono::seconds(45));
    CHECK(lab->timeouts.cloud_init == std::chrono::seconds(1800));
    CHECK(lab->timeouts.stack == std::chrono::seconds(3600));
    CHECK(lab->timeouts.docker == std::chrono::seconds(300));
  }
  SECTION("bad values name the line and the field") {
    CHECK(error_of("timeouts: {ssh: 5 min}\n" + k_base) ==
          "lab.yaml:1:17: timeouts.ssh: invalid duration '5 min' (expected 1s to 24h: seconds, "
          "or a number with s, m or h, e.g. 90s, 5m)");
    CHECK(error_of("timeouts: {docker: 0}\n" + k_base)
              .find("timeouts.docker: invalid duration "
                    "'0'") != std::string::npos);
    CHECK(error_of("timeouts: {stack: 25h}\n" + k_base).find("timeouts.stack: invalid duration") !=
          std::string::npos);
    CHECK(error_of("timeouts: {stack: 9223372036854775807h}\n" + k_base)
              .find("invalid duration '9223372036854775807h'") != std::string::npos);
    CHECK(error_of("timeouts: {stack: -5m}\n" + k_base).find("invalid duration '-5m'") !=
          std::string::npos);
    CHECK(error_of("timeouts: {cloudinit: 5m}\n" + k_base) ==
          "lab.yaml:1:12: timeouts.cloudinit: unknown key (did you mean 'cloud_init'?)");
  }
}

TEST_CASE("docker.source agrees with what a built image has", "[unit][model]") {
  SECTION("defaults: preinstalled when baked in, else Docker's repository") {
    const auto baked =
        parse_lab("image: {build: debian-12, with: [docker]}\n" + k_base, "lab.yaml");
    REQUIRE(baked.ok());
    CHECK(baked->docker.source == labctl::model::DockerSource::preinstalled);
    const auto bare = parse_lab("image: {build: debian-12}\n" + k_base, "lab.yaml");
    REQUIRE(bare.ok());
    CHECK(bare->docker.source == labctl::model::DockerSource::repository);
  }
  SECTION("a built image without Docker installs it from apt") {
    const auto lab = parse_lab(
        "image: {build: debian-12}\ndocker: {source: distribution}\n" + k_base, "lab.yaml");
    REQUIRE(lab.ok());
    CHECK(lab->docker.source == labctl::model::DockerSource::distribution);
  }
  SECTION("contradictions name the field") {
    CHECK(error_of("image: {build: debian-12}\ndocker: {source: preinstalled}\n" + k_base) ==
          "lab.yaml:2:18: docker.source: preinstalled, but the image is built without Docker: "
          "add docker to image.with, or use repository or distribution");
    CHECK(error_of("image: {build: debian-12, with: [docker]}\ndocker: {source: distribution}\n" +
                   k_base) ==
          "lab.yaml:2:18: docker.source: the image has Docker baked in (image.with: docker), so "
          "its guests cannot install it from distribution: use preinstalled, or drop docker from "
          "image.with");
  }
  SECTION("a downloaded image: the lab says") {
    const auto lab = parse_lab("image: {url: 'https://example.org/d.qcow2', boot: disk, " + k_sha +
                                   "}\ndocker: {source: "
                                   "preinstalled}\n" +
                                   k_base,
                               "lab.yaml");
    INFO((lab.ok() ? std::string() : lab.error().message));
    CHECK(lab.ok());
  }
}

TEST_CASE("bounds on input: what is read and how long checks take", "[unit][model]") {
  labctl::testing::ScratchDir scratch("lct-bounds");
  const std::filesystem::path dir = scratch.path();
  SECTION("only a regular file is read: a directory, a device or a pipe is refused") {
    ::mkfifo((dir / "fifo").c_str(), 0600);
    for (const std::string& path :
         {dir.string(), std::string("/dev/zero"), (dir / "fifo").string()}) {
      const auto lab = load_lab(path);
      REQUIRE_FALSE(lab.ok());
      CHECK(lab.error().kind == ErrorKind::lab);
      CHECK(lab.error().message == path +
                                       ": not a regular file (a lab file is a YAML file, not "
                                       "a directory, device or pipe)");
    }
  }
  SECTION("at most 1 MiB is read") {
    const std::string padding = "#" + std::string(99, 'x') + "\n";
    std::string text = k_base;
    while (text.size() + padding.size() <= labctl::model::k_max_lab_file) {
      text += padding;
    }
    text += std::string(labctl::model::k_max_lab_file - text.size(), '\n');
    std::ofstream(dir / "max.yaml", std::ios::binary) << text;
    const auto at_limit = load_lab((dir / "max.yaml").string());
    INFO((at_limit.ok() ? std::string() : at_limit.error().message));
    CHECK(at_limit.ok());
    std::ofstream(dir / "big.yaml", std::ios::binary) << text << "\n";
    const auto big = load_lab((dir / "big.yaml").string());
    REQUIRE_FALSE(big.ok());
    CHECK(big.error().message == (dir / "big.yaml").string() +
                                     ": the lab file is larger than 1048576 bytes (1 MiB), the "
                                     "most labctl reads");
  }
  SECTION("a second YAML document is refused, not ignored") {
    CHECK(error_of(k_base + "---\nclassroom: other\n") ==
          "lab.yaml:12:1: (top level): a second YAML document (after ---): a lab file is one "
          "document");
    CHECK(parse_lab("---\n" + k_base + "...\n", "lab.yaml").ok());
    // YAML::LoadAll() never returned on this input (found by the fuzzer).
    CHECK_FALSE(parse_lab(",+", "lab.yaml").ok());
  }
  SECTION("long lists are refused with the reason") {
    std::string names = "classroom: cd26\nteams:\n  names:\n";
    std::string instances = with_vm1("      instances:\n");
    for (int i = 0; i < 100000; ++i) {
      names += fmt::format("    - t{}\n", i);
    }
    for (int i = 0; i < 60000; ++i) {
      instances += fmt::format("        - {{name: i{}, version: 6.0.0, db: h2}}\n", i);
    }
    CHECK(error_of(names + k_base.substr(k_base.find("template:"))) ==
          "lab.yaml:4:5: teams.names: give 1 to 250 team names");
    // How long it takes is measured nowhere here (no timed tests): under ASan the ratio to
    // yaml-cpp's own parse was not stable. The refusal's message is what is pinned.
    CHECK(error_of(instances).find("no free port left for instance 'i57455' on vm1") !=
          std::string::npos);
  }
}

TEST_CASE("what up would refuse in the lab file, validate refuses", "[unit][model]") {
  SECTION("a downloaded image needs a digest: sha256 or checksums") {
    CHECK(error_of("image: {url: \"https://x.example/d.qcow2\"}\n" + k_base) ==
          "lab.yaml:1:14: image.url: a downloaded image must be verified: give image.sha256 (its "
          "SHA-256 digest) or image.checksums (the URL of the SHA256SUMS or SHA512SUMS file "
          "beside it)");
    CHECK(parse_lab("image: {url: \"https://x.example/d.qcow2\", checksums: "
                    "\"https://x.example/SHA256SUMS\"}\n" +
                        k_base,
                    "lab.yaml")
              .ok());
  }
  SECTION("memory is a whole number of 2 MiB units (Hyper-V's), on every backend") {
    CHECK(error_of(with_vm1("      memory: 1025MiB\n")) ==
          "lab.yaml:8:15: template.vms.vm1.memory: memory 1025MiB is not a multiple of 2MiB, the "
          "unit Hyper-V assigns memory in");
    CHECK(error_of("memory_cap: 2047MiB\n" + k_base) ==
          "lab.yaml:1:13: memory_cap: memory 2047MiB is not a multiple of 2MiB, the unit Hyper-V "
          "assigns memory in");
    CHECK(error_of("defaults: {memory: 1000001KiB}\n" + k_base).find("not a multiple of 2MiB") !=
          std::string::npos);
    CHECK(parse_lab(with_vm1("      memory: 1026MiB\n"), "lab.yaml").ok());
  }
}

TEST_CASE("registry: the host's classroom registry", "[unit][model]") {
  SECTION("defaults: enabled, 10.255.255.1:5000, Docker Hub") {
    const auto lab = parse_lab(k_base, "lab.yaml");
    REQUIRE(lab.ok());
    CHECK(lab->registry.enabled);
    CHECK(lab->registry.address == "10.255.255.1");
    CHECK(lab->registry.port == 5000);
    CHECK(lab->registry.upstream == "https://registry-1.docker.io");
    CHECK(labctl::model::uses_classroom_registry(*lab));
  }
  SECTION("every key given") {
    const auto lab = parse_lab(
        "registry: {enabled: false, address: 127.0.0.1, port: 5999, "
        "upstream: 'http://10.1.2.3:5000'}\n" +
            k_base,
        "lab.yaml");
    INFO((lab.ok() ? std::string() : lab.error().message));
    REQUIRE(lab.ok());
    CHECK_FALSE(lab->registry.enabled);
    CHECK(lab->registry.address == "127.0.0.1");
    CHECK(lab->registry.port == 5999);
    CHECK(lab->registry.upstream == "http://10.1.2.3:5000");
    CHECK_FALSE(labctl::model::uses_classroom_registry(*lab));
  }
  SECTION("an outside mirror wins: no classroom registry") {
    const auto lab =
        parse_lab("docker: {registry_mirror: 'http://mirror.school:5000'}\n" + k_base, "lab.yaml");
    REQUIRE(lab.ok());
    CHECK_FALSE(labctl::model::uses_classroom_registry(*lab));
  }
  SECTION("bad values name the line and the key") {
    CHECK(error_of("registry: {address: 10.255.255}\n" + k_base) ==
          "lab.yaml:1:21: registry.address: invalid registry address '10.255.255' (expected one "
          "IPv4 address, e.g. 10.255.255.1; never 0.0.0.0)");
    CHECK(error_of("registry: {address: 0.0.0.0}\n" + k_base)
              .starts_with("lab.yaml:1:21: registry.address: invalid registry address '0.0.0.0'"));
    CHECK(error_of("registry: {port: 70000}\n" + k_base)
              .starts_with("lab.yaml:1:18: registry.port: "));
    CHECK(error_of("registry: {upstream: 'ftp://x'}\n" + k_base) ==
          "lab.yaml:1:22: registry.upstream: invalid URL 'ftp://x' (expected http://... or "
          "https://...)");
    CHECK(error_of("registry: {enabled: maybe}\n" + k_base)
              .starts_with("lab.yaml:1:21: registry.enabled: "));
    CHECK(error_of("registry: {adress: 10.1.1.1}\n" + k_base) ==
          "lab.yaml:1:12: registry.adress: unknown key (did you mean 'address'?)");
  }
  SECTION("an address inside one of the lab's subnets is refused") {
    const std::string message =
        error_of("subnets: 10.70.0.0/16\nregistry: {address: 10.70.0.9}\n" + k_base);
    INFO(message);
    CHECK(
        message.starts_with("lab.yaml:2:21: registry.address: registry address 10.70.0.9 is "
                            "inside subnet 10.70.0.0/24 of cd26-"));
    CHECK(parse_lab(
              "subnets: 10.70.0.0/16\nregistry: {enabled: false, address: 10.70.0.9}\n" + k_base,
              "lab.yaml")
              .ok());
  }
}

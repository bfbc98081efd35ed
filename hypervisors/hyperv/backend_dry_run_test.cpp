#include <fstream>

#include <catch2/catch.hpp>

#include "hypervisors/hyperv/backend.hpp"
#include "hypervisors/hyperv/powershell.hpp"
#include "hypervisors/hyperv/render.hpp"
#include "hypervisors/hyperv/runner.hpp"
#include "hypervisors/hyperv/script.hpp"
#include "tests/support/fake_powershell.hpp"
#include "tests/support/golden.hpp"
#include "tests/support/labs.hpp"

namespace hy = labctl::hv::hyperv;
namespace model = labctl::model;
using labctl::ErrorCause;
using labctl::hv::VolumeFormat;

namespace {

// Records argv; "converts" by writing a VHDX signature to the target, like qemu-img would.
class FakeConverter : public labctl::sys::ProcessRunner {
 public:
  std::vector<std::vector<std::string>> calls;
  using ProcessRunner::run;
  labctl::Result<labctl::sys::ProcessResult> run(const std::vector<std::string>& argv,
                                                 const labctl::sys::ProcessOptions&) override {
    calls.push_back(argv);
    std::ofstream(argv.back(), std::ios::binary) << "vhdxfile";
    return labctl::sys::ProcessResult{0, "", ""};
  }
};

void write(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

}  // namespace

TEST_CASE("a dry run records the exact PowerShell and runs nothing", "[unit]") {
  auto recorder = std::make_unique<hy::RecordingRunner>();
  hy::RecordingRunner* recorded = recorder.get();
  auto hv = hy::make_hyperv("hyperv://", std::move(recorder));
  const model::Lab lab = labctl::testing::hyperv_lab();
  auto inventory = hv->inventory("cd26");
  REQUIRE(inventory.ok());
  CHECK(inventory->objects.empty());  // "[]": nothing exists, so a plan creates everything
  REQUIRE(hv->create_network(lab, lab.teams[0].networks[0]).ok());
  REQUIRE(hv->create_domain({&lab, &lab.teams[0].vms[0], "", ""}).ok());
  REQUIRE(
      hv->upload_volume("cd26-pool", "cd26-team1-vm1-seed.iso", "/tmp/seed.iso", VolumeFormat::raw)
          .ok());
  REQUIRE(recorded->scripts().size() == 4);
  CHECK(recorded->scripts()[0] == *hy::render_inventory(hy::k_default_root, "cd26"));
  CHECK(recorded->scripts()[1] == *hy::render_create_network(lab, lab.teams[0].networks[0]));
  CHECK(recorded->scripts()[2] ==
        *hy::render_create_vm(lab, lab.teams[0].vms[0], hy::k_default_root));
  CHECK(hy::script_verb(recorded->scripts()[3]) == "upload-volume");
}

TEST_CASE("under WSL, local files reach PowerShell as Windows paths", "[unit]") {
  auto wslpath = std::make_shared<labctl::testing::FakeWslpath>();
  auto recorder = std::make_unique<hy::RecordingRunner>();
  hy::RecordingRunner* recorded = recorder.get();
  hy::HypervOptions options;
  options.windows_path = hy::wslpath_mapper(wslpath);
  auto hv = hy::make_hyperv("hyperv://", std::move(recorder), std::move(options));
  REQUIRE(
      hv->upload_volume("cd26-pool", "cd26-team1-vm1-seed.iso", "/tmp/seed.iso", VolumeFormat::raw)
          .ok());
  // The seed does not exist here: wslpath, which refuses missing files, maps its directory.
  CHECK(wslpath->calls == std::vector<std::vector<std::string>>{{"wslpath", "-w", "/tmp"}});
  REQUIRE(recorded->scripts().size() == 1);
  CHECK_THAT(recorded->scripts()[0],
             Catch::Contains("Copy-Item -LiteralPath '\\\\wsl.localhost\\Debian\\tmp\\seed.iso' "
                             "-Destination $path -Force"));
}

TEST_CASE("powershell.exe command line and error messages", "[unit]") {
  SECTION("the script travels as -EncodedCommand") {
    auto argv = hy::powershell_argv("powershell.exe", "# labctl x y\nGet-VM\n");
    REQUIRE(argv.ok());
    CHECK(*argv == std::vector<std::string>{"powershell.exe", "-NoProfile", "-NonInteractive",
                                            "-ExecutionPolicy", "Bypass", "-EncodedCommand",
                                            *hy::encode_command("# labctl x y\nGet-VM\n")});
  }
  SECTION("a script too long for a Windows command line is refused") {
    auto argv = hy::powershell_argv("powershell.exe", std::string(13000, 'x'));
    REQUIRE_FALSE(argv.ok());
    CHECK_THAT(argv.error().message, Catch::Contains("too long for a command line"));
  }
  SECTION("the labctl-error line wins over CLIXML and position noise") {
    CHECK(
        hy::failure_message({1, "",
                             "#< CLIXML\n<Objs Version=\"1.1.0.1\"></Objs>\n"
                             "labctl-error: New-VM: The operation failed.\nAt line:3 char:1\n"}) ==
        "New-VM: The operation failed.");
  }
  SECTION("without it (a parse error before try), the last line that is not position noise") {
    CHECK(hy::failure_message({1, "",
                               "At line:1 char:5\n+ if (\n+     ~\n"
                               "Missing '(' after 'if' in if statement.\n"
                               "    + CategoryInfo          : ParserError\n"}) ==
          "Missing '(' after 'if' in if statement.");
    CHECK(hy::failure_message({5, "", ""}) == "powershell exited with 5");
  }
  SECTION("the labctl-error-category line is the cause, never the message") {
    const std::string err =
        "#< CLIXML\nlabctl-error-category: ObjectNotFound\nAt line:3 char:1\n"
        "labctl-error: Get-VM: Hyper-V was unable to find a virtual machine with name \"x\".\n";
    CHECK(hy::failure_message({1, "", err}) ==
          "Get-VM: Hyper-V was unable to find a virtual machine with name \"x\".");
    CHECK(hy::failure_message({1, "", "labctl-error-category: ResourceBusy\n"}) ==
          "powershell exited with 1");
    CHECK(hy::failure_cause({1, "", err}) == ErrorCause::not_found);
  }
  SECTION("each ErrorCategory labctl acts on, as a cause") {
    const auto cause = [](const std::string& category) {
      return hy::failure_cause({1, "", "labctl-error-category: " + category + "\r\n"});
    };
    CHECK(cause("ObjectNotFound") == ErrorCause::not_found);
    CHECK(cause("ResourceExists") == ErrorCause::conflict);
    CHECK(cause("InvalidOperation") == ErrorCause::conflict);
    CHECK(cause("ResourceBusy") == ErrorCause::transient);
    CHECK(cause("OperationTimeout") == ErrorCause::transient);
    CHECK(cause("DeadlockDetected") == ErrorCause::transient);
    CHECK(cause("NotImplemented") == ErrorCause::unsupported);
    CHECK(cause("NotEnabled") == ErrorCause::unsupported);
    CHECK(cause("NotInstalled") == ErrorCause::unsupported);
    CHECK(cause("NotSpecified") == ErrorCause::other);
    CHECK(hy::failure_cause({1, "", "labctl-error: New-VM: failed\n"}) == ErrorCause::other);
  }
}

TEST_CASE("qcow2 base images must become VHDX for Hyper-V", "[unit]") {
  labctl::testing::ScratchDir scratch("lct-hyperv");
  const std::filesystem::path qcow2 = scratch.path() / "debian-12.qcow2";
  write(qcow2, std::string("QFI\xfb", 4) + std::string(100, '\0'));
  const std::string vhdx = (scratch.path() / "debian-12.vhdx").string();

  SECTION("without a converter: an Error that says how to convert") {
    auto source = hy::vhdx_source(qcow2.string(), nullptr);
    REQUIRE_FALSE(source.ok());
    CHECK_THAT(source.error().message,
               Catch::Contains("qemu-img convert -O vhdx -o subformat=dynamic " + qcow2.string() +
                               " " + vhdx));
    auto hv = hy::make_hyperv("hyperv://", std::make_unique<hy::RecordingRunner>());
    CHECK_FALSE(
        hv->upload_volume("cd26-pool", "cd26-base.qcow2", qcow2.string(), VolumeFormat::qcow2)
            .ok());
  }
  SECTION("with a converter: qemu-img writes the VHDX beside it, which is uploaded") {
    FakeConverter converter;
    auto source = hy::vhdx_source(qcow2.string(), &converter);
    REQUIRE(source.ok());
    CHECK(*source == vhdx);
    REQUIRE(converter.calls.size() == 1);
    CHECK(converter.calls[0] == std::vector<std::string>{"qemu-img", "convert", "-O", "vhdx", "-o",
                                                         "subformat=dynamic", qcow2.string(),
                                                         vhdx});
    SECTION("and the next time the VHDX beside it is used as is") {
      CHECK(*hy::vhdx_source(qcow2.string(), &converter) == vhdx);
      CHECK(converter.calls.size() == 1);
    }
  }
  SECTION("a file that already is VHDX is used as is") {
    write(vhdx, "vhdxfile");
    CHECK(*hy::vhdx_source(vhdx, nullptr) == vhdx);
  }
}

TEST_CASE("qemu-img really converts a qcow2 into a dynamic VHDX", "[unit]") {
  if (!labctl::sys::on_path("qemu-img")) {
    WARN("SKIPPED: qemu-img is not installed");
    return;
  }
  labctl::testing::ScratchDir scratch("lct-hyperv");
  const std::string qcow2 = (scratch.path() / "tiny.qcow2").string();
  labctl::sys::SystemRunner runner;
  REQUIRE(
      labctl::sys::run_checked(runner, {"qemu-img", "create", "-q", "-f", "qcow2", qcow2, "64M"})
          .ok());
  auto source = hy::vhdx_source(qcow2, &runner);
  REQUIRE(source.ok());
  std::ifstream in(*source, std::ios::binary);
  std::string magic(8, '\0');
  in.read(magic.data(), 8);
  CHECK(magic == "vhdxfile");
  auto info = labctl::sys::run_checked(runner, {"qemu-img", "info", "--output=json", *source});
  REQUIRE(info.ok());
  CHECK_THAT(*info, Catch::Contains("\"format\": \"vhdx\""));
  CHECK_THAT(*info, Catch::Contains("\"virtual-size\": 67108864"));
}

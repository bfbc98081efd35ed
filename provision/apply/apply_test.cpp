#include "provision/apply/apply.hpp"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "provision/model/loader.hpp"
#include "provision/plan/plan.hpp"
#include "tests/support/golden.hpp"
#include "tests/support/libvirt_test_driver.hpp"
#include "tests/support/materializer.hpp"

// The real planner and apply engine on the real libvirt backend, over libvirt's in-process
// test driver. test:///default gives every connection a fresh world, so each test does
// everything on one LibvirtHypervisor. The driver cannot upload volumes: TestDriverHypervisor
// (tests/support/libvirt_test_driver.hpp) makes them empty, at the local file's size.

namespace {

using namespace labctl;
using hv::ObjectKind;
using hv::libvirt::LibvirtHypervisor;
using labctl::testing::TestDriverHypervisor;
using plan::Op;

void replace_once(std::string& text, const std::string& from, const std::string& to) {
  const std::size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), to);
}

// labs/classroom.yaml with three teams; `overrides` is inserted under `teams:`. Disks are
// 4GiB instead of 10GiB: the test driver's pools hold 100GiB and count an overlay as fully
// allocated (render_overlay gives no <allocation>), so twelve 10GiB overlays do not fit.
model::Lab classroom(const std::string& overrides = "") {
  std::string text = testing::read_file(testing::source_dir() / "labs" / "classroom.yaml");
  replace_once(text, "  count: 4\n", "  count: 3\n" + overrides);
  replace_once(text, "  disk: 10GiB\n", "  disk: 4GiB\n");
  auto lab = model::parse_lab(text, "classroom.yaml");
  INFO((lab ? "" : lab.error().message));
  REQUIRE(lab.ok());
  return std::move(*lab);
}

const std::string k_team2_vm2_at_1gib =
    "  overrides:\n    team2:\n      vms:\n        vm2: { memory: 1GiB, instances: [{ name: "
    "legacy, "
    "version: 5.1.0, db: h2, memory: 512MiB }] }\n";  // 384MiB + 512MiB fit in 1GiB

// Small real files in a scratch directory; the seeds of VMs given to fail_seed() cannot be made.
class FailingSeeds : public testing::FileMaterializer {
 public:
  using FileMaterializer::FileMaterializer;

  Result<std::string> seed_file(const model::Vm& vm) override {
    if (m_failing.count(vm.name) != 0) {
      return Error::failure("cannot write the seed of " + vm.name + " (injected)");
    }
    return FileMaterializer::seed_file(vm);
  }

  void fail_seed(const std::string& vm_name) { m_failing.insert(vm_name); }
  void heal() { m_failing.clear(); }

 private:
  std::set<std::string> m_failing;  // set before apply runs, read by its workers
};

// The real backend, with single calls made to fail once with a given message.
class FailingHypervisor : public TestDriverHypervisor {
 public:
  using TestDriverHypervisor::TestDriverHypervisor;

  void fail_once(const std::string& call, const std::string& name, const std::string& message,
                 ErrorCause cause = ErrorCause::other) {
    std::lock_guard lock(m_mutex);
    m_failures.insert_or_assign({call, name}, Error::failure(message, cause));
  }
  Status create_network(const model::Lab& lab, const model::Network& net) override {
    if (auto error = injected("create_network", net.name)) {
      return *error;
    }
    return TestDriverHypervisor::create_network(lab, net);
  }
  Status create_domain(const hv::DomainRequest& request) override {
    if (auto error = injected("create_domain", request.vm->name)) {
      return *error;
    }
    return TestDriverHypervisor::create_domain(request);
  }
  Status start_domain(const model::Lab& lab, const std::string& name) override {
    if (auto error = injected("start_domain", name)) {
      return *error;
    }
    return TestDriverHypervisor::start_domain(lab, name);
  }

 private:
  // The failure, once; the workers call in concurrently.
  std::optional<Error> injected(const std::string& call, const std::string& name) {
    std::lock_guard lock(m_mutex);
    auto it = m_failures.find({call, name});
    if (it == m_failures.end()) {
      return std::nullopt;
    }
    Error error = it->second;
    m_failures.erase(it);
    return error;
  }

  std::mutex m_mutex;
  std::map<std::pair<std::string, std::string>, Error> m_failures;
};

// Records every event and sets the stop flag once `after` actions are done (Ctrl-C).
class StopAfter : public sys::RecordingReporter {
 public:
  StopAfter(std::atomic<bool>& stop, int after) : m_stop(stop), m_after(after) {}
  void report(const sys::Event& event) override {
    RecordingReporter::report(event);
    if (event.state == sys::EventState::done && ++m_done == m_after) {
      m_stop = true;
    }
  }

 private:
  std::atomic<bool>& m_stop;
  int m_after;
  std::atomic<int> m_done{0};
};

struct Rig {
  testing::ScratchDir dir{"lct-apply"};
  std::unique_ptr<LibvirtHypervisor> real;
  std::unique_ptr<FailingHypervisor> hv;
  std::unique_ptr<FailingSeeds> files;
};

std::unique_ptr<Rig> make_rig() {
  auto rig = std::make_unique<Rig>();
  auto opened = LibvirtHypervisor::open("test:///default", {.pool_root = "/lct-apply-pools"});
  INFO((opened ? "" : opened.error().message));
  REQUIRE(opened.ok());
  rig->real = std::move(*opened);
  rig->hv = std::make_unique<FailingHypervisor>(*rig->real);
  rig->files = std::make_unique<FailingSeeds>(rig->dir.path());
  return rig;
}

hv::Inventory inventory_of(hv::Hypervisor& hv, const model::Lab& lab) {
  auto inv = hv.inventory(lab.classroom);
  INFO((inv ? "" : inv.error().message));
  REQUIRE(inv.ok());
  return std::move(*inv);
}

apply::Options quick() {
  apply::Options options;
  options.jobs = 2;
  options.retry_delay = std::chrono::milliseconds(1);
  return options;
}

struct Run {
  plan::Plan plan;
  apply::Outcome outcome;
};

// What `labctl up` does before it waits for the guests: inventory, plan, apply.
Run up(Rig& rig, const model::Lab& lab, sys::Reporter& reporter,
       const apply::Options& options = quick()) {
  Run run;
  run.plan = plan::plan_up(lab, inventory_of(*rig.hv, lab), {.all = true});
  run.outcome = apply::apply(lab, run.plan, *rig.hv, *rig.files, reporter, options);
  return run;
}

Run up(Rig& rig, const model::Lab& lab) {
  sys::RecordingReporter reporter;
  return up(rig, lab, reporter);
}

Run down(Rig& rig, const model::Lab& lab, const plan::Scope& scope) {
  sys::RecordingReporter reporter;
  Run run;
  run.plan = plan::plan_down(lab, inventory_of(*rig.hv, lab), scope);
  run.outcome = apply::apply(lab, run.plan, *rig.hv, *rig.files, reporter, quick());
  return run;
}

std::vector<std::string> lines(const plan::Plan& p) {
  std::vector<std::string> out;
  for (const plan::Action& a : p.actions) {
    out.push_back(fmt::format("{} {} {} ({})", plan::to_string(a.op), plan::to_string(a.role),
                              a.name, a.reason));
  }
  return out;
}

void require_ok(const apply::Outcome& outcome) {
  INFO(fmt::format("{}", fmt::join(outcome.errors, "\n")));
  REQUIRE(outcome.ok());
}

// Names spelled out from the naming rules (README, "Derived names"), not read from the lab.
const std::vector<std::string> k_vms = {"vm1", "vm2", "vm3", "vm4"};

std::vector<std::string> fresh_up_lines(const std::vector<int>& teams, bool classroom_objects) {
  std::vector<std::string> out;
  for (int t : teams) {
    for (const char* net : {"lan", "lab"}) {
      out.push_back(fmt::format("create network cd26-team{}-{} (create)", t, net));
    }
  }
  if (classroom_objects) {
    out.insert(out.end(),
               {"create pool cd26-pool (create)", "create base-disk cd26-base.qcow2 (create)"});
  }
  auto each_vm = [&](auto&& add) {
    for (int t : teams) {
      for (const std::string& vm : k_vms) {
        add(fmt::format("cd26-team{}-{}", t, vm));
      }
    }
  };
  each_vm([&](const std::string& vm) {
    out.push_back(fmt::format("create seed {}-seed.iso (create)", vm));
    out.push_back(fmt::format("create disk {}.qcow2 (create)", vm));
  });
  each_vm([&](const std::string& vm) { out.push_back(fmt::format("create vm {} (create)", vm)); });
  each_vm([&](const std::string& vm) { out.push_back(fmt::format("start vm {} (start)", vm)); });
  return out;
}

std::set<std::string> names_of(const hv::Inventory& inv, ObjectKind kind) {
  std::set<std::string> names;
  for (const hv::Object& object : inv.objects) {
    if (object.kind == kind) {
      names.insert(object.name);
    }
  }
  return names;
}

std::set<std::string> expected_names(ObjectKind kind, const std::vector<int>& teams) {
  std::set<std::string> names;
  if (kind == ObjectKind::pool) {
    names.insert("cd26-pool");
  }
  if (kind == ObjectKind::volume) {
    names.insert("cd26-base.qcow2");  // classroom.yaml boots efi: no kernel or initrd volume
  }
  for (int t : teams) {
    if (kind == ObjectKind::network) {
      names.insert({fmt::format("cd26-team{}-lan", t), fmt::format("cd26-team{}-lab", t)});
    }
    for (const std::string& vm : k_vms) {
      const std::string name = fmt::format("cd26-team{}-{}", t, vm);
      if (kind == ObjectKind::domain) {
        names.insert(name);
      }
      if (kind == ObjectKind::volume) {
        names.insert({name + ".qcow2", name + "-seed.iso"});
      }
    }
  }
  return names;
}

void check_exactly_teams(const hv::Inventory& inv, const std::vector<int>& teams) {
  for (ObjectKind kind :
       {ObjectKind::network, ObjectKind::pool, ObjectKind::volume, ObjectKind::domain}) {
    INFO(hv::to_string(kind));
    CHECK(names_of(inv, kind) == expected_names(kind, teams));
  }
}

void check_running_with_lab_memory(const hv::Inventory& inv, const model::Lab& lab) {
  for (const model::Team& team : lab.teams) {
    for (const model::Vm& vm : team.vms) {
      INFO(vm.name);
      const hv::Object* dom = inv.find(ObjectKind::domain, vm.name);
      REQUIRE(dom != nullptr);
      CHECK(dom->state == hv::PowerState::running);
      CHECK(dom->memory == vm.memory);
      CHECK(dom->vcpus == vm.vcpus);
      CHECK(dom->tag.team == team.name);
      CHECK(dom->tag.spec_hash == vm.spec_hash);
    }
  }
}

std::size_t count_of(const plan::Plan& p, Op op) {
  return static_cast<std::size_t>(std::count_if(
      p.actions.begin(), p.actions.end(), [op](const plan::Action& a) { return a.op == op; }));
}

void define_untagged_look_alikes(LibvirtHypervisor& hv) {
  const std::string net =
      "<network><name>cd26-team9-lan</name><bridge name='lctu9'/>"
      "<ip address='10.250.9.1' netmask='255.255.255.0'/></network>";
  const std::string dom =
      "<domain type='test'><name>cd26-team1-vm9</name><memory>65536</memory>"
      "<os><type>hvm</type></os></domain>";
  const hv::libvirt::NetworkHandle raw_net(virNetworkDefineXML(hv.connection(), net.c_str()));
  const hv::libvirt::DomainHandle raw_dom(virDomainDefineXML(hv.connection(), dom.c_str()));
  REQUIRE(raw_net);
  REQUIRE(raw_dom);
}

bool untagged_look_alikes_exist(LibvirtHypervisor& hv) {
  const hv::libvirt::NetworkHandle net(virNetworkLookupByName(hv.connection(), "cd26-team9-lan"));
  const hv::libvirt::DomainHandle dom(virDomainLookupByName(hv.connection(), "cd26-team1-vm9"));
  return net && dom;
}

}  // namespace

TEST_CASE("apply on test:///default: a whole classroom up, again, and down", "[libvirt]") {
  auto rig = make_rig();
  const model::Lab lab = classroom();
  REQUIRE(lab.teams.size() == 3);
  const Run first = up(*rig, lab);
  require_ok(first.outcome);
  CHECK(lines(first.plan) == fresh_up_lines({1, 2, 3}, true));
  CHECK(first.outcome.done == 56);  // 6 networks, pool, the base disk, 12 x (2 volumes, VM, start)

  SECTION("inventory: every network, volume and domain, each VM running with its memory") {
    const hv::Inventory inv = inventory_of(*rig->hv, lab);
    check_exactly_teams(inv, {1, 2, 3});
    check_running_with_lab_memory(inv, lab);
    CHECK(lab.teams[2].vms[3].memory == 2 * model::k_gib);
    const hv::Object* lan = inv.find(ObjectKind::network, "cd26-team3-lan");
    REQUIRE(lan != nullptr);
    CHECK(lan->state == hv::PowerState::running);
    CHECK(lan->cidr == lab.teams[2].networks[0].subnet->cidr());
    CHECK(inv.find(ObjectKind::volume, "cd26-team2-vm1.qcow2")->pool == "cd26-pool");
  }
  SECTION("a second up plans nothing and changes nothing") {
    const Run second = up(*rig, lab);
    CHECK(lines(second.plan).empty());
    CHECK(second.outcome.done == 0);
    check_exactly_teams(inventory_of(*rig->hv, lab), {1, 2, 3});
  }
  SECTION("down team2 deletes team2 only; up then recreates just team2") {
    const Run gone = down(*rig, lab, {.teams = {"team2"}});
    require_ok(gone.outcome);
    std::vector<std::string> expected;
    expected.reserve(14);
    for (const std::string& vm : k_vms) {
      expected.push_back(fmt::format("delete vm cd26-team2-{} (delete)", vm));
    }
    for (const std::string& vm : k_vms) {
      expected.push_back(fmt::format("delete disk cd26-team2-{}.qcow2 (delete)", vm));
      expected.push_back(fmt::format("delete seed cd26-team2-{}-seed.iso (delete)", vm));
    }
    expected.insert(expected.end(), {"delete network cd26-team2-lan (delete)",
                                     "delete network cd26-team2-lab (delete)"});
    std::vector<std::string> actual = lines(gone.plan);
    // Domains first, then their volumes, then networks. Within each group the order is
    // libvirt's listing order, which varies from run to run.
    for (auto [from, to] : {std::pair{0, 4}, std::pair{4, 12}, std::pair{12, 14}}) {
      std::sort(actual.begin() + from, actual.begin() + to);
      std::sort(expected.begin() + from, expected.begin() + to);
    }
    CHECK(actual == expected);
    const hv::Inventory inv = inventory_of(*rig->hv, lab);
    check_exactly_teams(inv, {1, 3});
    CHECK(lines(plan::plan_up(lab, inv, {.all = true})) == fresh_up_lines({2}, false));
  }
  SECTION("an untagged domain and network named like labctl's survive up and down --all") {
    define_untagged_look_alikes(*rig->real);
    CHECK(lines(up(*rig, lab).plan).empty());
    const Run gone = down(*rig, lab, {.all = true});
    require_ok(gone.outcome);
    CHECK(gone.plan.actions.size() == 44);  // 12 VMs, 25 volumes, the pool, 6 networks
    CHECK(count_of(gone.plan, Op::remove) == 44);
    for (const std::string& line : lines(gone.plan)) {
      CHECK_THAT(line, !Catch::Contains("vm9") && !Catch::Contains("team9"));
    }
    CHECK(inventory_of(*rig->hv, lab).objects.empty());
    CHECK(untagged_look_alikes_exist(*rig->real));
  }
}

TEST_CASE("apply on test:///default: each VM is started through Options::start_vm when given",
          "[libvirt]") {
  auto rig = make_rig();
  const model::Lab lab = classroom();
  std::mutex mutex;
  std::vector<std::string> asked;
  apply::Options options = quick();
  SECTION("the hook starts the VM") {
    options.start_vm = [&](const model::Vm& vm, const std::function<Status()>& start) {
      std::lock_guard lock(mutex);
      asked.push_back(vm.name);
      return start();
    };
    sys::RecordingReporter reporter;
    require_ok(up(*rig, lab, reporter, options).outcome);
    CHECK(asked.size() == 12);
    check_running_with_lab_memory(inventory_of(*rig->hv, lab), lab);
  }
  SECTION("a hook that refuses fails the start, and the VM stays off") {
    options.start_vm = [&](const model::Vm& vm, const std::function<Status()>& start) {
      return vm.name == "cd26-team2-vm3" ? Status(Error::failure("stopped by request before the "
                                                                 "VM was started"))
                                         : start();
    };
    sys::RecordingReporter reporter;
    const Run run = up(*rig, lab, reporter, options);
    CHECK(run.outcome.failed == 1);
    REQUIRE(run.outcome.errors.size() == 1);
    CHECK_THAT(run.outcome.errors[0], Catch::Contains("team2/vm3: start vm cd26-team2-vm3"));
    const hv::Inventory inv = inventory_of(*rig->hv, lab);
    const hv::Object* vm = inv.find(ObjectKind::domain, "cd26-team2-vm3");
    REQUIRE(vm != nullptr);
    CHECK(vm->state != hv::PowerState::running);
  }
}

TEST_CASE("apply on test:///default: a changed memory recreates the VM", "[libvirt]") {
  auto rig = make_rig();
  const model::Lab before = classroom(k_team2_vm2_at_1gib);
  require_ok(up(*rig, before).outcome);
  CHECK(inventory_of(*rig->hv, before).find(ObjectKind::domain, "cd26-team2-vm2")->memory ==
        model::k_gib);

  const model::Lab after = classroom();
  const Run changed = up(*rig, after);
  CHECK(lines(changed.plan) ==
        std::vector<std::string>{
            "recreate seed cd26-team2-vm2-seed.iso (recreate: memory changed 1GiB -> 2GiB)",
            "recreate disk cd26-team2-vm2.qcow2 (recreate: memory changed 1GiB -> 2GiB)",
            "recreate vm cd26-team2-vm2 (recreate: memory changed 1GiB -> 2GiB)",
            "start vm cd26-team2-vm2 (start)",
        });
  require_ok(changed.outcome);
  CHECK(changed.outcome.done == 4);
  const hv::Inventory inv = inventory_of(*rig->hv, after);
  check_exactly_teams(inv, {1, 2, 3});
  check_running_with_lab_memory(inv, after);
  CHECK(inv.find(ObjectKind::domain, "cd26-team2-vm2")->memory == 2 * model::k_gib);
  CHECK(lines(up(*rig, after).plan).empty());
}

TEST_CASE("apply on test:///default: a failure half-way, then a second up converges", "[libvirt]") {
  auto rig = make_rig();
  const model::Lab lab = classroom();
  std::vector<std::string> second_plan;
  SECTION("one VM's seed cannot be written: the other VMs are made") {
    rig->files->fail_seed("cd26-team2-vm3");
    const Run first = up(*rig, lab);
    CHECK(first.outcome.failed == 1);
    CHECK(first.outcome.skipped == 3);  // its disk, domain and start
    CHECK(first.outcome.done == 52);
    CHECK(first.outcome.errors ==
          std::vector<std::string>{"team2/vm3: create seed cd26-team2-vm3-seed.iso: cannot write "
                                   "the seed of cd26-team2-vm3 (injected)"});
    const hv::Inventory inv = inventory_of(*rig->hv, lab);
    CHECK(inv.find(ObjectKind::domain, "cd26-team2-vm3") == nullptr);
    CHECK(inv.find(ObjectKind::volume, "cd26-team2-vm3.qcow2") == nullptr);
    CHECK(inv.find(ObjectKind::domain, "cd26-team2-vm4")->state == hv::PowerState::running);
    rig->files->heal();
    second_plan = {"create seed cd26-team2-vm3-seed.iso (create)",
                   "create disk cd26-team2-vm3.qcow2 (create)", "create vm cd26-team2-vm3 (create)",
                   "start vm cd26-team2-vm3 (start)"};
  }
  SECTION("one domain cannot be defined: its volumes stay and are made again") {
    rig->hv->fail_once("create_domain", "cd26-team3-vm1", "cannot define domain (injected)");
    const Run first = up(*rig, lab);
    CHECK(first.outcome.failed == 1);
    CHECK(first.outcome.skipped == 1);  // its start
    CHECK(first.outcome.errors ==
          std::vector<std::string>{
              "team3/vm1: create vm cd26-team3-vm1: cannot define domain (injected)"});
    CHECK(inventory_of(*rig->hv, lab).find(ObjectKind::volume, "cd26-team3-vm1.qcow2") != nullptr);
    second_plan = {"recreate seed cd26-team3-vm1-seed.iso (recreate: its VM is new)",
                   "recreate disk cd26-team3-vm1.qcow2 (recreate: its VM is new)",
                   "create vm cd26-team3-vm1 (create)", "start vm cd26-team3-vm1 (start)"};
  }
  SECTION("a network cannot be made: every later step is skipped") {
    rig->hv->fail_once("create_network", "cd26-team2-lab", "bridge in use (injected)");
    const Run first = up(*rig, lab);
    CHECK(first.outcome.done == 3);
    CHECK(first.outcome.failed == 1);
    CHECK(first.outcome.skipped == 52);
    CHECK(names_of(inventory_of(*rig->hv, lab), ObjectKind::network) ==
          std::set<std::string>{"cd26-team1-lan", "cd26-team1-lab", "cd26-team2-lan"});
    const std::vector<std::string> all = fresh_up_lines({1, 2, 3}, true);
    second_plan.assign(all.begin() + 3, all.end());
  }
  const Run second = up(*rig, lab);
  CHECK(lines(second.plan) == second_plan);
  require_ok(second.outcome);
  const hv::Inventory inv = inventory_of(*rig->hv, lab);
  check_exactly_teams(inv, {1, 2, 3});
  check_running_with_lab_memory(inv, lab);
  CHECK(lines(up(*rig, lab).plan).empty());
}

TEST_CASE("apply on test:///default: a transient error is retried", "[libvirt]") {
  auto rig = make_rig();
  const model::Lab lab = classroom();
  rig->hv->fail_once("start_domain", "cd26-team1-vm2",
                     "Timed out during operation: cannot acquire state change lock (injected)",
                     ErrorCause::transient);
  sys::RecordingReporter reporter;
  const Run first = up(*rig, lab, reporter);
  require_ok(first.outcome);
  CHECK(first.outcome.done == 56);
  std::vector<std::string> retries;
  for (const sys::Event& event : reporter.events()) {
    if (event.state == sys::EventState::info) {
      retries.push_back(event.subject + ": " + event.message);
    }
  }
  CHECK(retries == std::vector<std::string>{
                       "start vm cd26-team1-vm2: retrying: Timed out during operation: cannot "
                       "acquire state change lock (injected)"});
  check_running_with_lab_memory(inventory_of(*rig->hv, lab), lab);
}

TEST_CASE("a transient error is one whose cause says so, whatever its text", "[unit]") {
  CHECK(apply::is_transient(Error::failure("cannot start domain x", ErrorCause::transient)));
  CHECK_FALSE(
      apply::is_transient(Error::failure("Timed out during operation: cannot acquire "
                                         "state change lock")));
  CHECK_FALSE(apply::is_transient(Error::failure("no domain x", ErrorCause::not_found)));
}

TEST_CASE("apply on test:///default: a stop request stops cleanly and a re-run converges",
          "[libvirt]") {
  // 4: during the classroom-wide steps (one at a time); 20: among the VM chains (2 workers).
  const int after = GENERATE(4, 20);
  INFO("stop after " << after << " actions");
  auto rig = make_rig();
  const model::Lab lab = classroom();
  std::atomic<bool> stop{false};
  StopAfter reporter(stop, after);
  apply::Options options = quick();
  options.stop = &stop;
  const Run first = up(*rig, lab, reporter, options);
  CHECK(first.outcome.interrupted);
  CHECK(first.outcome.failed == 0);
  CHECK(first.outcome.errors.empty());
  // The actions in flight finish: at most one more than asked with two workers.
  CHECK(first.outcome.done >= after);
  CHECK(first.outcome.done <= (after < 10 ? after : after + 1));
  CHECK(first.outcome.done + first.outcome.skipped == 56);
  // The rest of a VM's chain is skipped with "an earlier step of this VM failed" although
  // nothing failed: apply's run_parallel does not tell a stop from a failure.
  std::set<std::string> skip_messages;
  for (const sys::Event& event : reporter.events()) {
    if (event.state == sys::EventState::skipped) {
      skip_messages.insert(event.message);
    }
  }
  CHECK(skip_messages.count("stopped by request") == 1);
  skip_messages.erase("an earlier step of this VM failed");
  CHECK(skip_messages == std::set<std::string>{"stopped by request"});
  const Run second = up(*rig, lab);
  CHECK(count_of(second.plan, Op::remove) == 0);
  CHECK(second.plan.actions.size() >= 56 - static_cast<std::size_t>(first.outcome.done));
  require_ok(second.outcome);
  const hv::Inventory inv = inventory_of(*rig->hv, lab);
  check_exactly_teams(inv, {1, 2, 3});
  check_running_with_lab_memory(inv, lab);
  CHECK(lines(up(*rig, lab).plan).empty());
}

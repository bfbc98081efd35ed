#include "hypervisors/libvirt/error_cause.hpp"

#include <cerrno>

#include <catch2/catch.hpp>

#include "hypervisors/libvirt/backend.hpp"
#include "hypervisors/libvirt/handles.hpp"

namespace {

using namespace labctl;
using labctl::hv::libvirt::cause_of;
using labctl::hv::libvirt::LibvirtHypervisor;

TEST_CASE("libvirt error codes as causes", "[unit]") {
  SECTION("what apply used to retry by its English text is transient") {
    // "Timed out during operation: cannot acquire state change lock"
    CHECK(cause_of(VIR_ERR_OPERATION_TIMEOUT, VIR_FROM_QEMU, -1) == ErrorCause::transient);
    // "... Device or resource busy", "... Resource temporarily unavailable"
    CHECK(cause_of(VIR_ERR_SYSTEM_ERROR, VIR_FROM_STORAGE, EBUSY) == ErrorCause::transient);
    CHECK(cause_of(VIR_ERR_SYSTEM_ERROR, VIR_FROM_QEMU, EAGAIN) == ErrorCause::transient);
    // "End of file while reading data", "Cannot recv data: Connection reset by peer"
    CHECK(cause_of(VIR_ERR_SYSTEM_ERROR, VIR_FROM_RPC, -1) == ErrorCause::transient);
    CHECK(cause_of(VIR_ERR_SYSTEM_ERROR, VIR_FROM_RPC, ECONNRESET) == ErrorCause::transient);
  }
  SECTION("other system errors are not") {
    CHECK(cause_of(VIR_ERR_SYSTEM_ERROR, VIR_FROM_STORAGE, ENOSPC) == ErrorCause::other);
    CHECK(cause_of(VIR_ERR_SYSTEM_ERROR, VIR_FROM_RPC, ENOENT) == ErrorCause::other);
    CHECK(cause_of(VIR_ERR_SYSTEM_ERROR, VIR_FROM_QEMU, -1) == ErrorCause::other);
    CHECK(cause_of(VIR_ERR_OPERATION_FAILED, VIR_FROM_QEMU, -1) == ErrorCause::other);
    CHECK(cause_of(VIR_ERR_INTERNAL_ERROR, VIR_FROM_RPC, -1) == ErrorCause::other);
  }
  SECTION("missing objects, conflicts, unsupported calls") {
    for (int code :
         {VIR_ERR_NO_DOMAIN, VIR_ERR_NO_NETWORK, VIR_ERR_NO_STORAGE_POOL, VIR_ERR_NO_STORAGE_VOL}) {
      CHECK(cause_of(code, VIR_FROM_NONE, -1) == ErrorCause::not_found);
    }
    for (int code :
         {VIR_ERR_OPERATION_INVALID, VIR_ERR_DOM_EXIST, VIR_ERR_NETWORK_EXIST,
          VIR_ERR_STORAGE_POOL_BUILT, VIR_ERR_STORAGE_VOL_EXIST, VIR_ERR_RESOURCE_BUSY}) {
      CHECK(cause_of(code, VIR_FROM_NONE, -1) == ErrorCause::conflict);
    }
    for (int code : {VIR_ERR_NO_SUPPORT, VIR_ERR_OPERATION_UNSUPPORTED, VIR_ERR_CONFIG_UNSUPPORTED,
                     VIR_ERR_ARGUMENT_UNSUPPORTED}) {
      CHECK(cause_of(code, VIR_FROM_NONE, -1) == ErrorCause::unsupported);
    }
  }
  SECTION("no error") {
    CHECK(cause_of(nullptr) == ErrorCause::other);
  }
}

TEST_CASE("libvirt errors from test:///default carry their cause", "[libvirt]") {
  auto opened = LibvirtHypervisor::open("test:///default", {.pool_root = "/lct-libvirt-pools"});
  REQUIRE(opened.ok());
  LibvirtHypervisor& hv = **opened;
  SECTION("a missing domain is not found") {
    auto state = hv.domain_state("lct-missing");
    REQUIRE_FALSE(state.ok());
    CHECK(state.error().cause == ErrorCause::not_found);
    CHECK(state.error().message.rfind("no domain lct-missing: ", 0) == 0);
  }
  SECTION("a missing volume is not found") {
    auto path = hv.volume_path("default-pool", "lct-missing.qcow2");
    REQUIRE_FALSE(path.ok());
    CHECK(path.error().cause == ErrorCause::not_found);
  }
  SECTION("stopping a domain that is not running is a conflict") {
    // test:///default's own domain "test" runs: once destroyed, it no longer does. (Its driver
    // reports starting a running domain as an internal error, where QEMU's is a conflict.)
    const hv::libvirt::ConnectHandle conn(virConnectOpen("test:///default"));
    REQUIRE(conn);
    const hv::libvirt::DomainHandle dom(virDomainLookupByName(conn.get(), "test"));
    REQUIRE(dom);
    REQUIRE(virDomainDestroy(dom.get()) == 0);
    REQUIRE(virDomainDestroy(dom.get()) < 0);
    const Error error = hv::libvirt::libvirt_error("cannot stop domain", "test");
    CHECK(error.cause == ErrorCause::conflict);
    CHECK(error.message ==
          "cannot stop domain test: Requested operation is not valid: domain is not running");
  }
}

}  // namespace

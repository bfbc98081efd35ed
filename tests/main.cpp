#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include "tests/support/golden.hpp"

namespace {

// Marks the running test case failed at its first failed assertion, so that the scratch
// directories it made are kept (testing::ScratchDir) for a look at what it left.
class FailureWatch : public Catch::TestEventListenerBase {
 public:
  using TestEventListenerBase::TestEventListenerBase;
  void testCaseStarting(const Catch::TestCaseInfo& info) override {
    TestEventListenerBase::testCaseStarting(info);
    labctl::testing::test_failed() = false;
  }
  bool assertionEnded(const Catch::AssertionStats& stats) override {
    if (!stats.assertionResult.isOk()) {
      labctl::testing::test_failed() = true;
    }
    return TestEventListenerBase::assertionEnded(stats);
  }
};

}  // namespace

CATCH_REGISTER_LISTENER(FailureWatch)

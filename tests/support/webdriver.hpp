#pragma once

// A real headless Chromium for the web console's tests, driven over W3C WebDriver (HTTP and
// JSON to Debian's chromedriver). One Browser is one chromedriver process, in a process group
// of its own with the Chromium it starts, and one session; the destructor ends the session,
// kills the group and reaps chromedriver, however the test ends. Every wait is bounded.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "provision/result.hpp"
#include "tests/support/golden.hpp"

namespace labctl::testing {

// Why no browser can run here ("chromedriver not found (provision/bootstrap
// --with-test-tools)"), or nullopt: for a test's "SKIPPED" warning.
std::optional<std::string> browser_missing();

// The process exists and is not a zombie (a zombie has ended, only its exit status is left).
bool process_running(pid_t pid);
// The processes of process group `group` that still run.
std::vector<pid_t> running_in_group(pid_t group);

class Browser {
 public:
  // chromedriver on a free loopback port, then one headless Chromium session (its own
  // --user-data-dir, window 1280x900). An Error says which step failed, with the driver's log.
  static Result<std::unique_ptr<Browser>> start();
  ~Browser();
  Browser(const Browser&) = delete;
  Browser& operator=(const Browser&) = delete;

  Status go(const std::string& url);  // navigates and waits for the load
  std::string url();                  // the current URL; "" when the driver does not answer
  Result<std::string> text(const std::string& css);  // the first match's visible text
  Result<int> count(const std::string& css);         // how many elements match
  Status click(const std::string& css);
  Status type(const std::string& css, const std::string& text);     // clears, then sends keys
  Status select(const std::string& css, const std::string& value);  // a <select>'s option
  // Runs `js` as a function body (`return ...` gives the value) with `arguments` = args.
  Result<nlohmann::json> script(const std::string& js,
                                const nlohmann::json& args = nlohmann::json::array());
  // Polls the JS expression `condition` until it is truthy; the Error says what it last was.
  Status wait_for(const std::string& condition,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10));
  Status accept_dialog();  // the open alert()/confirm()/prompt()
  Status dismiss_dialog();
  Result<std::string> dialog_text();
  Status screenshot(const std::filesystem::path& png);  // the viewport, as PNG
  Result<std::string> source();
  Status set_window(int width, int height);

  // chromedriver's pid, which is also the process group of the Chromium it started.
  pid_t driver_pid() const { return m_pid; }
  // chromedriver and every Chromium process of this browser, now.
  std::vector<pid_t> processes() const { return running_in_group(m_pid); }

 private:
  Browser() = default;
  Status launch_driver();
  Status wait_driver_ready();
  Status open_session();
  void stop_driver();
  std::string log_tail() const;
  // One WebDriver command: its `value`, or an Error with WebDriver's error and message.
  Result<nlohmann::json> call(const std::string& method, const std::string& path,
                              const nlohmann::json& body = nullptr,
                              std::chrono::milliseconds timeout = std::chrono::seconds(60));
  Result<std::string> element(const std::string& css);
  Result<nlohmann::json> on_element(const std::string& css, const std::string& method,
                                    const std::string& action, const nlohmann::json& body);

  ScratchDir m_scratch{"lct-browser"};  // the profile and chromedriver.log
  pid_t m_pid = -1;
  int m_port = 0;
  std::string m_session;
};

}  // namespace labctl::testing

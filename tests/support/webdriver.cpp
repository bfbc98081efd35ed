#include "tests/support/webdriver.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/support/loopback.hpp"

extern char** environ;

namespace labctl::testing {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Debian's packages (chromium, chromium-driver), which provision/bootstrap installs.
constexpr const char* k_chromedriver = "/usr/bin/chromedriver";
constexpr const char* k_chromium = "/usr/bin/chromium";
// W3C WebDriver's key of an element reference in JSON.
constexpr const char* k_element_key = "element-6066-11e4-a52e-4f735466cecf";

struct HttpAnswer {
  long status = 0;
  std::string body;
};

std::size_t append_to(char* data, std::size_t size, std::size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

// One HTTP exchange with chromedriver on loopback (never through a proxy), bounded.
Result<HttpAnswer> send(const std::string& method, const std::string& url, const std::string& body,
                        milliseconds timeout) {
  static const bool k_initialised = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(
      k_initialised ? curl_easy_init() : nullptr, &curl_easy_cleanup);
  if (!curl) {
    return Error::failure("libcurl could not be initialised");
  }
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(
      curl_slist_append(nullptr, "Content-Type: application/json; charset=utf-8"),
      &curl_slist_free_all);
  HttpAnswer answer;
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "POST") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, append_to);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer.body);
  const CURLcode code = curl_easy_perform(c);
  if (code != CURLE_OK) {
    return Error::failure(
        method + " " + url + ": " + curl_easy_strerror(code),
        code == CURLE_OPERATION_TIMEDOUT ? ErrorCause::transient : ErrorCause::other);
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &answer.status);
  return answer;
}

// A WebDriver answer's `value`; an error answer becomes an Error with WebDriver's error code
// and the first line of its message (chromedriver appends session details on further lines).
Result<json> value_of(const std::string& what, const HttpAnswer& answer) {
  const json reply = json::parse(answer.body, nullptr, false);
  if (reply.is_discarded() || !reply.is_object() || !reply.contains("value")) {
    return Error::failure(what + ": not a WebDriver answer (HTTP " + std::to_string(answer.status) +
                          "): " + answer.body.substr(0, 200));
  }
  const json& value = reply["value"];
  if (answer.status >= 200 && answer.status < 300) {
    return value;
  }
  const std::string error = value.is_object() ? value.value("error", "") : "";
  std::string message = value.is_object() ? value.value("message", "") : "";
  message = message.substr(0, message.find('\n'));
  const bool missing = error == "no such element" || error == "no such alert";
  return Error::failure(what + ": " +
                            (error.empty() ? "HTTP " + std::to_string(answer.status) : error) +
                            ": " + message,
                        missing ? ErrorCause::not_found : ErrorCause::other);
}

// The driver's own commands (outside a session): /status, POST /session.
Result<json> driver_call(int port, const std::string& method, const std::string& path,
                         const json& body, milliseconds timeout) {
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + path;
  auto answer = send(method, url, body.is_null() ? "" : body.dump(), timeout);
  if (!answer) {
    return answer.error();
  }
  return value_of(method + " " + path, *answer);
}

// JavaScript's truthiness of a value WebDriver returned (undefined comes back as null).
bool truthy(const json& value) {
  if (value.is_boolean()) {
    return value.get<bool>();
  }
  if (value.is_number()) {
    return value.get<double>() != 0;
  }
  if (value.is_string()) {
    return !value.get<std::string>().empty();
  }
  return !value.is_null();
}

Result<std::string> decode_base64(const std::string& text) {
  std::string bytes(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(bytes.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0 || text.size() % 4 != 0) {
    return Error::failure("the screenshot is not base64");
  }
  // EVP_DecodeBlock counts the padding as decoded zero bytes.
  const auto padding = text.size() - text.find_last_not_of('=') - 1;
  bytes.resize(static_cast<std::size_t>(n) - std::min<std::size_t>(padding, 2));
  return bytes;
}

// The test's environment, with Chromium's XDG directories (its crash reports, dconf) in
// `home`: nothing of the browser is left in the user's home.
std::vector<std::string> environment_in(const fs::path& home) {
  std::vector<std::string> variables;
  for (char** variable = environ; *variable != nullptr; ++variable) {
    const std::string_view text(*variable);
    if (!text.starts_with("XDG_CONFIG_HOME=") && !text.starts_with("XDG_CACHE_HOME=")) {
      variables.emplace_back(text);
    }
  }
  variables.push_back("XDG_CONFIG_HOME=" + (home / "config").string());
  variables.push_back("XDG_CACHE_HOME=" + (home / "cache").string());
  return variables;
}

// Null-terminated pointers to the strings, for exec.
std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (auto& text : strings) {
    pointers.push_back(text.data());
  }
  pointers.push_back(nullptr);
  return pointers;
}

// argv in a process group of its own (the processes it starts join it, so the group can be
// killed as one), stdin from /dev/null, stdout and stderr appended to `log`, no descriptor
// of the test's open in it, SIGPIPE back to its default (the tests' process ignores it).
Result<pid_t> spawn_in_own_group(std::vector<std::string> args, std::vector<std::string> env,
                                 const fs::path& log) {
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&files, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&files, 1, 2);
  posix_spawn_file_actions_addclosefrom_np(&files, 3);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setpgroup(&attributes, 0);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  const int failed = ::posix_spawn(&pid, args.front().c_str(), &files, &attributes,
                                   c_strings(args).data(), c_strings(env).data());
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&files);
  if (failed != 0) {
    return Error::failure("cannot run " + args.front() + ": " + std::strerror(failed));
  }
  return pid;
}

// The child has ended; it stays a zombie (not reaped), so its pid and group stay ours.
bool has_ended(pid_t pid) {
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == pid;
}

struct ProcStat {
  char state = '?';
  pid_t group = -1;
  bool running() const { return state != 'Z' && state != 'X'; }  // a zombie has ended
};

// /proc/PID/stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces and parentheses.
std::optional<ProcStat> proc_stat(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line) || line.rfind(')') == std::string::npos) {
    return std::nullopt;
  }
  ProcStat stat;
  long parent = 0;
  long group = 0;
  std::istringstream fields(line.substr(line.rfind(')') + 1));
  fields >> stat.state >> parent >> group;
  stat.group = static_cast<pid_t>(group);
  return stat;
}

}  // namespace

std::optional<std::string> browser_missing() {
  for (const char* tool : {k_chromedriver, k_chromium}) {
    if (::access(tool, X_OK) != 0) {
      return fs::path(tool).filename().string() +
             " not found (provision/bootstrap --with-test-tools)";
    }
  }
  return std::nullopt;
}

bool process_running(pid_t pid) {
  const auto stat = proc_stat(pid);
  return stat && stat->running();
}

std::vector<pid_t> running_in_group(pid_t group) {
  std::vector<pid_t> pids;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    pid_t pid = 0;
    if (std::from_chars(name.data(), name.data() + name.size(), pid).ec != std::errc{}) {
      continue;
    }
    const auto stat = proc_stat(pid);
    if (stat && stat->group == group && stat->running()) {
      pids.push_back(pid);
    }
  }
  return pids;
}

Result<std::unique_ptr<Browser>> Browser::start() {
  if (auto why = browser_missing()) {
    return Error::failure(*why);
  }
  std::unique_ptr<Browser> browser(new Browser());
  if (browser->m_scratch.path().empty()) {
    return Error::failure("no scratch directory for the browser");
  }
  Status up = Error::failure("no free loopback port for chromedriver");
  for (int attempt = 0; attempt < 3 && !up; ++attempt) {  // a free port may be taken meanwhile
    browser->m_port = free_loopback_port();
    if (browser->m_port == 0) {
      continue;
    }
    up = browser->launch_driver();
    if (up) {
      up = browser->wait_driver_ready();
    }
    if (!up) {
      browser->stop_driver();
    }
  }
  if (!up) {
    return up.error();
  }
  if (auto session = browser->open_session(); !session) {
    return session.error();
  }
  return browser;
}

Browser::~Browser() {
  if (!m_session.empty()) {
    (void)call("DELETE", "", nullptr, std::chrono::seconds(10));  // Chromium ends with it
  }
  stop_driver();
  std::error_code ec;
  fs::remove_all(m_scratch.path() / "profile", ec);  // the log stays when the test failed
  fs::remove_all(m_scratch.path() / "home", ec);
}

Status Browser::launch_driver() {
  auto pid = spawn_in_own_group({k_chromedriver, "--port=" + std::to_string(m_port)},
                                environment_in(m_scratch.path() / "home"),
                                m_scratch.path() / "chromedriver.log");
  if (!pid) {
    return pid.error();
  }
  m_pid = *pid;
  return {};
}

// Up to 20 s for GET /status to say ready (chromedriver alone starts in well under a second;
// a loaded 2-core machine is slower).
Status Browser::wait_driver_ready() {
  const auto until = Clock::now() + std::chrono::seconds(20);
  while (Clock::now() < until) {
    if (has_ended(m_pid)) {
      return Error::failure("chromedriver exited: " + log_tail());
    }
    auto status = driver_call(m_port, "GET", "/status", nullptr, milliseconds(1000));
    if (status && status->is_object() && status->value("ready", false)) {
      return {};
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  return Error::failure("chromedriver did not answer on 127.0.0.1:" + std::to_string(m_port) +
                        " within 20 s: " + log_tail());
}

Status Browser::open_session() {
  const json options = {
      {"binary", k_chromium},
      {"args",
       {"--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
        "--user-data-dir=" + (m_scratch.path() / "profile").string(), "--window-size=1280,900"}}};
  const json capabilities = {
      {"browserName", "chrome"},
      {"goog:chromeOptions", options},
      {"unhandledPromptBehavior", "ignore"},  // a dialog stays open for the test to handle
      {"timeouts", {{"implicit", 0}, {"pageLoad", 30000}, {"script", 30000}}}};
  auto session =
      driver_call(m_port, "POST", "/session", {{"capabilities", {{"alwaysMatch", capabilities}}}},
                  std::chrono::seconds(60));
  if (!session) {
    return Error::failure("no Chromium session: " + session.error().message + "; " + log_tail());
  }
  if (!session->is_object() || !session->contains("sessionId")) {
    return Error::failure("no Chromium session: no sessionId in " + session->dump());
  }
  m_session = (*session)["sessionId"].get<std::string>();
  return {};
}

// SIGTERM to the group, up to 5 s for chromedriver to end, then SIGKILL to what is left of
// the group, up to 5 s for it to go, and chromedriver reaped last: until then its zombie keeps
// the group's id from being reused.
void Browser::stop_driver() {
  if (m_pid <= 0) {
    return;
  }
  ::kill(-m_pid, SIGTERM);
  auto until = Clock::now() + std::chrono::seconds(5);
  while (!has_ended(m_pid) && Clock::now() < until) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  ::kill(-m_pid, SIGKILL);
  until = Clock::now() + std::chrono::seconds(5);
  while (!running_in_group(m_pid).empty() && Clock::now() < until) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  while (::waitpid(m_pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  m_pid = -1;
}

std::string Browser::log_tail() const {
  const std::string log = read_file(m_scratch.path() / "chromedriver.log");
  const std::size_t keep = 2000;
  return "chromedriver.log: " + (log.size() > keep ? "..." + log.substr(log.size() - keep) : log);
}

Result<json> Browser::call(const std::string& method, const std::string& path, const json& body,
                           milliseconds timeout) {
  return driver_call(m_port, method, "/session/" + m_session + path, body, timeout);
}

Result<std::string> Browser::element(const std::string& css) {
  auto found = call("POST", "/element", {{"using", "css selector"}, {"value", css}});
  if (!found) {
    return found.error();
  }
  if (!found->is_object() || !found->contains(k_element_key)) {
    return Error::failure("POST /element " + css + ": no element reference in " + found->dump());
  }
  return (*found)[k_element_key].get<std::string>();
}

Result<json> Browser::on_element(const std::string& css, const std::string& method,
                                 const std::string& action, const json& body) {
  // A page that redraws (the console, on each event) can replace the element between
  // finding it and acting on it: found again, a few times.
  Result<json> done = Error::failure("not tried");
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto id = element(css);
    if (!id) {
      return id.error();
    }
    done = call(method, "/element/" + *id + action, body);
    if (done || done.error().message.find("stale element reference") == std::string::npos) {
      return done;
    }
  }
  return done;
}

Status Browser::go(const std::string& url) {
  auto done = call("POST", "/url", {{"url", url}});
  return done ? Status() : Status(done.error());
}

std::string Browser::url() {
  auto current = call("GET", "/url");
  return current && current->is_string() ? current->get<std::string>() : "";
}

Result<std::string> Browser::text(const std::string& css) {
  auto text = on_element(css, "GET", "/text", nullptr);
  if (!text) {
    return text.error();
  }
  return text->is_string() ? text->get<std::string>() : text->dump();
}

Result<int> Browser::count(const std::string& css) {
  auto found = call("POST", "/elements", {{"using", "css selector"}, {"value", css}});
  if (!found) {
    return found.error();
  }
  return static_cast<int>(found->size());
}

Status Browser::click(const std::string& css) {
  auto done = on_element(css, "POST", "/click", json::object());
  return done ? Status() : Status(done.error());
}

Status Browser::type(const std::string& css, const std::string& text) {
  auto id = element(css);
  if (!id) {
    return id.error();
  }
  auto cleared = call("POST", "/element/" + *id + "/clear", json::object());
  if (!cleared) {
    return cleared.error();
  }
  auto typed = call("POST", "/element/" + *id + "/value", {{"text", text}});
  return typed ? Status() : Status(typed.error());
}

// The option is clicked, as a user would: the page sees its input and change events.
Status Browser::select(const std::string& css, const std::string& value) {
  auto list = element(css);
  if (!list) {
    return list.error();
  }
  auto option = script(
      "return Array.from(arguments[0].options || [])"
      ".find(o => o.value === arguments[1]) || null;",
      json::array({json{{k_element_key, *list}}, value}));
  if (!option) {
    return option.error();
  }
  if (!option->is_object() || !option->contains(k_element_key)) {
    return Error::failure(css + " has no option of value \"" + value + "\"", ErrorCause::not_found);
  }
  auto done = call("POST", "/element/" + (*option)[k_element_key].get<std::string>() + "/click",
                   json::object());
  return done ? Status() : Status(done.error());
}

Result<json> Browser::script(const std::string& js, const json& args) {
  return call("POST", "/execute/sync", {{"script", js}, {"args", args}});
}

Status Browser::wait_for(const std::string& condition, milliseconds timeout) {
  const auto until = Clock::now() + timeout;
  std::string seen;
  for (;;) {
    auto value = script("return (" + condition + ");");
    if (value && truthy(*value)) {
      return {};
    }
    seen = value ? value->dump() : value.error().message;
    if (Clock::now() >= until) {
      break;
    }
    std::this_thread::sleep_for(milliseconds(100));
  }
  return Error::failure("`" + condition + "` not true within " + std::to_string(timeout.count()) +
                            " ms; last seen: " + seen,
                        ErrorCause::transient);
}

Status Browser::accept_dialog() {
  auto done = call("POST", "/alert/accept", json::object());
  return done ? Status() : Status(done.error());
}

Status Browser::dismiss_dialog() {
  auto done = call("POST", "/alert/dismiss", json::object());
  return done ? Status() : Status(done.error());
}

Result<std::string> Browser::dialog_text() {
  auto text = call("GET", "/alert/text");
  if (!text) {
    return text.error();
  }
  return text->is_string() ? text->get<std::string>() : text->dump();
}

Status Browser::screenshot(const fs::path& png) {
  auto encoded = call("GET", "/screenshot");
  if (!encoded) {
    return encoded.error();
  }
  auto bytes = decode_base64(encoded->is_string() ? encoded->get<std::string>() : "");
  if (!bytes) {
    return bytes.error();
  }
  std::ofstream out(png, std::ios::binary);
  out << *bytes;
  out.close();
  if (!out) {
    return Error::failure("cannot write " + png.string());
  }
  return {};
}

Result<std::string> Browser::source() {
  auto html = call("GET", "/source");
  if (!html) {
    return html.error();
  }
  return html->is_string() ? html->get<std::string>() : html->dump();
}

Status Browser::set_window(int width, int height) {
  auto done = call("POST", "/window/rect", {{"width", width}, {"height", height}});
  return done ? Status() : Status(done.error());
}

}  // namespace labctl::testing

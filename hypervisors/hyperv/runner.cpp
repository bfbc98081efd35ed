#include "hypervisors/hyperv/runner.hpp"

#include <map>
#include <sstream>

#include <fmt/format.h>

#include "hypervisors/hyperv/powershell.hpp"
#include "hypervisors/hyperv/script.hpp"

namespace labctl::hv::hyperv {

namespace {

constexpr std::size_t k_max_command_line = 32767;

std::string trim(std::string text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) {
    return "";
  }
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

bool noise(const std::string& line) {
  return line.empty() || line.rfind("#< CLIXML", 0) == 0 || line.rfind("<Objs", 0) == 0 ||
         line.rfind("At line:", 0) == 0 || line.rfind("+ ", 0) == 0 || line == "+" ||
         line.rfind(k_category_prefix, 0) == 0;
}

ErrorCause cause_of_category(std::string_view category) {
  static const std::map<std::string_view, ErrorCause> k_causes = {
      {"ObjectNotFound", ErrorCause::not_found},   {"ResourceExists", ErrorCause::conflict},
      {"InvalidOperation", ErrorCause::conflict},  {"ResourceBusy", ErrorCause::transient},
      {"OperationTimeout", ErrorCause::transient}, {"DeadlockDetected", ErrorCause::transient},
      {"NotImplemented", ErrorCause::unsupported}, {"NotEnabled", ErrorCause::unsupported},
      {"NotInstalled", ErrorCause::unsupported},
  };
  const auto it = k_causes.find(category);
  return it == k_causes.end() ? ErrorCause::other : it->second;
}

}  // namespace

Result<std::vector<std::string>> powershell_argv(const std::string& program,
                                                 const std::string& script) {
  auto encoded = encode_command(script);
  if (!encoded) {
    return encoded.error();
  }
  std::vector<std::string> argv = {
      program,  "-NoProfile",      "-NonInteractive", "-ExecutionPolicy",
      "Bypass", "-EncodedCommand", *encoded};
  std::size_t length = 0;
  for (const std::string& arg : argv) {
    length += arg.size() + 1;
  }
  if (length > k_max_command_line) {
    return Error::failure(fmt::format("{} script too long for a command line ({} characters)",
                                      script_verb(script), length));
  }
  return argv;
}

std::string failure_message(const sys::ProcessResult& result) {
  std::istringstream lines(result.err);
  std::string line, last;
  while (std::getline(lines, line)) {
    line = trim(line);
    if (line.rfind(k_error_prefix, 0) == 0) {
      return line.substr(k_error_prefix.size());
    }
    if (!noise(line)) {
      last = line;
    }
  }
  return last.empty() ? fmt::format("powershell exited with {}", result.exit_code) : last;
}

ErrorCause failure_cause(const sys::ProcessResult& result) {
  std::istringstream lines(result.err);
  std::string line;
  while (std::getline(lines, line)) {
    line = trim(line);
    if (line.rfind(k_category_prefix, 0) == 0) {
      return cause_of_category(std::string_view(line).substr(k_category_prefix.size()));
    }
  }
  return ErrorCause::other;
}

Result<PsResult> RecordingRunner::run(const std::string& script) {
  const std::lock_guard lock(m_mutex);
  m_scripts.push_back(script);
  return PsResult{"[]", ""};
}

std::vector<std::string> RecordingRunner::scripts() const {
  const std::lock_guard lock(m_mutex);
  return m_scripts;
}

}  // namespace labctl::hv::hyperv

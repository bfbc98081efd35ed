#pragma once

// Environment variables set (or unset) for one scope, restored after it: how a test points
// the state directory's root (LABCTL_STATE_DIR) at a scratch directory.

#include <cstdlib>
#include <map>
#include <optional>
#include <string>

namespace labctl::testing {

class ScopedEnv {
 public:
  // Each variable to its value; nullopt unsets it.
  explicit ScopedEnv(const std::map<std::string, std::optional<std::string>>& vars) {
    for (const auto& [name, value] : vars) {
      const char* old = std::getenv(name.c_str());
      m_old[name] = old != nullptr ? std::optional<std::string>(old) : std::nullopt;
      if (value) {
        ::setenv(name.c_str(), value->c_str(), 1);
      } else {
        ::unsetenv(name.c_str());
      }
    }
  }
  ScopedEnv(const std::string& name, const std::optional<std::string>& value)
      : ScopedEnv(std::map<std::string, std::optional<std::string>>{{name, value}}) {}
  ~ScopedEnv() {
    for (const auto& [name, value] : m_old) {
      if (value) {
        ::setenv(name.c_str(), value->c_str(), 1);
      } else {
        ::unsetenv(name.c_str());
      }
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::map<std::string, std::optional<std::string>> m_old;
};

}  // namespace labctl::testing

#pragma once

// Golden files: renderers' output compared with tests/golden/<name>. Set
// LABCTL_UPDATE_GOLDEN=1 to rewrite them, then review the diff before committing.

#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <stdlib.h>

#include <catch2/catch.hpp>

namespace labctl::testing {

inline std::filesystem::path source_dir() {
  return LABCTL_SOURCE_DIR;
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The lines of a text, without their '\n'.
inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

inline void check_golden(const std::string& name, const std::string& actual) {
  const std::filesystem::path path = source_dir() / "tests" / "golden" / name;
  const char* update = std::getenv("LABCTL_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << actual;
  }
  INFO("golden file " << path.string() << " (LABCTL_UPDATE_GOLDEN=1 rewrites it)");
  REQUIRE(std::filesystem::exists(path));
  CHECK(read_file(path) == actual);
}

// Whether an assertion of the running test case failed (set by the listener in main.cpp).
inline bool& test_failed() {
  static bool failed = false;
  return failed;
}

// A scratch directory removed at the end of the test unless the test failed (a failed
// assertion, or an exception on its way out): then it is kept, and its path printed.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& prefix) {
    std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + ".XXXXXX")).string();
    m_path = ::mkdtemp(tmpl.data()) != nullptr ? tmpl : std::string();
  }
  ~ScratchDir() {
    if (m_path.empty()) {
      return;
    }
    if (!m_keep && (test_failed() || std::uncaught_exceptions() > 0)) {
      std::cerr << "the test failed: its scratch directory is kept: " << m_path.string() << "\n";
      return;
    }
    if (!m_keep) {
      std::error_code ec;
      std::filesystem::remove_all(m_path, ec);
    }
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return m_path; }
  void keep() { m_keep = true; }

 private:
  std::filesystem::path m_path;
  bool m_keep = false;
};

}  // namespace labctl::testing

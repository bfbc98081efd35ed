#include "provision/ready/console.hpp"

#include <filesystem>
#include <fstream>
#include <utility>

namespace labctl::ready {

namespace {

constexpr std::size_t k_before = 3;             // context lines kept before a sign
constexpr std::size_t k_after = 12;             // lines added after it (a traceback's frames)
constexpr std::size_t k_max_line = 4096;        // a line longer than this is cut
constexpr std::uintmax_t k_max_read = 1 << 20;  // at most this much per poll

bool has(const std::string& line, const char* text) {
  return line.find(text) != std::string::npos;
}

}  // namespace

std::string failure_sign(const std::string& line) {
  if (has(line, "Kernel panic - not syncing")) {
    return "kernel panic";
  }
  if (has(line, "Traceback (most recent call last)")) {
    return "cloud-init traceback";
  }
  if (has(line, "Failed to start") && (has(line, "cloud-init") || has(line, "Cloud-init"))) {
    return "cloud-init unit failed";
  }
  return "";
}

CloudInit cloud_init_sign(const std::string& line) {
  if (has(line, "Cloud-init v. ") && has(line, " running '")) {
    return CloudInit::running;
  }
  if ((has(line, "Cloud-init v. ") && has(line, " finished at ")) ||
      (has(line, "labctl: ") && has(line, " up after "))) {
    return CloudInit::finished;
  }
  return CloudInit::silent;
}

ConsoleWatch::ConsoleWatch(std::string path) : m_path(std::move(path)) {}

std::optional<ConsoleFailure> ConsoleWatch::poll() {
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(m_path, ec);
  if (ec) {
    return m_failure;
  }
  if (size < m_offset) {  // the VM started again: a new log
    m_offset = 0;
    m_partial.clear();
    m_cloud_init = CloudInit::silent;
    m_final_stage = false;
  }
  std::ifstream in(m_path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(m_offset));
  std::string chunk(static_cast<std::size_t>(std::min(size - m_offset, k_max_read)), '\0');
  in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
  chunk.resize(static_cast<std::size_t>(in.gcount()));
  m_offset += chunk.size();
  m_partial += chunk;
  std::size_t start = 0;
  for (std::size_t nl = m_partial.find('\n'); nl != std::string::npos;
       nl = m_partial.find('\n', start)) {
    take_line(m_partial.substr(start, nl - start));
    start = nl + 1;
  }
  m_partial.erase(0, start);
  if (m_partial.size() > k_max_line) {
    take_line(std::exchange(m_partial, {}));
  }
  return m_failure;
}

void ConsoleWatch::take_line(std::string line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) {
    line.pop_back();
  }
  if (line.size() > k_max_line) {
    line.resize(k_max_line);
  }
  if (line.empty()) {
    return;
  }
  if (const CloudInit sign = cloud_init_sign(line); sign != CloudInit::silent) {
    m_cloud_init = sign;
    m_final_stage = sign == CloudInit::finished || has(line, "'modules:final'");
  }
  if (m_failure) {
    if (m_after > 0) {
      --m_after;
      // A traceback's frames are indented; the first line that is not is its error.
      if (m_in_traceback && line.front() != ' ' && line.front() != '\t') {
        m_failure->summary = line;
        m_in_traceback = false;
      }
      m_failure->lines.push_back(std::move(line));
    }
    return;
  }
  if (std::string what = failure_sign(line); !what.empty()) {
    m_in_traceback = what == "cloud-init traceback";
    m_failure = ConsoleFailure{std::move(what), line, {m_context.begin(), m_context.end()}};
    m_failure->lines.push_back(std::move(line));
    m_after = k_after;
    return;
  }
  m_context.push_back(std::move(line));
  if (m_context.size() > k_before) {
    m_context.pop_front();
  }
}

}  // namespace labctl::ready

#include "hypervisors/hyperv/script.hpp"

#include <sstream>

#include <fmt/format.h>

#include "hypervisors/hyperv/powershell.hpp"

namespace labctl::hv::hyperv {

namespace {

constexpr std::string_view k_prelude =
    "$ErrorActionPreference = 'Stop'\n"
    "$ProgressPreference = 'SilentlyContinue'\n"
    "[Console]::OutputEncoding = [Text.Encoding]::UTF8\n";

// Same rule as parse_tag() below: the first word is the marker, one word is the classroom.
constexpr std::string_view k_tag_function =
    "function Test-LabctlTag([string]$Notes, [string]$Classroom) {\n"
    "  foreach ($line in ($Notes -split '\\r?\\n')) {\n"
    "    $words = @($line.Trim() -split ' +')\n"
    "    if ($words[0] -ceq 'labctl:v1' -and $words -ccontains ('classroom=' + $Classroom)) {\n"
    "      return $true\n"
    "    }\n"
    "  }\n"
    "  return $false\n"
    "}\n";

// One line on stderr, whatever the cmdlet: the C++ side looks for it (powershell.exe may
// also print CLIXML or a multi-line error record there). The line before it names the
// error record's ErrorCategory, which the C++ side turns into the error's cause.
constexpr std::string_view k_epilogue =
    "} catch {\n"
    "  [Console]::Error.WriteLine('labctl-error-category: ' + $_.CategoryInfo.Category)\n"
    "  $where = if ($_.InvocationInfo.MyCommand) { $_.InvocationInfo.MyCommand.Name + ': ' } "
    "else { '' }\n"
    "  [Console]::Error.WriteLine('labctl-error: ' + $where + ($_.Exception.Message -replace "
    "'\\s+', ' '))\n"
    "  exit 1\n"
    "}\n";

bool tag_value_ok(std::string_view value) {
  for (char c : value) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == ':' || c == '/';
    if (!ok) {
      return false;
    }
  }
  return true;
}

std::string header_word(std::string_view script, int index) {
  const std::string_view head = "# labctl ";
  if (script.substr(0, head.size()) != head) {
    return "";
  }
  std::istringstream words(std::string(script.substr(head.size(), script.find('\n'))));
  std::string word;
  for (int i = 0; i <= index; ++i) {
    word.clear();
    words >> word;
  }
  return word;
}

}  // namespace

Script::Script(std::string verb, std::string subject)
    : m_verb(std::move(verb)), m_subject(std::move(subject)) {}

std::string Script::q(std::string_view value) {
  auto quoted = ps_quote(value);
  if (!quoted) {
    check(quoted.error());
    return "''";
  }
  return *quoted;
}

void Script::check(const Status& status) {
  if (!status && !m_error) {
    m_error = status.error();
  }
}

Script& Script::line(std::string_view text) {
  m_lines.push_back(text.empty() ? "" : std::string(2 * m_indent, ' ') + std::string(text));
  return *this;
}

Script& Script::open(std::string_view text) {
  line(text);
  ++m_indent;
  return *this;
}

Script& Script::close(std::string_view text) {
  m_indent = m_indent > 1 ? m_indent - 1 : 1;
  return line(text);
}

Script& Script::next(std::string_view text) {
  close(text);
  ++m_indent;
  return *this;
}

Script& Script::with_tag_function() {
  m_tag_function = true;
  return *this;
}

Result<std::string> Script::finish() const {
  if (m_error) {
    return Error::failure(fmt::format("{} {}: {}", m_verb, m_subject, m_error->message));
  }
  std::string out = fmt::format("# labctl {} {}\n", m_verb, m_subject);
  out += k_prelude;
  if (m_tag_function) {
    out += k_tag_function;
  }
  out += "try {\n";
  for (const std::string& text : m_lines) {
    out += text + "\n";
  }
  out += k_epilogue;
  return out;
}

std::string script_verb(std::string_view script) {
  return header_word(script, 0);
}
std::string script_subject(std::string_view script) {
  return header_word(script, 1);
}

Result<std::string> format_tag(const Tag& tag) {
  for (const std::string* value :
       {&tag.classroom, &tag.team, &tag.role, &tag.spec_hash, &tag.identity}) {
    if (!tag_value_ok(*value)) {
      return Error::failure(
          fmt::format("tag value '{}' has characters outside [A-Za-z0-9._:/-]", *value));
    }
  }
  if (tag.classroom.empty()) {
    return Error::failure("a tag needs a classroom");
  }
  // The identity is left out while there is none, so that a tag reads as it did before.
  return fmt::format("{} classroom={} team={} role={} spec={}{}", k_tag_marker, tag.classroom,
                     tag.team, tag.role, tag.spec_hash,
                     tag.identity.empty() ? "" : " identity=" + tag.identity);
}

std::optional<Tag> parse_tag(std::string_view notes) {
  std::istringstream lines{std::string(notes)};
  std::string text;
  while (std::getline(lines, text)) {
    std::istringstream words(text);
    std::string word;
    if (!(words >> word) || word != k_tag_marker) {
      continue;
    }
    Tag tag;
    while (words >> word) {
      const auto eq = word.find('=');
      const std::string key = word.substr(0, eq);
      const std::string value = eq == std::string::npos ? "" : word.substr(eq + 1);
      if (key == "classroom") {
        tag.classroom = value;
      } else if (key == "team") {
        tag.team = value;
      } else if (key == "role") {
        tag.role = value;
      } else if (key == "spec") {
        tag.spec_hash = value;
      } else if (key == "identity") {
        tag.identity = value;
      }
    }
    if (!tag.classroom.empty()) {
      return tag;
    }
  }
  return std::nullopt;
}

}  // namespace labctl::hv::hyperv

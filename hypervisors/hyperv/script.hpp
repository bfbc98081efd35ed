#pragma once

// One PowerShell script per action. Every script starts with a header line
// "# labctl <verb> <subject>" (runners and fakes key on it), stops at the first error
// ($ErrorActionPreference = 'Stop') and reports it on stderr as two lines,
// "labctl-error-category: <ErrorCategory>" and "labctl-error: <cmdlet>: <message>", before
// exiting with 1.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hypervisors/hypervisor.hpp"
#include "provision/result.hpp"

namespace labctl::hv::hyperv {

constexpr std::string_view k_error_prefix = "labctl-error: ";
constexpr std::string_view k_category_prefix = "labctl-error-category: ";
constexpr std::string_view k_tag_marker = "labctl:v1";

// Builds a script line by line. q() quotes a value through ps_quote(); the first value or
// name that fails turns the whole script into an Error at finish(): a renderer never emits
// a half-checked script.
class Script {
 public:
  Script(std::string verb, std::string subject);

  std::string q(std::string_view value);
  void check(const Status& status);
  Script& line(std::string_view text);
  // A line that opens a block ("if (...) {"): the lines after it are indented until close().
  Script& open(std::string_view text);
  Script& close(std::string_view text = "}");
  // A line that closes a block and opens the next ("} catch {").
  Script& next(std::string_view text);
  // Defines Test-LabctlTag($Notes, $Classroom) so that the script itself checks ownership.
  Script& with_tag_function();
  Result<std::string> finish() const;

 private:
  std::string m_verb;
  std::string m_subject;
  std::vector<std::string> m_lines;
  std::optional<Error> m_error;
  bool m_tag_function = false;
  int m_indent = 1;
};

// The verb of a script's header line ("create-vm"), "" when there is none.
std::string script_verb(std::string_view script);
// The subject of a script's header line ("cd26-team1-vm1").
std::string script_subject(std::string_view script);

// Tags live in Notes as one line: "labctl:v1 classroom=cd26 team=team1 role=domain spec=ab12
// identity=<32 hex digits>" (no identity on tags written before classrooms had one).
// Values are checked so that the line splits back into the same words.
Result<std::string> format_tag(const Tag& tag);
// The first labctl line of a Notes text, if any.
std::optional<Tag> parse_tag(std::string_view notes);

}  // namespace labctl::hv::hyperv

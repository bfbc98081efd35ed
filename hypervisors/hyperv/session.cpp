#include "hypervisors/hyperv/session.hpp"

#include <fmt/format.h>

#include "hypervisors/hyperv/powershell.hpp"
#include "hypervisors/hyperv/script.hpp"
#include "provision/sys/random.hpp"

namespace labctl::hv::hyperv {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view k_sentinel_prefix = "labctl-end-";

// The loop's own variables start with "labctl" so that a script's cannot collide with them.
constexpr std::string_view k_loop_body = R"(while ($true) {
  $labctlLine = [Console]::In.ReadLine()
  if ($null -eq $labctlLine) {
    break
  }
  $labctlCode = 0
  try {
    $labctlText = [Text.Encoding]::Unicode.GetString([Convert]::FromBase64String($labctlLine))
    [IO.File]::WriteAllText($labctlFile, $labctlText, $labctlBom)
    $global:LASTEXITCODE = 0
    & $labctlFile | ForEach-Object { [Console]::Out.WriteLine([string]$_) }
    $labctlCode = $LASTEXITCODE
  } catch {
    [Console]::Error.WriteLine('labctl-error: ' + ($_.Exception.Message -replace '\s+', ' '))
    $labctlCode = 1
  }
  [Console]::Out.Write([Environment]::NewLine + $labctlEnd + ' ' + $labctlCode + [Environment]::NewLine)
  [Console]::Error.Write([Environment]::NewLine + $labctlEnd + [Environment]::NewLine)
  [Console]::Out.Flush()
  [Console]::Error.Flush()
}
Remove-Item -LiteralPath $labctlFile -Force -ErrorAction SilentlyContinue
)";

bool is_hex(std::string_view text) {
  return !text.empty() && text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

std::string without_cr(std::string text) {
  if (!text.empty() && text.back() == '\r') {
    text.pop_back();
  }
  return text;
}

}  // namespace

std::string session_nonce() {
  return sys::random_hex128();
}

Result<std::string> render_session_loop(std::string_view nonce) {
  if (!is_hex(nonce)) {
    return Error::failure(fmt::format("session nonce '{}' is not hex digits", nonce));
  }
  std::string out = fmt::format("# labctl session {}\n", nonce);
  out +=
      "$ErrorActionPreference = 'Continue'\n"
      "$ProgressPreference = 'SilentlyContinue'\n"
      "[Console]::OutputEncoding = [Text.Encoding]::UTF8\n";
  out += fmt::format("$labctlEnd = '{}{}'\n", k_sentinel_prefix, nonce);
  out += fmt::format("$labctlFile = Join-Path ([IO.Path]::GetTempPath()) 'labctl-{}.ps1'\n", nonce);
  out += "$labctlBom = New-Object Text.UTF8Encoding $true\n";
  out += k_loop_body;
  return out;
}

std::optional<Sentinel> find_sentinel(const std::string& stream, const std::string& end,
                                      bool with_code) {
  for (std::size_t at = stream.find(end); at != std::string::npos; at = stream.find(end, at + 1)) {
    if (at > 0 && stream[at - 1] != '\n') {
      continue;  // not at the start of a line
    }
    const std::size_t eol = stream.find('\n', at);
    if (eol == std::string::npos) {
      return std::nullopt;  // the line is still coming
    }
    const std::string rest = without_cr(stream.substr(at + end.size(), eol - at - end.size()));
    int code = 0;
    if (with_code) {
      if (rest.size() < 2 || rest[0] != ' ' ||
          rest.find_first_not_of("-0123456789", 1) != std::string::npos) {
        continue;
      }
      code = std::stoi(rest.substr(1));
    } else if (!rest.empty()) {
      continue;
    }
    // The loop writes a newline before the sentinel: it is not the script's.
    std::size_t text_end = at == 0 ? 0 : at - 1;
    if (text_end > 0 && stream[text_end - 1] == '\r') {
      --text_end;
    }
    return Sentinel{text_end, code};
  }
  return std::nullopt;
}

SessionPowerShellRunner::SessionPowerShellRunner(sys::LiveStarter start, SessionOptions options)
    : m_start(std::move(start)), m_options(std::move(options)) {
  if (m_options.nonce.empty()) {
    m_options.nonce = session_nonce();
  }
}

int SessionPowerShellRunner::processes_started() const {
  const std::lock_guard lock(m_mutex);
  return m_started;
}

Status SessionPowerShellRunner::start() {
  auto loop = render_session_loop(m_options.nonce);
  if (!loop) {
    return loop.error();
  }
  auto argv = powershell_argv(m_options.program, *loop);
  if (!argv) {
    return argv.error();
  }
  auto process = m_start(*argv);
  if (!process) {
    return Error::failure("starting PowerShell: " + process.error().message);
  }
  m_process = std::move(*process);
  ++m_started;
  return {};
}

Result<sys::ProcessResult> SessionPowerShellRunner::exchange(const std::string& script) {
  const auto timeout =
      script_verb(script) == "upload-volume" ? m_options.upload_timeout : m_options.timeout;
  const auto deadline = Clock::now() + timeout;
  auto line = encode_command(script);
  if (!line) {
    return line.error();
  }
  if (auto written = m_process->write(*line + "\n"); !written) {
    m_process.reset();
    return Error::failure("PowerShell ended: " + written.error().message);
  }
  const std::string end = std::string(k_sentinel_prefix) + m_options.nonce;
  std::string out, err;
  for (;;) {
    const auto out_end = find_sentinel(out, end, true);
    const auto err_end = find_sentinel(err, end, false);
    if (out_end && err_end) {
      return sys::ProcessResult{out_end->code, out.substr(0, out_end->text_end),
                                err.substr(0, err_end->text_end)};
    }
    if (Clock::now() >= deadline) {
      m_process->kill();
      m_process.reset();
      return Error::failure(fmt::format(
          "no answer within {:g} s: PowerShell was stopped (the next script starts a new one)",
          static_cast<double>(timeout.count()) / 1000));
    }
    if (!m_process->read(out, err, deadline)) {
      m_process.reset();
      return Error::failure("PowerShell ended: " +
                            failure_message(sys::ProcessResult{-1, out, err}));
    }
  }
}

Result<PsResult> SessionPowerShellRunner::run(const std::string& script) {
  const std::lock_guard lock(m_mutex);
  if (!m_process) {
    if (auto started = start(); !started) {
      return started.error();
    }
  }
  auto result = exchange(script);
  if (!result) {
    return Error::failure(fmt::format("hyperv {} {}: {}", script_verb(script),
                                      script_subject(script), result.error().message));
  }
  if (result->exit_code != 0) {
    return Error::failure(fmt::format("hyperv {} {}: {}", script_verb(script),
                                      script_subject(script), failure_message(*result)),
                          failure_cause(*result));
  }
  return PsResult{std::move(result->out), std::move(result->err)};
}

std::unique_ptr<PowerShellRunner> make_powershell_runner() {
  return std::make_unique<SessionPowerShellRunner>(&sys::start_live_process);
}

}  // namespace labctl::hv::hyperv

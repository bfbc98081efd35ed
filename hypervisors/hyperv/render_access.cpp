// Students' access on Hyper-V: each of a team's endpoints is a static mapping on the
// classroom's NetNat (Add-NetNatStaticMapping), which Windows' NAT forwards to the VM.
// A mapping has no Notes: the team's are listed in <classroom dir>\.access-<team> (first line
// "<spec hash> <identity>", then one external port a line), on the classroom's own NetNat
// (<classroom>-nat), and only those are ever removed.

#include <fmt/format.h>

#include "hypervisors/hyperv/powershell.hpp"
#include "hypervisors/hyperv/render.hpp"
#include "hypervisors/hyperv/script.hpp"
#include "provision/model/access.hpp"

namespace labctl::hv::hyperv {

namespace {

// The team's mappings that its record lists, removed; then the record.
void remove_recorded(Script& s) {
  s.open("if (Test-Path -LiteralPath $record) {");
  s.open("foreach ($port in @(Get-Content -LiteralPath $record | Select-Object -Skip 1)) {");
  s.line(
      "Get-NetNatStaticMapping -NatName $natName -ErrorAction SilentlyContinue | Where-Object "
      "{ $_.ExternalPort -eq [int]$port } | Remove-NetNatStaticMapping -Confirm:$false");
  s.close();
  s.line("Remove-Item -LiteralPath $record -Force");
  s.close();
}

void frame(Script& s, std::string_view root, std::string_view classroom, std::string_view team) {
  s.check(check_name("classroom", classroom));
  s.check(check_name("team", team));
  s.line("$natName = " + s.q(nat_name(classroom)));
  s.line("$record = Join-Path " + s.q(classroom_dir(root, classroom)) + " " +
         s.q(access_record(team)));
}

}  // namespace

std::string access_record(std::string_view team) {
  return ".access-" + std::string(team);
}

Result<std::string> render_publish(const model::Lab& lab, const std::string& team,
                                   std::string_view root) {
  Script s("publish", forward_name(lab.classroom, team));
  frame(s, root, lab.classroom, team);
  const auto endpoints = model::forwarded_endpoints(lab, team);
  s.open("if ($null -eq (Get-NetNat -Name $natName -ErrorAction SilentlyContinue)) {");
  s.line(
      "throw ('labctl: NetNat ' + $natName + ' is missing: the team''s nat network comes "
      "first')");
  s.close();
  remove_recorded(s);
  std::string ports;
  for (const model::Endpoint& e : endpoints) {
    s.check(check_ipv4("listen address", e.listen));
    s.check(check_ipv4("VM address", e.target_ip));
    s.line(
        fmt::format("Add-NetNatStaticMapping -NatName $natName -Protocol TCP "
                    "-ExternalIPAddress {} -ExternalPort {} -InternalIPAddress {} "
                    "-InternalPort {} | Out-Null",
                    s.q(e.listen), e.port, s.q(e.target_ip), e.target_port));
    ports += fmt::format(", {}", s.q(std::to_string(e.port)));
  }
  const std::string owner = model::endpoints_hash(endpoints) + " " +
                            (lab.identity.empty() ? std::string("none") : lab.identity);
  s.line("[IO.Directory]::CreateDirectory((Split-Path -Parent $record)) | Out-Null");
  s.line("Set-Content -LiteralPath $record -Value @(" + s.q(owner) + ports + ")");
  return s.finish();
}

Result<std::string> render_unpublish(std::string_view classroom, std::string_view team,
                                     std::string_view root) {
  Script s("unpublish", forward_name(std::string(classroom), std::string(team)));
  frame(s, root, classroom, team);
  remove_recorded(s);
  return s.finish();
}

}  // namespace labctl::hv::hyperv

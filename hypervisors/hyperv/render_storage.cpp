#include <fmt/format.h>

#include "hypervisors/hyperv/powershell.hpp"
#include "hypervisors/hyperv/render.hpp"
#include "hypervisors/hyperv/script.hpp"

namespace labctl::hv::hyperv {

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// $dir and $marker for a classroom, and the check that the directory is labctl's own.
void declare_pool(Script& s, std::string_view root, std::string_view classroom) {
  s.check(check_name("classroom", classroom));
  s.line("$dir = " + s.q(classroom_dir(root, classroom)));
  s.line("$marker = Join-Path $dir " + s.q(k_pool_marker));
}

void require_pool(Script& s, std::string_view classroom) {
  s.with_tag_function();
  s.open(
      "if (-not (Test-Path -LiteralPath $marker) -or -not (Test-LabctlTag (Get-Content "
      "-LiteralPath $marker -Raw) " +
      s.q(classroom) + ")) {");
  s.line("throw ('labctl: ' + $dir + ' is not this classroom''s labctl directory')");
  s.close();
}

// $path = <dir>\<file>, checked again on the host to lie directly inside $dir.
void declare_volume(Script& s, std::string_view var, std::string_view volume) {
  s.check(check_file_name("volume", volume));
  s.line(fmt::format("${} = Join-Path $dir {}", var, s.q(host_file_name(volume))));
  s.open(
      fmt::format("if ([IO.Path]::GetDirectoryName([IO.Path]::GetFullPath(${})) -ne "
                  "[IO.Path]::GetFullPath($dir)) {{",
                  var));
  s.line(fmt::format("throw ('labctl: ' + ${} + ' is outside ' + $dir)", var));
  s.close();
}

}  // namespace

std::string classroom_dir(std::string_view root, std::string_view classroom) {
  return fmt::format("{}\\{}", root, classroom);
}

Result<std::string> classroom_of_pool(std::string_view pool) {
  constexpr std::string_view suffix = "-pool";
  if (!ends_with(pool, suffix) || pool.size() == suffix.size()) {
    return Error::failure(fmt::format("pool '{}' is not named <classroom>-pool", pool));
  }
  std::string classroom(pool.substr(0, pool.size() - suffix.size()));
  if (auto ok = check_name("classroom", classroom); !ok) {
    return ok.error();
  }
  return classroom;
}

std::string host_file_name(std::string_view volume) {
  if (ends_with(volume, ".qcow2")) {
    return std::string(volume.substr(0, volume.size() - 6)) + ".vhdx";
  }
  return std::string(volume);
}

std::string volume_name(std::string_view file) {
  if (ends_with(file, ".vhdx")) {
    return std::string(file.substr(0, file.size() - 5)) + ".qcow2";
  }
  return std::string(file);
}

Result<std::string> render_create_pool(std::string_view root, std::string_view classroom) {
  Script s("create-pool", std::string(classroom));
  declare_pool(s, root, classroom);
  auto tag = format_tag({std::string(classroom), "", "pool", ""});
  s.check(tag ? Status() : Status(tag.error()));
  s.line("[IO.Directory]::CreateDirectory($dir) | Out-Null");
  s.line("[IO.File]::WriteAllText($marker, " + s.q(tag ? *tag : "") + ")");
  return s.finish();
}

Result<std::string> render_delete_pool(std::string_view root, std::string_view classroom) {
  Script s("delete-pool", std::string(classroom));
  declare_pool(s, root, classroom);
  s.open("if (Test-Path -LiteralPath $dir) {");
  require_pool(s, classroom);
  s.line("Remove-Item -LiteralPath $dir -Recurse -Force");
  s.close();
  return s.finish();
}

Result<std::string> render_upload_volume(std::string_view root, std::string_view classroom,
                                         std::string_view volume, std::string_view local_path) {
  Script s("upload-volume", std::string(volume));
  declare_pool(s, root, classroom);
  require_pool(s, classroom);
  declare_volume(s, "path", volume);
  s.line("Copy-Item -LiteralPath " + s.q(local_path) + " -Destination $path -Force");
  return s.finish();
}

Result<std::string> render_create_overlay(std::string_view root, std::string_view classroom,
                                          std::string_view volume, std::string_view backing,
                                          model::Bytes capacity) {
  Script s("create-overlay", std::string(volume));
  declare_pool(s, root, classroom);
  require_pool(s, classroom);
  declare_volume(s, "path", volume);
  declare_volume(s, "parent", backing);
  s.open("if (-not (Test-Path -LiteralPath $parent)) {");
  s.line("throw ('labctl: base disk ' + $parent + ' is missing: upload it first')");
  s.close();
  const std::string size = capacity > 0 ? fmt::format(" -SizeBytes {}", capacity) : "";
  s.line("New-VHD -Path $path -ParentPath $parent -Differencing" + size + " | Out-Null");
  return s.finish();
}

Result<std::string> render_delete_volume(std::string_view root, std::string_view classroom,
                                         std::string_view volume) {
  Script s("delete-volume", std::string(volume));
  declare_pool(s, root, classroom);
  s.open("if (Test-Path -LiteralPath $dir) {");
  require_pool(s, classroom);
  declare_volume(s, "path", volume);
  s.open("if (Test-Path -LiteralPath $path) {");
  s.line("Remove-Item -LiteralPath $path -Force");
  s.close();
  s.close();
  return s.finish();
}

}  // namespace labctl::hv::hyperv

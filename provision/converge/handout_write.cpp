#include "provision/converge/handout_write.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "provision/apply/stack_secrets.hpp"
#include "provision/sys/archive_write.hpp"
#include "provision/sys/state.hpp"

namespace labctl::converge {

namespace fs = std::filesystem;

Status write_handout_dir(const fs::path& dir, const std::vector<HandoutFile>& files) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || ::chmod(dir.c_str(), 0700) != 0) {
    return Error::failure("cannot create " + dir.string() + ": " +
                          (ec ? ec.message() : std::string(std::strerror(errno))));
  }
  for (const HandoutFile& file : files) {
    if (auto st = sys::write_file_atomic(dir / file.name, file.content, file.mode); !st) {
      return st;
    }
  }
  return {};
}

Status write_handout_archive(const fs::path& path, const std::string& top,
                             const std::vector<HandoutFile>& files) {
  const fs::path temp = path.string() + ".part";
  std::error_code made;
  fs::create_directories(path.parent_path().empty() ? fs::path(".") : path.parent_path(), made);
  if (made) {
    return Error::failure("cannot create " + path.parent_path().string() + ": " + made.message());
  }
  sys::ArchiveWriter a(archive_write_new());
  if (archive_write_set_format_pax_restricted(a.get()) != ARCHIVE_OK ||
      archive_write_add_filter_gzip(a.get()) != ARCHIVE_OK ||
      archive_write_open_filename(a.get(), temp.c_str()) != ARCHIVE_OK) {
    return sys::archive_error("cannot create", a.get(), temp.string());
  }
  Status st = sys::add_archive_entry(a.get(), top + "/", "", 0700, path.string(), AE_IFDIR);
  for (std::size_t i = 0; st && i < files.size(); ++i) {
    st = sys::add_archive_entry(a.get(), top + "/" + files[i].name, files[i].content, files[i].mode,
                                path.string());
  }
  if (st && archive_write_close(a.get()) != ARCHIVE_OK) {
    st = sys::archive_error("cannot finish", a.get(), path.string());
  }
  std::error_code ec;
  if (st) {
    ::chmod(temp.c_str(), 0600);  // it holds the team's private key
    fs::rename(temp, path, ec);
  }
  if (!st || ec) {
    fs::remove(temp, ec);
    return st ? Status(Error::failure("cannot write " + path.string())) : st;
  }
  return {};
}

// The team's key and its VMs' pinned host keys, made now if `up` has not made them yet.
Result<TeamSecrets> team_secrets(const sys::StateDir& state, const model::Team& team) {
  auto key = state.team_key(team.name);
  if (!key) {
    return key.error();
  }
  TeamSecrets out{key->private_openssh, {}};
  for (const model::Vm& vm : team.vms) {
    auto host = state.host_key(vm.name);
    if (!host) {
      return host.error();
    }
    out.host_keys[vm.key] = host->public_line;
  }
  return out;
}

// Every covered VM's DB passwords, as `up` made them (made now if `up` has not run yet).
Result<std::map<std::string, squashtm::Secrets>> secrets_of(const model::Lab& lab,
                                                            const sys::StateDir& state,
                                                            const sys::ClassroomState& current,
                                                            const plan::Scope& scope) {
  std::map<std::string, squashtm::Secrets> out;
  for (const model::Team& team : lab.teams) {
    if (!scope.covers(team.name)) {
      continue;
    }
    for (const model::Vm& vm : team.vms) {
      auto secrets = apply::stack_secrets(state, vm, current.effective_instances(vm));
      if (!secrets) {
        return secrets.error();
      }
      out[vm.name] = *secrets;
    }
  }
  return out;
}

Result<PreparedHandout> prepare_handout(const model::Lab& lab, const plan::Scope& scope,
                                        bool with_secrets, bool writes) {
  auto state = with_secrets || writes ? sys::StateDir::open(lab.classroom)
                                      : sys::StateDir::open_read_only(lab.classroom);
  auto current = state ? state->read_state() : Result<sys::ClassroomState>(state.error());
  if (!current) {
    return current.error();
  }
  HandoutInputs inputs{{}, *current, {}};
  for (const model::Team& team : lab.teams) {
    if (scope.covers(team.name)) {
      inputs.teams.push_back(team.name);
    }
  }
  if (with_secrets) {
    auto secrets = secrets_of(lab, *state, *current, scope);
    if (!secrets) {
      return secrets.error();
    }
    inputs.secrets = *secrets;
  }
  return PreparedHandout{handout_of(lab, inputs), std::move(*state)};
}

Result<std::vector<WrittenHandout>> write_team_handouts(const model::Lab& lab,
                                                        const PreparedHandout& prepared,
                                                        HandoutFormat format,
                                                        const fs::path& out_dir, bool archive) {
  std::vector<WrittenHandout> written;
  for (const HandoutTeam& team : prepared.handout.teams) {
    auto secrets = team_secrets(prepared.state, *lab.find_team(team.name));
    if (!secrets) {
      return secrets.error();
    }
    const auto files = handout_files(prepared.handout, team, format, *secrets);
    const std::string top = lab.classroom + "-" + team.name;
    const fs::path path = out_dir / (archive ? top + ".tar.gz" : top);
    if (auto st =
            archive ? write_handout_archive(path, top, files) : write_handout_dir(path, files);
        !st) {
      return st.error();
    }
    written.push_back({team.name, path});
  }
  return written;
}

}  // namespace labctl::converge

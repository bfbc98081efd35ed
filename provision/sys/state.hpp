#pragma once

// One classroom's state directory: the classroom SSH key pair, the VMs' pinned host keys,
// known_hosts, secrets and state.json. Everything in it is private to the instructor:
// directories 0700, files 0600. Files are replaced atomically (temp file + rename), so a
// crash never leaves half a key or half a document behind.
//
// Layout under <root>/<classroom>/:
//   id_ed25519, id_ed25519.pub          classroom key pair (the admin user's login)
//   hostkeys/<vm>.key, hostkeys/<vm>.pub pinned host key of each VM
//   teamkeys/<team>.key, teamkeys/<team>.pub  each team's key pair (its students' login)
//   known_hosts                         one line per VM address, rewritten as a whole
//   secrets/<name>                      passwords and tokens, never printed
//   state.json                          labctl's own bookkeeping (classroom_state.hpp)
//   logs/<vm>.serial.log                the VMs' serial consoles
//   dumps/<vm>-<instance>-...           database dumps saved by `squash upgrade`
//   lock                                the classroom's writer lock (classroom_lock.hpp): who
//                                       holds it, empty when free

#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "provision/result.hpp"
#include "provision/sys/classroom_state.hpp"
#include "provision/sys/ssh_keys.hpp"

namespace labctl::sys {

struct KnownHost {
  std::string address;  // the VM's IP (what ssh is given)
  std::string vm;       // whose pinned host key answers there
  int port = 22;
};

// $LABCTL_STATE_DIR, else $XDG_STATE_HOME/labctl, else ~/.local/state/labctl.
Result<std::filesystem::path> default_state_root();

// What `down --all` deletes from a state directory, and what it keeps.
struct Removal {
  std::vector<std::filesystem::path> remove;  // sorted: a directory before what it holds
  std::vector<std::filesystem::path> keep;    // the dumps (and the directories holding them)
};

class StateDir {
 public:
  // Opens (creating with mode 0700) <root>/<classroom>.
  static Result<StateDir> open(const std::string& classroom);
  static Result<StateDir> open_at(const std::filesystem::path& root, const std::string& classroom);
  // For commands that only read (status, handout, ssh, a dry run): nothing is created or
  // written, so an absent directory stays absent and reads as empty; what would write (a new
  // key, a secret, state.json, a log directory) fails instead.
  static Result<StateDir> open_read_only(const std::string& classroom);
  static Result<StateDir> open_read_only_at(const std::filesystem::path& root,
                                            const std::string& classroom);

  const std::filesystem::path& dir() const { return m_dir; }
  std::filesystem::path private_key_path() const { return m_dir / "id_ed25519"; }
  std::filesystem::path known_hosts_path() const { return m_dir / "known_hosts"; }
  std::filesystem::path state_path() const { return m_dir / "state.json"; }
  std::filesystem::path lock_path() const { return m_dir / "lock"; }
  // Whether the directory holds more than its lock file: when not, it holds no classroom's
  // state, only what a writer's lock made.
  bool holds_state() const;
  // Removes the directory when it holds nothing but its lock file, called by the lock's
  // holder while it holds it: a writer that wrote nothing (a refused `up`, a `down` without
  // state) leaves no directory behind.
  void forget_if_lock_only() const;
  // Creates logs/ on demand; the file itself is written by the hypervisor.
  Result<std::filesystem::path> serial_log_path(const std::string& vm) const;

  // Generated on the first call, read back afterwards (also by another process).
  Result<KeyPair> classroom_key() const;
  Result<KeyPair> host_key(const std::string& vm) const;
  // The team's own key pair: its VMs accept it beside the classroom key, and it is the one
  // key a team's hand-out carries.
  Result<KeyPair> team_key(const std::string& team) const;
  // Rewrites known_hosts with one line per host, keyed by each VM's pinned host key.
  Status write_known_hosts(const std::vector<KnownHost>& hosts) const;

  Status write_secret(const std::string& name, const std::string& value) const;
  Result<std::string> read_secret(const std::string& name) const;
  // Gone already counts as removed.
  Status remove_secret(const std::string& name) const;

  // state.json. An absent file reads as an empty state; a file that cannot be read or
  // parsed, or that a newer labctl wrote, is an Error naming it, never an empty state.
  Result<ClassroomState> read_state() const;
  // Read-modify-write under the directory's lock (threads of this process), written whole
  // (temp file + rename). Nothing is written when the file cannot be read.
  Status update_state(const std::function<void(ClassroomState&)>& change) const;

  // Deletes the whole classroom directory.
  Status remove_all() const;
  // Every path in the directory, the directory too, split into what `down --all` deletes
  // and, with keep_dumps, the dumps it keeps (dumps/ and the directory stay then). The lock
  // file is not listed: it is labctl's, not the classroom's, and goes in any case.
  Removal removal(bool keep_dumps) const;
  // Deletes exactly these paths (a Removal's `remove`), what a directory holds before it,
  // and the lock file last, before the directory (its holder, the caller, keeps the lock
  // until it ends); a directory that still holds something else (made since it was listed)
  // is an error.
  Status remove_paths(const std::vector<std::filesystem::path>& paths) const;
  std::filesystem::path dumps_dir() const { return m_dir / "dumps"; }

 private:
  explicit StateDir(std::filesystem::path dir, bool read_only = false);
  Status writable() const;
  Status write_state(const ClassroomState& state) const;
  Status prepare_dir(const std::filesystem::path& dir) const;
  Result<KeyPair> named_key(const std::string& what, const std::string& subdir,
                            const std::string& name, const std::string& comment) const;
  Result<KeyPair> load_or_create_key(const std::filesystem::path& private_path,
                                     const std::filesystem::path& public_path,
                                     const std::string& comment) const;

  std::filesystem::path m_dir;
  std::shared_ptr<std::mutex> m_mutex;  // shared: StateDir is copied into workers
  bool m_read_only = false;
};

// Creates `dir` (and its parents) when absent, and makes it 0700.
Status ensure_private_dir(const std::filesystem::path& dir);
// Writes `content` to `path` with `mode` through a temp file in the same directory, fsync,
// rename: readers see the old file or the new one, never a part.
Status write_file_atomic(const std::filesystem::path& path, const std::string& content,
                         unsigned mode);
// Like write_file_atomic, but an existing `path` wins: returns false and leaves it alone
// (link(2) instead of rename(2)), so two processes creating a key agree on one.
Result<bool> create_file_once(const std::filesystem::path& path, const std::string& content,
                              unsigned mode);
Result<std::string> read_text_file(const std::filesystem::path& path);

}  // namespace labctl::sys

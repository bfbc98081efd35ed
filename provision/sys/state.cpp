#include "provision/sys/state.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace labctl::sys {

namespace fs = std::filesystem;

namespace {

constexpr unsigned k_private_file = 0600;
constexpr unsigned k_private_dir = 0700;

std::string errno_text(const std::string& what, const fs::path& path) {
  return what + " " + path.string() + ": " + std::strerror(errno);
}

// Names become file names: keep them to a safe charset so "../x" cannot escape the directory.
bool safe_name(const std::string& name) {
  if (name.empty() || name.size() > 128 || name.front() == '.' || name.front() == '-') {
    return false;
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

Status check_name(const std::string& what, const std::string& name) {
  if (!safe_name(name)) {
    return Error::failure("invalid " + what + " name \"" + name + "\" (letters, digits, . _ -)");
  }
  return {};
}

bool write_all(int fd, const std::string& content) {
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// A temp file beside `path` holding `content` with `mode`, flushed to disk.
Result<fs::path> write_temp(const fs::path& path, const std::string& content, unsigned mode) {
  std::string name = path.string() + ".tmp.XXXXXX";
  const int fd = ::mkstemp(name.data());
  if (fd < 0) {
    return Error::failure(errno_text("cannot create a temp file for", path));
  }
  const bool ok = ::fchmod(fd, mode) == 0 && write_all(fd, content) && ::fsync(fd) == 0;
  const std::string failure = ok ? "" : errno_text("cannot write", name);
  if (::close(fd) != 0 || !ok) {
    ::unlink(name.c_str());
    return Error::failure(ok ? errno_text("cannot write", name) : failure);
  }
  return fs::path(name);
}

// Whether `path` is `dir` or lies below it.
bool within(const fs::path& path, const fs::path& dir) {
  const auto [end, _] = std::mismatch(dir.begin(), dir.end(), path.begin(), path.end());
  return end == dir.end();
}

}  // namespace

Status ensure_private_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return Error::failure("cannot create " + dir.string() + ": " + ec.message());
  }
  if (::chmod(dir.c_str(), k_private_dir) != 0) {
    return Error::failure(errno_text("cannot chmod", dir));
  }
  return {};
}

Status write_file_atomic(const fs::path& path, const std::string& content, unsigned mode) {
  auto temp = write_temp(path, content, mode);
  if (!temp) {
    return temp.error();
  }
  if (::rename(temp->c_str(), path.c_str()) != 0) {
    const std::string message = errno_text("cannot replace", path);
    ::unlink(temp->c_str());
    return Error::failure(message);
  }
  return {};
}

Result<bool> create_file_once(const fs::path& path, const std::string& content, unsigned mode) {
  auto temp = write_temp(path, content, mode);
  if (!temp) {
    return temp.error();
  }
  const int rc = ::link(temp->c_str(), path.c_str());
  const int link_errno = errno;
  ::unlink(temp->c_str());
  if (rc == 0) {
    return true;
  }
  if (link_errno == EEXIST) {
    return false;
  }
  errno = link_errno;
  return Error::failure(errno_text("cannot create", path));
}

Result<std::string> read_text_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error::failure("cannot read " + path.string());
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Result<fs::path> default_state_root() {
  const char* explicit_dir = std::getenv("LABCTL_STATE_DIR");
  if (explicit_dir != nullptr && *explicit_dir != '\0') {
    return fs::path(explicit_dir);
  }
  // The XDG spec says relative values are invalid and must be ignored.
  const char* xdg = std::getenv("XDG_STATE_HOME");
  if (xdg != nullptr && *xdg == '/') {
    return fs::path(xdg) / "labctl";
  }
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') {
    return Error::failure("no state directory: set LABCTL_STATE_DIR or HOME");
  }
  return fs::path(home) / ".local" / "state" / "labctl";
}

StateDir::StateDir(fs::path dir, bool read_only)
    : m_dir(std::move(dir)), m_mutex(std::make_shared<std::mutex>()), m_read_only(read_only) {}

Result<StateDir> StateDir::open(const std::string& classroom) {
  auto root = default_state_root();
  if (!root) {
    return root.error();
  }
  return open_at(*root, classroom);
}

Result<StateDir> StateDir::open_at(const fs::path& root, const std::string& classroom) {
  if (auto st = check_name("classroom", classroom); !st) {
    return st.error();
  }
  StateDir state(root / classroom);
  if (auto st = ensure_private_dir(state.m_dir); !st) {
    return st.error();
  }
  return state;
}

Result<StateDir> StateDir::open_read_only(const std::string& classroom) {
  auto root = default_state_root();
  if (!root) {
    return root.error();
  }
  return open_read_only_at(*root, classroom);
}

Result<StateDir> StateDir::open_read_only_at(const fs::path& root, const std::string& classroom) {
  if (auto st = check_name("classroom", classroom); !st) {
    return st.error();
  }
  return StateDir(root / classroom, true);
}

Status StateDir::writable() const {
  if (m_read_only) {
    return Error::failure(m_dir.string() + " is open for reading only; nothing is written");
  }
  return {};
}

Status StateDir::prepare_dir(const fs::path& dir) const {
  if (!m_read_only) {
    return ensure_private_dir(dir);
  }
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Error::failure("no " + dir.string() + " (made by `labctl up`)");
  }
  return {};
}

Result<fs::path> StateDir::serial_log_path(const std::string& vm) const {
  if (auto st = check_name("VM", vm); !st) {
    return st.error();
  }
  if (auto st = prepare_dir(m_dir / "logs"); !st) {
    return st.error();
  }
  return m_dir / "logs" / (vm + ".serial.log");
}

Result<KeyPair> StateDir::classroom_key() const {
  return load_or_create_key(private_key_path(), m_dir / "id_ed25519.pub",
                            "labctl-" + m_dir.filename().string());
}

Result<KeyPair> StateDir::host_key(const std::string& vm) const {
  return named_key("VM", "hostkeys", vm, vm);
}

Result<KeyPair> StateDir::team_key(const std::string& team) const {
  return named_key("team", "teamkeys", team, "labctl-" + m_dir.filename().string() + "-" + team);
}

Result<KeyPair> StateDir::named_key(const std::string& what, const std::string& subdir,
                                    const std::string& name, const std::string& comment) const {
  if (auto st = check_name(what, name); !st) {
    return st.error();
  }
  if (auto st = prepare_dir(m_dir / subdir); !st) {
    return st.error();
  }
  return load_or_create_key(m_dir / subdir / (name + ".key"), m_dir / subdir / (name + ".pub"),
                            comment);
}

Result<KeyPair> StateDir::load_or_create_key(const fs::path& private_path,
                                             const fs::path& public_path,
                                             const std::string& comment) const {
  std::lock_guard lock(*m_mutex);
  if (!fs::exists(private_path) && m_read_only) {
    return Error::failure("no key " + private_path.string() + " (made by `labctl up`)");
  }
  if (!fs::exists(private_path)) {
    auto fresh = generate_ed25519(comment);
    if (!fresh) {
      return fresh.error();
    }
    // Another process may have won the race: then its key is the one kept.
    if (auto created = create_file_once(private_path, fresh->private_openssh, k_private_file);
        !created) {
      return created.error();
    }
  }
  auto text = read_text_file(private_path);
  if (!text) {
    return text.error();
  }
  // The public half is always derived from the private key, so the two cannot disagree.
  auto line = public_line_of(*text, comment);
  if (!line) {
    return Error::failure(private_path.string() + ": " + line.error().message);
  }
  auto on_disk = read_text_file(public_path);
  if (!m_read_only && (!on_disk || *on_disk != *line + "\n")) {
    if (auto st = write_file_atomic(public_path, *line + "\n", k_private_file); !st) {
      return st.error();
    }
  }
  return KeyPair{*text, *line};
}

Status StateDir::write_known_hosts(const std::vector<KnownHost>& hosts) const {
  if (auto st = writable(); !st) {
    return st;
  }
  std::string text;
  for (const auto& host : hosts) {
    auto key = host_key(host.vm);
    if (!key) {
      return key.error();
    }
    text += known_hosts_line(host.address, key->public_line, host.port) + "\n";
  }
  std::lock_guard lock(*m_mutex);
  return write_file_atomic(known_hosts_path(), text, k_private_file);
}

Status StateDir::write_secret(const std::string& name, const std::string& value) const {
  if (auto st = check_name("secret", name); !st || !(st = writable())) {
    return st;
  }
  if (auto st = ensure_private_dir(m_dir / "secrets"); !st) {
    return st;
  }
  return write_file_atomic(m_dir / "secrets" / name, value, k_private_file);
}

Result<std::string> StateDir::read_secret(const std::string& name) const {
  if (auto st = check_name("secret", name); !st) {
    return st.error();
  }
  const fs::path path = m_dir / "secrets" / name;
  if (!fs::exists(path)) {
    return Error::failure("no secret \"" + name + "\" in " + m_dir.string());
  }
  return read_text_file(path);
}

Status StateDir::remove_secret(const std::string& name) const {
  if (auto st = check_name("secret", name); !st || !(st = writable())) {
    return st;
  }
  std::error_code ec;
  fs::remove(m_dir / "secrets" / name, ec);
  if (ec) {
    return Error::failure("cannot remove secret \"" + name + "\": " + ec.message());
  }
  return {};
}

bool StateDir::holds_state() const {
  std::error_code ec;
  for (fs::directory_iterator it(m_dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path() != lock_path()) {
      return true;
    }
  }
  return false;
}

void StateDir::forget_if_lock_only() const {
  std::error_code ec;
  if (fs::is_directory(m_dir, ec) && !holds_state()) {
    fs::remove(lock_path(), ec);
    fs::remove(m_dir, ec);  // only when empty still
  }
}

Result<ClassroomState> StateDir::read_state() const {
  std::error_code ec;
  const bool present = fs::exists(state_path(), ec);
  if (ec) {
    return Error::failure("cannot read " + state_path().string() + ": " + ec.message());
  }
  if (!present) {
    return ClassroomState{};
  }
  auto text = read_text_file(state_path());
  if (!text) {
    return text.error();
  }
  return parse_classroom_state(*text, state_path().string());
}

Status StateDir::write_state(const ClassroomState& state) const {
  if (auto st = writable(); !st) {
    return st;
  }
  return write_file_atomic(state_path(), to_json(state).dump(2) + "\n", k_private_file);
}

Status StateDir::update_state(const std::function<void(ClassroomState&)>& change) const {
  std::lock_guard lock(*m_mutex);
  auto state = read_state();
  if (!state) {
    return state.error();
  }
  change(*state);
  return write_state(*state);
}

Status StateDir::remove_all() const {
  if (auto st = writable(); !st) {
    return st;
  }
  std::lock_guard lock(*m_mutex);
  std::error_code ec;
  fs::remove_all(m_dir, ec);
  if (ec) {
    return Error::failure("cannot remove " + m_dir.string() + ": " + ec.message());
  }
  return {};
}

Removal StateDir::removal(bool keep_dumps) const {
  Removal out;
  std::error_code ec;
  if (!fs::is_directory(m_dir, ec)) {
    return out;
  }
  out.remove.push_back(m_dir);
  for (fs::recursive_directory_iterator it(m_dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path() == lock_path()) {
      continue;  // the lock of the `down --all` listing this: removed last, by remove_paths
    }
    const bool dump = keep_dumps && within(it->path(), dumps_dir());
    (dump ? out.keep : out.remove).push_back(it->path());
  }
  // An empty dumps/ keeps nothing; otherwise the directory holding it stays too.
  const bool any_dump = std::any_of(out.keep.begin(), out.keep.end(),
                                    [&](const fs::path& p) { return p != dumps_dir(); });
  if (any_dump) {
    out.remove.erase(out.remove.begin());
    out.keep.push_back(m_dir);
  } else {
    out.remove.insert(out.remove.end(), out.keep.begin(), out.keep.end());
    out.keep.clear();
  }
  std::sort(out.remove.begin(), out.remove.end());
  std::sort(out.keep.begin(), out.keep.end());
  return out;
}

Status StateDir::remove_paths(const std::vector<fs::path>& paths) const {
  if (paths.empty()) {
    return {};
  }
  if (auto st = writable(); !st) {
    return st;
  }
  std::lock_guard lock(*m_mutex);
  auto remove = [](const fs::path& path) -> Status {
    std::error_code ec;
    fs::remove(path, ec);  // not recursive: what a directory holds was listed before it
    if (ec) {
      return Error::failure("cannot remove " + path.string() + ": " + ec.message());
    }
    return {};
  };
  for (auto it = paths.rbegin(); it != paths.rend(); ++it) {
    if (auto st = *it == m_dir ? Status() : remove(*it); !st) {
      return st;
    }
  }
  // The caller holds the lock: the file goes last, and a writer waiting on it starts again on
  // a new one (classroom_lock.hpp).
  if (auto st = remove(lock_path()); !st) {
    return st;
  }
  return std::find(paths.begin(), paths.end(), m_dir) == paths.end() ? Status() : remove(m_dir);
}

}  // namespace labctl::sys

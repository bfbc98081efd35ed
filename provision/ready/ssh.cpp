#include "provision/ready/ssh.hpp"

#include <fcntl.h>
#include <libssh/libssh.h>
#include <libssh/sftp.h>

#include <fmt/format.h>

namespace labctl::ready {

namespace {

struct KeyDeleter {
  void operator()(ssh_key key) const { ssh_key_free(key); }
};
using KeyPtr = std::unique_ptr<std::remove_pointer_t<ssh_key>, KeyDeleter>;

struct ChannelDeleter {
  void operator()(ssh_channel channel) const {
    ssh_channel_close(channel);
    ssh_channel_free(channel);
  }
};
using ChannelPtr = std::unique_ptr<std::remove_pointer_t<ssh_channel>, ChannelDeleter>;

struct SftpDeleter {
  void operator()(sftp_session sftp) const { sftp_free(sftp); }
};
using SftpPtr = std::unique_ptr<std::remove_pointer_t<sftp_session>, SftpDeleter>;

Result<KeyPtr> parse_public_key(const std::string& line) {
  const auto first = line.find(' ');
  if (first == std::string::npos) {
    return Error::failure("malformed pinned host key");
  }
  const auto second = line.find(' ', first + 1);
  const std::string type = line.substr(0, first);
  const std::string blob =
      line.substr(first + 1, second == std::string::npos ? std::string::npos : second - first - 1);
  ssh_key key = nullptr;
  if (ssh_pki_import_pubkey_base64(blob.c_str(), ssh_key_type_from_name(type.c_str()), &key) !=
      SSH_OK) {
    return Error::failure("cannot parse the pinned host key");
  }
  return KeyPtr(key);
}

}  // namespace

struct SshSession::Impl {
  ssh_session session = nullptr;
  std::string where;
  ~Impl() {
    if (session != nullptr) {
      ssh_disconnect(session);
      ssh_free(session);
    }
  }
  Error fail(const std::string& what) const {
    return Error::failure(fmt::format("ssh {}: {}: {}", where, what, ssh_get_error(session)));
  }
};

Status verify_host_key(ssh_session session, const SshTarget& target) {
  ssh_key raw = nullptr;
  if (ssh_get_server_publickey(session, &raw) != SSH_OK) {
    return Error::failure("no host key from server");
  }
  KeyPtr server(raw);
  auto pinned = parse_public_key(target.host_public_key);
  if (!pinned) {
    return pinned.error();
  }
  if (ssh_key_cmp(server.get(), pinned->get(), SSH_KEY_CMP_PUBLIC) != 0) {
    return Error::failure("host key does not match the key labctl pinned for this VM");
  }
  return {};
}

Result<std::unique_ptr<SshSession>> SshSession::connect(const SshTarget& target) {
  auto impl = std::make_unique<Impl>();
  impl->where = fmt::format("{}@{}:{}", target.user, target.host, target.port);
  impl->session = ssh_new();
  long timeout = target.timeout_seconds;
  int port = target.port;
  int no = 0;
  ssh_options_set(impl->session, SSH_OPTIONS_HOST, target.host.c_str());
  ssh_options_set(impl->session, SSH_OPTIONS_PORT, &port);
  ssh_options_set(impl->session, SSH_OPTIONS_USER, target.user.c_str());
  ssh_options_set(impl->session, SSH_OPTIONS_TIMEOUT, &timeout);
  ssh_options_set(impl->session, SSH_OPTIONS_PROCESS_CONFIG, &no);
  ssh_options_set(impl->session, SSH_OPTIONS_KNOWNHOSTS, "/dev/null");
  if (ssh_connect(impl->session) != SSH_OK) {
    return impl->fail("connect");
  }
  if (auto st = verify_host_key(impl->session, target); !st) {
    return Error::failure(fmt::format("ssh {}: {}", impl->where, st.error().message));
  }
  ssh_key raw = nullptr;
  if (ssh_pki_import_privkey_file(target.private_key_file.c_str(), nullptr, nullptr, nullptr,
                                  &raw) != SSH_OK) {
    return Error::failure(fmt::format("cannot read key {}", target.private_key_file));
  }
  KeyPtr key(raw);
  if (ssh_userauth_publickey(impl->session, nullptr, key.get()) != SSH_AUTH_SUCCESS) {
    return impl->fail("authentication");
  }
  return std::unique_ptr<SshSession>(new SshSession(std::move(impl)));
}

SshSession::SshSession(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
SshSession::~SshSession() = default;

Result<ExecResult> SshSession::exec(const std::string& command) {
  ChannelPtr channel(ssh_channel_new(m_impl->session));
  if (!channel || ssh_channel_open_session(channel.get()) != SSH_OK ||
      ssh_channel_request_exec(channel.get(), command.c_str()) != SSH_OK) {
    return m_impl->fail("exec");
  }
  // Both streams are drained as data comes, until EOF: a blocking read would give up after
  // the session's timeout on a command that is silent for longer (a wait in the guest).
  ExecResult result;
  result.exit_code = -1;  // until the channel reports one
  char buffer[16384];
  while (true) {
    bool got = false;
    for (int is_stderr : {0, 1}) {
      const int n = ssh_channel_read_nonblocking(channel.get(), buffer, sizeof buffer, is_stderr);
      if (n == SSH_ERROR) {
        return m_impl->fail("read");
      }
      if (n > 0) {
        (is_stderr != 0 ? result.err : result.out).append(buffer, static_cast<std::size_t>(n));
        got = true;
      }
    }
    if (!got && ssh_channel_is_eof(channel.get()) != 0) {
      break;
    }
    if (!got && ssh_channel_poll_timeout(channel.get(), 500, 0) == SSH_ERROR) {
      return m_impl->fail("poll");
    }
  }
  ssh_channel_send_eof(channel.get());
  result.exit_code = ssh_channel_get_exit_status(channel.get());
  return result;
}

Status SshSession::put_file(const std::string& path, const std::string& content, int mode) {
  SftpPtr sftp(sftp_new(m_impl->session));
  if (!sftp || sftp_init(sftp.get()) != SSH_OK) {
    return m_impl->fail("sftp");
  }
  const std::string temp = path + ".labctl-tmp";
  sftp_file file = sftp_open(sftp.get(), temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, mode);
  if (file == nullptr) {
    return m_impl->fail("open " + temp);
  }
  std::size_t done = 0;
  while (done < content.size()) {
    const auto n = sftp_write(file, content.data() + done,
                              std::min<std::size_t>(content.size() - done, 32768));
    if (n <= 0) {
      sftp_close(file);
      return m_impl->fail("write " + temp);
    }
    done += static_cast<std::size_t>(n);
  }
  sftp_close(file);
  sftp_unlink(sftp.get(), path.c_str());
  if (sftp_rename(sftp.get(), temp.c_str(), path.c_str()) != SSH_OK) {
    return m_impl->fail("rename " + path);
  }
  return {};
}

}  // namespace labctl::ready

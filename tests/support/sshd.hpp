#pragma once

// A real OpenSSH server on a free loopback port, with keys generated for the test: for SSH and
// remote-libvirt tests. Only root may log in, with the generated user key only. Runs as long
// as the object lives.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "provision/sys/process.hpp"
#include "tests/support/golden.hpp"
#include "tests/support/loopback.hpp"

namespace labctl::testing {

class TestSshd {
 public:
  explicit TestSshd(const std::filesystem::path& dir) : m_dir(dir) {}
  ~TestSshd() {
    if (m_pid > 0) {
      ::kill(m_pid, SIGTERM);
      ::waitpid(m_pid, nullptr, 0);
    }
  }
  TestSshd(const TestSshd&) = delete;
  TestSshd& operator=(const TestSshd&) = delete;

  // Why a test cannot run an sshd here ("" when it can): for a Catch2 SKIP.
  static std::string missing() {
    for (const char* tool : {k_sshd, "/usr/bin/ssh-keygen"}) {
      if (::access(tool, X_OK) != 0) {
        return std::string(tool) + " is not installed (openssh-server, openssh-client)";
      }
    }
    return "";
  }

  // Generates host and user keys, writes the config, starts sshd; returns an empty string or why
  // not.
  std::string start() {
    sys::SystemRunner run;
    for (const char* key : {"host_key", "user_key"}) {
      auto r = run.run({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "labctl-test", "-f",
                        (m_dir / key).string()});
      if (!r || r->exit_code != 0) {
        return "ssh-keygen failed";
      }
    }
    std::filesystem::copy_file(m_dir / "user_key.pub", m_dir / "authorized_keys");
    m_port = free_loopback_port();
    if (m_port == 0) {
      return "no free loopback port";
    }
    write_config();
    std::filesystem::create_directories("/run/sshd");
    m_pid = ::fork();
    if (m_pid == 0) {
      ::execl(k_sshd, k_sshd, "-D", "-E", (m_dir / "sshd.log").c_str(), "-f",
              (m_dir / "sshd_config").c_str(), nullptr);
      ::_exit(127);
    }
    return wait_listening();
  }

  int port() const { return m_port; }
  std::string user_key() const { return (m_dir / "user_key").string(); }
  std::string host_public_key() const { return read_file(m_dir / "host_key.pub"); }
  // The server's line for a known_hosts file: "[127.0.0.1]:PORT ssh-ed25519 AAAA...".
  std::string known_hosts_line() const {
    const std::string key = host_public_key();
    const auto end = key.find(' ', key.find(' ') + 1);
    return "[127.0.0.1]:" + std::to_string(m_port) + " " + key.substr(0, end) + "\n";
  }
  std::string log() const { return read_file(m_dir / "sshd.log"); }

 private:
  static constexpr const char* k_sshd = "/usr/sbin/sshd";

  void write_config() const {
    std::ofstream(m_dir / "sshd_config")
        << "ListenAddress 127.0.0.1\nPort " << m_port << "\nHostKey "
        << (m_dir / "host_key").string() << "\nAuthorizedKeysFile "
        << (m_dir / "authorized_keys").string()
        << "\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
        << "StrictModes no\nPidFile none\nSubsystem sftp internal-sftp\n"
        << "PermitRootLogin prohibit-password\nAllowUsers root\n";
  }

  std::string wait_listening() {
    for (int i = 0; i < 50; ++i) {
      if (::waitpid(m_pid, nullptr, WNOHANG) == m_pid) {
        m_pid = -1;
        return "sshd exited: " + log();
      }
      if (loopback_accepts(m_port)) {
        return "";
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return "sshd did not listen on 127.0.0.1:" + std::to_string(m_port);
  }

  std::filesystem::path m_dir;
  pid_t m_pid = -1;
  int m_port = 0;
};

}  // namespace labctl::testing

#pragma once

// A real OpenSSH server on a loopback port, with keys generated for the test: for SSH and
// remote-libvirt tests. Runs as long as the object lives.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>

#include "provision/sys/process.hpp"
#include "tests/golden.hpp"

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
    m_port = 20000 + static_cast<int>(::getpid() % 20000);
    std::ofstream(m_dir / "sshd_config")
        << "ListenAddress 127.0.0.1\nPort " << m_port << "\nHostKey "
        << (m_dir / "host_key").string() << "\nAuthorizedKeysFile "
        << (m_dir / "authorized_keys").string()
        << "\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
        << "StrictModes no\nPidFile none\nSubsystem sftp internal-sftp\nPermitRootLogin yes\n";
    std::filesystem::create_directories("/run/sshd");
    m_pid = ::fork();
    if (m_pid == 0) {
      ::execl("/usr/sbin/sshd", "/usr/sbin/sshd", "-D", "-E", (m_dir / "sshd.log").c_str(), "-f",
              (m_dir / "sshd_config").c_str(), nullptr);
      ::_exit(127);
    }
    for (int i = 0; i < 50; ++i) {
      auto r = run.run({"sh", "-c", "ss -ltn | grep -q ':" + std::to_string(m_port) + " '"});
      if (r && r->exit_code == 0) {
        return "";
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return "sshd did not listen";
  }

  int port() const { return m_port; }
  std::string user_key() const { return (m_dir / "user_key").string(); }
  std::string host_public_key() const { return read_file(m_dir / "host_key.pub"); }

 private:
  std::filesystem::path m_dir;
  pid_t m_pid = -1;
  int m_port = 0;
};

}  // namespace labctl::testing

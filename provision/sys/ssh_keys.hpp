#pragma once

// SSH keys labctl generates itself (libssh's pki API): one key pair per classroom for the
// admin user, one host key per VM, so that known_hosts is exact from the first connection.

#include <string>

#include "provision/result.hpp"

namespace labctl::sys {

struct KeyPair {
  std::string private_openssh;  // "-----BEGIN OPENSSH PRIVATE KEY-----\n...\n", unencrypted
  std::string public_line;      // "ssh-ed25519 AAAA... comment"
};

// A fresh ed25519 key pair; `comment` ends the public line (may be empty).
Result<KeyPair> generate_ed25519(const std::string& comment);

// The public line of a private key in OpenSSH format; fails when the text does not parse.
Result<std::string> public_line_of(const std::string& private_openssh, const std::string& comment);

// "<host> ssh-ed25519 AAAA..." (the comment is dropped); "[host]:port" when port != 22.
std::string known_hosts_line(const std::string& host, const std::string& public_line,
                             int port = 22);

}  // namespace labctl::sys

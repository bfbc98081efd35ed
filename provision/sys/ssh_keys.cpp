#include "provision/sys/ssh_keys.hpp"

#include <libssh/libssh.h>

#include <cstdlib>
#include <memory>
#include <sstream>

namespace labctl::sys {

namespace {

struct KeyFree {
  void operator()(ssh_key key) const { ssh_key_free(key); }
};
using KeyPtr = std::unique_ptr<std::remove_pointer_t<ssh_key>, KeyFree>;

// libssh hands out malloc'ed strings.
std::string take_string(char* text) {
  std::string result = text != nullptr ? text : "";
  std::free(text);  // NOLINT(cppcoreguidelines-no-malloc)
  return result;
}

Result<std::string> public_line_of_key(ssh_key key, const std::string& comment) {
  char* blob = nullptr;
  if (ssh_pki_export_pubkey_base64(key, &blob) != SSH_OK) {
    return Error::failure("cannot export an SSH public key");
  }
  std::string line = std::string(ssh_key_type_to_char(ssh_key_type(key))) + " " + take_string(blob);
  if (!comment.empty()) {
    line += " " + comment;
  }
  return line;
}

}  // namespace

Result<KeyPair> generate_ed25519(const std::string& comment) {
  ssh_key raw = nullptr;
  if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &raw) != SSH_OK) {
    return Error::failure("cannot generate an ed25519 key");
  }
  KeyPtr key(raw);
  char* text = nullptr;
  // For ed25519, libssh 0.10 exports the OpenSSH format that sshd and ssh read.
  if (ssh_pki_export_privkey_base64(key.get(), nullptr, nullptr, nullptr, &text) != SSH_OK) {
    return Error::failure("cannot export an ed25519 private key");
  }
  KeyPair pair;
  pair.private_openssh = take_string(text);
  if (pair.private_openssh.empty() || pair.private_openssh.back() != '\n') {
    pair.private_openssh += '\n';
  }
  auto line = public_line_of_key(key.get(), comment);
  if (!line) {
    return line.error();
  }
  pair.public_line = std::move(*line);
  return pair;
}

Result<std::string> public_line_of(const std::string& private_openssh, const std::string& comment) {
  ssh_key raw = nullptr;
  if (ssh_pki_import_privkey_base64(private_openssh.c_str(), nullptr, nullptr, nullptr, &raw) !=
      SSH_OK) {
    return Error::failure("not a readable OpenSSH private key");
  }
  KeyPtr key(raw);
  return public_line_of_key(key.get(), comment);
}

std::string known_hosts_line(const std::string& host, const std::string& public_line, int port) {
  std::istringstream fields(public_line);
  std::string type;
  std::string blob;
  fields >> type >> blob;
  const std::string name = port == 22 ? host : "[" + host + "]:" + std::to_string(port);
  return name + " " + type + " " + blob;
}

}  // namespace labctl::sys

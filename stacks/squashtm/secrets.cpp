#include "stacks/squashtm/secrets.hpp"

#include <fstream>
#include <string_view>

namespace labctl::squashtm {

Result<std::string> generate_password(std::size_t length) {
  constexpr std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::ifstream random("/dev/urandom", std::ios::binary);
  if (!random) {
    return Error::failure("cannot open /dev/urandom");
  }
  std::string password;
  while (password.size() < length) {
    unsigned char byte = 0;
    if (!random.read(reinterpret_cast<char*>(&byte), 1)) {
      return Error::failure("cannot read /dev/urandom");
    }
    // Rejection sampling: 248 = 4 * 62 keeps every character equally likely.
    if (byte < 248) {
      password += alphabet[byte % alphabet.size()];
    }
  }
  return password;
}

}  // namespace labctl::squashtm

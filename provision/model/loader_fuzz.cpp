// libFuzzer target: any bytes given to parse_lab must give a Lab or a lab Error, never a
// crash, a hang or an escaping exception. Built with -DLABCTL_FUZZ=ON (cmake --preset fuzz).

#include <cstddef>
#include <cstdint>
#include <string>

#include "provision/model/loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto lab = labctl::model::parse_lab(text, "fuzz.yaml");
  if (!lab.ok() && lab.error().kind != labctl::ErrorKind::lab) {
    __builtin_trap();  // every failure of parse_lab must be a lab-file error
  }
  return 0;
}

#pragma once

// What apply is handed for the files it uploads, made small and real in a directory: for
// tests and benches that run apply on libvirt's test driver.

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <string>

#include "provision/apply/apply.hpp"

namespace labctl::testing {

// Small real files: what a materializer hands apply, minus the image build and seed ISO.
class FileMaterializer : public apply::Materializer {
 public:
  explicit FileMaterializer(std::filesystem::path dir) : m_dir(std::move(dir)) {}
  Result<std::string> base_file(plan::Role role) override {
    return write(plan::to_string(role) + ".img", std::size_t{64} * 1024);
  }
  Result<std::string> seed_file(const model::Vm& vm) override {
    return write(vm.seed_volume, 4096);
  }
  std::string serial_log(const model::Vm& vm) override {
    return (m_dir / (vm.name + ".log")).string();
  }
  std::string accelerator() override { return "qemu"; }

 private:
  Result<std::string> write(const std::string& name, std::size_t size) {
    const std::filesystem::path path = m_dir / name;
    std::ofstream out(path, std::ios::binary);
    out << std::string(size, '\0');
    if (!out) {
      return Error::failure("cannot write " + path.string());
    }
    return path.string();
  }
  std::filesystem::path m_dir;
};

}  // namespace labctl::testing

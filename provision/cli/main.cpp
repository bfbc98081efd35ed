#include "provision/cli/app.hpp"

int main(int argc, char** argv) {
  return labctl::cli::run(argc, argv);
}

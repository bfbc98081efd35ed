#include "provision/ready/stages.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>

#include <catch2/catch.hpp>

#include "tests/golden.hpp"

using namespace labctl;

TEST_CASE("host_answers tells a listening or refusing host from silence", "[unit]") {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 1) == 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  CHECK(ready::host_answers("127.0.0.1", port, std::chrono::milliseconds(500)));
  ::close(fd);
  // Nothing listens now: loopback refuses, which still means the host is up.
  CHECK(ready::host_answers("127.0.0.1", port, std::chrono::milliseconds(500)));
  CHECK_FALSE(ready::host_answers("not-an-ip", 22, std::chrono::milliseconds(100)));
}

TEST_CASE("tail_lines keeps the last non-empty lines of a serial log", "[unit]") {
  testing::ScratchDir dir("lct-tail");
  const auto path = dir.path() / "serial.log";
  std::ofstream(path) << "one\r\n\ntwo\nthree\nfour\n";
  CHECK(ready::tail_lines(path.string(), 2) == std::vector<std::string>{"three", "four"});
  CHECK(ready::tail_lines(path.string(), 10) ==
        std::vector<std::string>{"one", "two", "three", "four"});
  CHECK(ready::tail_lines((dir.path() / "missing").string(), 3).empty());
}

TEST_CASE("stages are named as the README and status print them", "[unit]") {
  CHECK(ready::to_string(ready::Stage::cloud_init) == "cloud-init done");
  CHECK(ready::to_string(ready::Stage::docker) == "docker up");
  CHECK(ready::to_string(ready::Stage::stack) == "stack healthy");
}

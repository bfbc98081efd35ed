#pragma once

// The console's HTTP side (cpp-httplib): the pages and their assets, the JSON the pages read,
// the Server-Sent Events they listen to, the actions they post, the hand-outs they download.
// Every route but the login page and the assets needs a session; every POST needs the
// session's CSRF value; a team's session sees only its team and changes nothing.

#include <memory>
#include <string>

#include "provision/result.hpp"
#include "provision/web/auth.hpp"
#include "provision/web/console.hpp"
#include "provision/web/events.hpp"

namespace httplib {
class Server;
}

namespace labctl::web {

struct Listen {
  std::string address = "127.0.0.1";
  int port = 8800;       // 0: any free port
  std::string tls_cert;  // both or neither: HTTPS
  std::string tls_key;
};

// "ADDR:PORT" ("127.0.0.1:8800", "0.0.0.0:8800", "[::1]:8800") into a Listen.
Result<Listen> parse_listen(const std::string& text);

// "http://127.0.0.1:8800", "https://[::1]:8443": where `listen` serves on `port`.
std::string base_url_of(const Listen& listen, int port);

class Server {
 public:
  Server(Console& console, Access& access, EventHub& hub);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds (the TLS files read now); the port bound.
  Result<int> bind(const Listen& listen);
  // Serves until stop(); call after bind, from the thread that is to block.
  void run();
  void stop();
  // "http://127.0.0.1:8800"
  std::string base_url() const { return m_base; }

 private:
  void routes();

  Console& m_console;
  Access& m_access;
  EventHub& m_hub;
  std::unique_ptr<httplib::Server> m_http;
  bool m_tls = false;
  std::string m_base;
};

}  // namespace labctl::web

#include "provision/web/server.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>
#include <httplib.h>

#include "provision/converge/handout_render.hpp"
#include "provision/converge/handout_write.hpp"
#include "provision/sys/state.hpp"
#include "provision/web/assets.hpp"

namespace labctl::web {

namespace {

// Scripts and styles only from the console itself: a string that slipped into the page as
// markup could still not run.
void secure_headers(httplib::Response& res) {
  res.set_header("Content-Security-Policy",
                 "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                 "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("X-Frame-Options", "DENY");
}

void send_asset(httplib::Response& res, const std::string& name, int status = 200) {
  const Asset* asset = find_asset(name);
  if (asset == nullptr) {
    res.status = 404;
    return;
  }
  res.status = status;
  res.set_content(std::string(asset->body), std::string(asset->content_type).c_str());
}

void send_json(httplib::Response& res, const nlohmann::json& doc, int status = 200) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  send_json(res, {{"error", message}}, status);
}

}  // namespace

Result<Listen> parse_listen(const std::string& text) {
  Listen out;
  std::string host;
  std::string port;
  if (text.starts_with("[")) {
    const auto close = text.find("]:");
    if (close == std::string::npos) {
      return Error::usage(fmt::format("--listen {}: use ADDR:PORT ([::1]:8800)", text));
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) {
      return Error::usage(fmt::format("--listen {}: use ADDR:PORT (0.0.0.0:8800)", text));
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host.empty() || port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) > 65535) {
    return Error::usage(fmt::format("--listen {}: use ADDR:PORT, PORT 0-65535", text));
  }
  out.address = host;
  out.port = std::stoi(port);
  return out;
}

std::string base_url_of(const Listen& listen, int port) {
  const bool v6 = listen.address.find(':') != std::string::npos;
  return fmt::format("{}://{}{}{}:{}", listen.tls_cert.empty() ? "http" : "https", v6 ? "[" : "",
                     listen.address, v6 ? "]" : "", port);
}

Server::Server(Console& console, Access& access, EventHub& hub)
    : m_console(console), m_access(access), m_hub(hub) {}

Server::~Server() {
  stop();
}

Result<int> Server::bind(const Listen& listen) {
  if (listen.tls_cert.empty() != listen.tls_key.empty()) {
    return Error::usage("--tls-cert and --tls-key go together");
  }
  m_tls = !listen.tls_cert.empty();
  if (m_tls) {
    auto tls =
        std::make_unique<httplib::SSLServer>(listen.tls_cert.c_str(), listen.tls_key.c_str());
    if (!tls->is_valid()) {
      return Error::usage(
          fmt::format("--tls-cert {} / --tls-key {}: not a usable certificate and key",
                      listen.tls_cert, listen.tls_key));
    }
    m_http = std::move(tls);
  } else {
    m_http = std::make_unique<httplib::Server>();
  }
  // Each page holds one events stream: room for a classroom's worth of open pages.
  m_http->new_task_queue = [] { return new httplib::ThreadPool(64); };
  m_http->set_payload_max_length(64 * 1024);
  routes();
  int port = listen.port;
  if (port == 0) {
    port = m_http->bind_to_any_port(listen.address);
  } else if (!m_http->bind_to_port(listen.address, port)) {
    port = -1;
  }
  if (port < 0) {
    return Error::failure(fmt::format("cannot listen on {}:{}: {}", listen.address, listen.port,
                                      std::strerror(errno)));
  }
  m_base = base_url_of(listen, port);
  return port;
}

void Server::run() {
  if (m_http) {
    m_http->listen_after_bind();
  }
}

void Server::stop() {
  m_hub.close();
  if (m_http) {
    m_http->stop();
  }
}

void Server::routes() {
  httplib::Server& http = *m_http;
  const bool tls = m_tls;

  http.set_post_routing_handler(
      [](const httplib::Request&, httplib::Response& res) { secure_headers(res); });

  http.Get("/", [this](const httplib::Request& req, httplib::Response& res) {
    const Viewer viewer = m_access.viewer(req.get_header_value("Cookie"));
    send_asset(res, viewer.role == Role::none ? "login.html" : "index.html");
    res.set_header("Cache-Control", "no-store");
  });
  http.Get(R"(/assets/([a-z0-9_.-]+))", [](const httplib::Request& req, httplib::Response& res) {
    const std::string name = req.matches[1];
    if (name.ends_with(".html")) {
      res.status = 404;
      return;
    }
    send_asset(res, name);
  });
  // The token once, from the printed URL or the login form; a session cookie from then on.
  const auto login = [this, tls](const httplib::Request& req, httplib::Response& res) {
    const std::string token = req.get_param_value("token");
    auto session = m_access.login(token);
    if (!session) {
      send_asset(res, "login.html", token.empty() ? 200 : 403);
      return;
    }
    res.set_header("Set-Cookie", session_cookie(*session, tls));
    res.set_redirect("/", 303);
  };
  http.Get("/login", login);
  http.Post("/login", login);

  http.Get("/api/session", [this](const httplib::Request& req, httplib::Response& res) {
    const Viewer viewer = m_access.viewer(req.get_header_value("Cookie"));
    if (viewer.role == Role::none) {
      send_error(res, 401, "log in with the console's URL");
      return;
    }
    send_json(res, {{"role", viewer.role == Role::team ? "team" : "instructor"},
                    {"team", viewer.team},
                    {"csrf", viewer.csrf},
                    {"classroom", m_console.lab().classroom}});
  });
  http.Get("/api/classroom", [this](const httplib::Request& req, httplib::Response& res) {
    const Viewer viewer = m_access.viewer(req.get_header_value("Cookie"));
    if (viewer.role == Role::none) {
      send_error(res, 401, "log in with the console's URL");
      return;
    }
    nlohmann::json doc = m_console.classroom(viewer);
    if (viewer.role == Role::instructor) {
      for (auto& team : doc["teams"]) {
        team["view"] = "/login?token=" + m_access.team_token(team.value("name", ""));
      }
    }
    send_json(res, doc);
  });
  http.Get("/api/events", [this](const httplib::Request& req, httplib::Response& res) {
    const Viewer viewer = m_access.viewer(req.get_header_value("Cookie"));
    if (viewer.role == Role::none) {
      send_error(res, 401, "log in with the console's URL");
      return;
    }
    std::uint64_t from = m_hub.last();
    if (req.has_header("Last-Event-ID")) {
      try {
        from = std::stoull(req.get_header_value("Last-Event-ID"));
      } catch (const std::exception&) {
      }
    }
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Accel-Buffering", "no");
    res.set_chunked_content_provider(
        "text/event-stream", [this, viewer, from](std::size_t, httplib::DataSink& sink) mutable {
          if (m_hub.closed()) {
            return false;
          }
          const auto messages = m_hub.after(from, std::chrono::seconds(15));
          if (messages.empty()) {
            const std::string ping = ": ping\n\n";
            return !m_hub.closed() && sink.write(ping.data(), ping.size());
          }
          for (const Message& message : messages) {
            from = message.id;
            // A team's page hears only that the classroom changed (it then reads its own
            // view); the progress and actions are the instructor's.
            if (viewer.role == Role::team && message.event != "classroom") {
              continue;
            }
            const std::string frame = sse_frame(message);
            if (!sink.write(frame.data(), frame.size())) {
              return false;
            }
          }
          return true;
        });
  });
  http.Post("/api/actions", [this](const httplib::Request& req, httplib::Response& res) {
    const Viewer viewer = m_access.viewer(req.get_header_value("Cookie"));
    if (viewer.role == Role::none) {
      send_error(res, 401, "log in with the console's URL");
      return;
    }
    if (!same_secret(req.get_header_value(k_csrf_header), viewer.csrf)) {
      send_error(res, 403, "refused: the request does not carry this session's CSRF value");
      return;
    }
    if (viewer.role != Role::instructor) {
      send_error(res, 403, "a team's view changes nothing");
      return;
    }
    auto body = nlohmann::json::parse(req.body, nullptr, false);
    if (!body.is_object()) {
      send_error(res, 400, "the body is not a JSON object");
      return;
    }
    const auto field = [&](const char* key) {
      return body.contains(key) && body[key].is_string() ? body[key].get<std::string>()
                                                         : std::string();
    };
    ActionRequest request{field("kind"), field("team"), field("vm"), field("name"),
                          field("version")};
    if (!field("db").empty()) {
      request.db = field("db");
    }
    auto id = m_console.run(request);
    if (!id) {
      send_error(res, 400, id.error().message);
      return;
    }
    send_json(res, {{"id", *id}}, 202);
  });
  http.Post("/logout", [this, tls](const httplib::Request& req, httplib::Response& res) {
    const Viewer viewer = m_access.viewer(req.get_header_value("Cookie"));
    if (viewer.role == Role::none ||
        !same_secret(req.get_header_value(k_csrf_header), viewer.csrf)) {
      send_error(res, 403, "refused");
      return;
    }
    m_access.logout(req.get_header_value("Cookie"));
    res.set_header("Set-Cookie", session_cookie("", tls) + "; Max-Age=0");
    send_json(res, {{"logged_out", true}});
  });
  // A team's sheet (md or html), or its bundle: the sheet with the team's key, ssh_config and
  // known_hosts, as `labctl handout --out DIR --archive` writes it.
  http.Get(R"(/api/handout/([A-Za-z0-9_-]+)(/bundle)?)", [this](const httplib::Request& req,
                                                                httplib::Response& res) {
    const Viewer viewer = m_access.viewer(req.get_header_value("Cookie"));
    if (viewer.role != Role::instructor) {
      send_error(res, viewer.role == Role::none ? 401 : 403, "the instructor's only");
      return;
    }
    const std::string team = req.matches[1];
    const bool bundle = req.matches[2].length() > 0;
    const model::Lab& lab = m_console.lab();
    const model::Team* found = lab.find_team(team);
    if (found == nullptr) {
      send_error(res, 404, "no team " + team);
      return;
    }
    auto prepared = converge::prepare_handout(lab, plan::Scope{{team}, false}, false, bundle);
    if (!prepared) {
      send_error(res, 500, prepared.error().message);
      return;
    }
    const bool html = req.get_param_value("format") == "html";
    const auto format = html ? converge::HandoutFormat::html : converge::HandoutFormat::markdown;
    const std::string top = lab.classroom + "-" + team;
    if (!bundle) {
      res.set_header("Content-Disposition",
                     fmt::format("attachment; filename=\"{}{}\"", top, html ? ".html" : ".md"));
      res.set_content(converge::render_handout(prepared->handout, format),
                      html ? "text/html; charset=utf-8" : "text/markdown; charset=utf-8");
      return;
    }
    char dir_template[] = "/tmp/labctl-handout-XXXXXX";
    const char* dir = ::mkdtemp(dir_template);
    if (dir == nullptr) {
      send_error(res, 500, "no temporary directory");
      return;
    }
    auto written = converge::write_team_handouts(lab, *prepared, format, dir, true);
    auto bytes =
        written ? sys::read_text_file(written->front().path) : Result<std::string>(written.error());
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    if (!bytes) {
      send_error(res, 500, bytes.error().message);
      return;
    }
    res.set_header("Content-Disposition", fmt::format("attachment; filename=\"{}.tar.gz\"", top));
    res.set_header("Cache-Control", "no-store");
    res.set_content(*bytes, "application/gzip");
  });
}

}  // namespace labctl::web

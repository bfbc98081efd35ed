// `labctl serve`: the instructor's web console (provision/web/) on 127.0.0.1:8800, or where
// --listen says (another address needs TLS, or --insecure-http said out loud). The login URL,
// with the token, is printed when the token is made (the first start) and by --print-url.

#include <chrono>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "provision/cli/common.hpp"
#include "provision/web/server.hpp"

namespace labctl::cli {

namespace {

struct ServeArgs {
  std::string listen = "127.0.0.1:8800";
  std::string tls_cert, tls_key;
  bool insecure_http = false;
  bool print_url = false;
  int refresh = 5;
};

bool loopback(const std::string& address) {
  return address == "127.0.0.1" || address == "::1" || address == "localhost" ||
         address.starts_with("127.");
}

Status run_serve(const GlobalOptions& global, const ServeArgs& args) {
  auto lab = load(global);
  if (!lab) {
    return lab.error();
  }
  auto listen = web::parse_listen(args.listen);
  if (!listen) {
    return listen.error();
  }
  if (args.tls_cert.empty() != args.tls_key.empty()) {
    return Error::usage("--tls-cert and --tls-key go together");
  }
  for (const std::string& file : {args.tls_cert, args.tls_key}) {
    std::error_code ec;
    if (!file.empty() && !std::filesystem::is_regular_file(file, ec)) {
      return Error::usage(fmt::format("{}: no such file (--tls-cert, --tls-key)", file));
    }
  }
  listen->tls_cert = args.tls_cert;
  listen->tls_key = args.tls_key;
  if (!loopback(listen->address) && listen->tls_cert.empty() && !args.insecure_http) {
    return Error::usage(fmt::format(
        "--listen {}: a console reachable from the network needs --tls-cert and --tls-key "
        "(or --insecure-http, to send the token in clear)",
        args.listen));
  }
  if (args.refresh < 1) {
    return Error::usage("--refresh: at least 1 second");
  }
  auto state = sys::StateDir::open(lab->classroom);
  if (!state) {
    return state.error();
  }
  std::vector<std::string> teams;
  for (const model::Team& team : lab->teams) {
    teams.push_back(team.name);
  }
  auto access = web::Access::open(*state, teams);
  if (!access) {
    return access.error();
  }
  if (args.print_url) {
    const std::string url =
        web::base_url_of(*listen, listen->port) + "/login?token=" + access->instructor_token();
    if (global.json) {
      global.output->document = {{"login_url", url}};
    } else {
      fmt::print("{}\n", url);
    }
    return {};
  }
  web::EventHub hub;
  web::ConsoleOptions options;
  options.hosts = hosts_of(global);
  options.refresh = std::chrono::seconds(args.refresh);
  web::Console console(*lab, options, hub);
  web::Server server(console, *access, hub);
  auto port = server.bind(*listen);
  if (!port) {
    return port.error();
  }
  const std::string login = server.base_url() + "/login?token=" + access->instructor_token();
  if (global.json) {
    // stdout holds the one document, at the end; the start is an event line on stderr.
    global.output->document = {{"url", server.base_url() + "/"}};
    notice(global, "note",
           access->made_now() ? "serving: open " + login : "serving on " + server.base_url() + "/");
  } else if (access->made_now()) {
    fmt::print("labctl serve: open {}\n", login);
  } else {
    fmt::print(
        "labctl serve: {}/ (labctl serve --print-url prints the login URL again; the "
        "token is in {})\n",
        server.base_url(), (state->dir() / "secrets" / "console-token").string());
  }
  std::fflush(stdout);
  install_stop_handlers();
  console.start();
  std::thread serving([&] { server.run(); });
  while (!stop_flag()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  server.stop();
  serving.join();
  console.stop();
  return {};
}

}  // namespace

void add_serve(Registry r) {
  auto* sub = r.app.add_subcommand(
      "serve", "The instructor's web console: the classroom live, instances, resets, up and down");
  auto args = std::make_shared<ServeArgs>();
  sub->add_option("--listen", args->listen, "ADDR:PORT (default 127.0.0.1:8800; port 0: any)");
  sub->add_option("--tls-cert", args->tls_cert, "PEM certificate for HTTPS");
  sub->add_option("--tls-key", args->tls_key, "PEM private key for HTTPS");
  sub->add_flag("--insecure-http", args->insecure_http,
                "Plain HTTP on an address other than loopback (the token travels in clear)");
  sub->add_flag("--print-url", args->print_url, "Print the login URL (with the token) and exit");
  sub->add_option("--refresh", args->refresh, "Seconds between two probes of the classroom");
  sub->callback([r, args] { r.command = [r, args] { return run_serve(r.global, *args); }; });
}

}  // namespace labctl::cli

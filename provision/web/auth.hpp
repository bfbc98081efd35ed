#pragma once

// Who may use the console. The instructor's token is made at the console's first start and
// kept 0600 in the classroom's state directory (secrets/console-token); each team has its own
// (secrets/console-team-<team>) that opens only that team's read-only view. A token is given
// once, in the login URL; the browser then holds a session cookie (HttpOnly,
// SameSite=Strict), and every request that changes something carries the session's CSRF value
// in a header that only the console's own page can read and send.

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "provision/result.hpp"
#include "provision/sys/state.hpp"

namespace labctl::web {

enum class Role { none, instructor, team };

struct Viewer {
  Role role = Role::none;
  std::string team;  // Role::team: the one team it sees
  std::string csrf;  // the session's CSRF value
};

constexpr const char* k_session_cookie = "labctl_session";
constexpr const char* k_csrf_header = "X-CSRF-Token";

class Access {
 public:
  // The tokens from the state directory, made now (0600) where missing.
  static Result<Access> open(const sys::StateDir& state, const std::vector<std::string>& teams);

  const std::string& instructor_token() const { return m_instructor; }
  // "" for a team the lab does not have.
  std::string team_token(const std::string& team) const;
  // The instructor's token was made by this start (its login URL is printed then).
  bool made_now() const { return m_made_now; }

  // A token (the instructor's or a team's) for a new session: its id, or nullopt.
  std::optional<std::string> login(const std::string& token);
  // The session the request's Cookie header names; Role::none when none.
  Viewer viewer(const std::string& cookie_header) const;
  void logout(const std::string& cookie_header);

 private:
  Access() = default;
  std::string m_instructor;
  std::map<std::string, std::string> m_teams;  // team -> token
  bool m_made_now = false;
  struct Sessions {
    std::mutex mutex;
    std::map<std::string, Viewer> by_id;
  };
  std::shared_ptr<Sessions> m_sessions = std::make_shared<Sessions>();
};

// Equal, in a time that does not depend on where they differ.
bool same_secret(const std::string& a, const std::string& b);
// The value of cookie `name` in a Cookie header ("a=1; labctl_session=x"), "" when absent.
std::string cookie_value(const std::string& header, const std::string& name);
// Set-Cookie for a session: HttpOnly, SameSite=Strict, Path=/, Secure over TLS.
std::string session_cookie(const std::string& id, bool secure);

}  // namespace labctl::web

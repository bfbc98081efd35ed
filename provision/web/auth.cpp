#include "provision/web/auth.hpp"

#include <fmt/format.h>

#include "provision/sys/random.hpp"

namespace labctl::web {

namespace {

// A token as a secret: read back when present, else made now.
Result<std::string> token_in(const sys::StateDir& state, const std::string& name, bool& made) {
  if (auto kept = state.read_secret(name); kept && !kept->empty()) {
    return *kept;
  }
  const std::string token = sys::random_hex128() + sys::random_hex128();
  if (auto st = state.write_secret(name, token); !st) {
    return st.error();
  }
  made = true;
  return token;
}

}  // namespace

Result<Access> Access::open(const sys::StateDir& state, const std::vector<std::string>& teams) {
  Access access;
  auto instructor = token_in(state, "console-token", access.m_made_now);
  if (!instructor) {
    return instructor.error();
  }
  access.m_instructor = *instructor;
  for (const std::string& team : teams) {
    bool made = false;
    auto token = token_in(state, "console-team-" + team, made);
    if (!token) {
      return token.error();
    }
    access.m_teams[team] = *token;
  }
  return access;
}

std::string Access::team_token(const std::string& team) const {
  const auto found = m_teams.find(team);
  return found == m_teams.end() ? "" : found->second;
}

std::optional<std::string> Access::login(const std::string& token) {
  Viewer viewer;
  if (!token.empty() && same_secret(token, m_instructor)) {
    viewer.role = Role::instructor;
  }
  for (const auto& [team, team_token] : m_teams) {
    if (viewer.role == Role::none && !token.empty() && same_secret(token, team_token)) {
      viewer.role = Role::team;
      viewer.team = team;
    }
  }
  if (viewer.role == Role::none) {
    return std::nullopt;
  }
  viewer.csrf = sys::random_hex128();
  const std::string id = sys::random_hex128() + sys::random_hex128();
  std::lock_guard lock(m_sessions->mutex);
  m_sessions->by_id[id] = viewer;
  return id;
}

Viewer Access::viewer(const std::string& cookie_header) const {
  const std::string id = cookie_value(cookie_header, k_session_cookie);
  if (id.empty()) {
    return {};
  }
  std::lock_guard lock(m_sessions->mutex);
  const auto found = m_sessions->by_id.find(id);
  return found == m_sessions->by_id.end() ? Viewer{} : found->second;
}

void Access::logout(const std::string& cookie_header) {
  const std::string id = cookie_value(cookie_header, k_session_cookie);
  std::lock_guard lock(m_sessions->mutex);
  m_sessions->by_id.erase(id);
}

bool same_secret(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::string& longer = a.size() >= b.size() ? a : b;
  for (std::size_t i = 0; i < longer.size(); ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

std::string cookie_value(const std::string& header, const std::string& name) {
  std::size_t pos = 0;
  while (pos < header.size()) {
    std::size_t end = header.find(';', pos);
    if (end == std::string::npos) {
      end = header.size();
    }
    std::string pair = header.substr(pos, end - pos);
    const std::size_t first = pair.find_first_not_of(' ');
    pair = first == std::string::npos ? "" : pair.substr(first);
    if (pair.size() > name.size() && pair.compare(0, name.size(), name) == 0 &&
        pair[name.size()] == '=') {
      return pair.substr(name.size() + 1);
    }
    pos = end + 1;
  }
  return "";
}

std::string session_cookie(const std::string& id, bool secure) {
  return fmt::format("{}={}; Path=/; HttpOnly; SameSite=Strict{}", k_session_cookie, id,
                     secure ? "; Secure" : "");
}

}  // namespace labctl::web

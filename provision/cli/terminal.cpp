#include "provision/cli/terminal.hpp"

#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace labctl::cli {

namespace {

std::atomic<bool> g_resized{false};
extern "C" void on_resize_signal(int) {
  g_resized.store(true);
}

// No SA_RESTART: a resize interrupts the wait for a key, so the frame is redrawn at once.
void handle_resize(bool on) {
  struct sigaction action {};
  action.sa_handler = on ? on_resize_signal : SIG_DFL;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGWINCH, &action, nullptr);
}

void write_all(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

const char* colour_of(Tone tone) {
  switch (tone) {
    case Tone::heading:
      return "\x1b[1m";
    case Tone::alert:
      return "\x1b[31m";
    case Tone::plain:
      break;
  }
  return "";
}

}  // namespace

bool Terminal::usable() {
  const char* term = std::getenv("TERM");
  return ::isatty(STDIN_FILENO) != 0 && ::isatty(STDOUT_FILENO) != 0 && term != nullptr &&
         *term != '\0' && std::string(term) != "dumb";
}

Result<std::unique_ptr<Terminal>> Terminal::open() {
  termios saved{};
  if (::tcgetattr(STDIN_FILENO, &saved) != 0) {
    return Error::failure("cannot read the terminal's settings");
  }
  termios raw = saved;
  raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
  raw.c_cc[VMIN] = 1;
  raw.c_cc[VTIME] = 0;
  if (::tcsetattr(STDIN_FILENO, TCSANOW, &raw) != 0) {
    return Error::failure("cannot set the terminal's mode");
  }
  handle_resize(true);
  write_all("\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J");  // alternate screen, cursor hidden
  return std::unique_ptr<Terminal>(new Terminal(saved));
}

Terminal::Terminal(const termios& saved)
    : m_saved(saved), m_colour(std::getenv("NO_COLOR") == nullptr) {}

Terminal::~Terminal() {
  restore();
}

void Terminal::restore() {
  if (!m_active) {
    return;
  }
  m_active = false;
  write_all("\x1b[0m\x1b[?25h\x1b[?1049l");  // cursor shown, main screen back
  ::tcsetattr(STDIN_FILENO, TCSANOW, &m_saved);
  handle_resize(false);
}

std::pair<int, int> Terminal::size() const {
  winsize ws{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0 || ws.ws_row == 0) {
    return {80, 24};
  }
  return {ws.ws_col, ws.ws_row};
}

bool Terminal::resized() {
  return g_resized.exchange(false);
}

int Terminal::read_key(std::chrono::milliseconds timeout) {
  pollfd in{STDIN_FILENO, POLLIN, 0};
  if (::poll(&in, 1, static_cast<int>(timeout.count())) != 1) {
    return -1;
  }
  unsigned char key = 0;
  return ::read(STDIN_FILENO, &key, 1) == 1 ? key : -1;
}

// Home, then each line cleared to its end; no newline after the last line, which would
// scroll a frame as tall as the screen; then everything below cleared.
void Terminal::draw(const std::vector<FrameLine>& lines) {
  std::string out = "\x1b[H";
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const char* colour = m_colour ? colour_of(lines[i].tone) : "";
    out += colour + lines[i].text + (*colour != '\0' ? "\x1b[0m" : "") + "\x1b[K";
    out += i + 1 < lines.size() ? "\r\n" : "";
  }
  write_all(out + "\x1b[J");
}

}  // namespace labctl::cli

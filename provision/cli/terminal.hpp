#pragma once

// The terminal of a full-screen view (`status --watch`): the alternate screen with the
// cursor hidden, keys read one at a time without echo (Ctrl-C still raises SIGINT), the size
// from TIOCGWINSZ and a flag set by SIGWINCH. restore(), also run by the destructor, puts
// everything back as it was.

#include <termios.h>

#include <chrono>
#include <memory>
#include <vector>

#include "provision/cli/watch_frame.hpp"
#include "provision/result.hpp"

namespace labctl::cli {

class Terminal {
 public:
  // stdin and stdout are terminals and TERM is set and not "dumb".
  static bool usable();
  static Result<std::unique_ptr<Terminal>> open();

  ~Terminal();
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;

  // Columns and lines; 80x24 when the terminal does not say.
  std::pair<int, int> size() const;
  // True once after each SIGWINCH.
  bool resized();
  // The next key, waiting up to `timeout`; -1 when none came (or a signal interrupted).
  int read_key(std::chrono::milliseconds timeout);
  // Replaces the screen with these lines (already fitted to size()).
  void draw(const std::vector<FrameLine>& lines);
  void restore();

 private:
  explicit Terminal(const termios& saved);
  termios m_saved;
  bool m_active = true;
  bool m_colour;
};

}  // namespace labctl::cli

#pragma once

// How the converge layer tells its caller a warning or a note ("warning", "registry",
// "standin", ...) while it goes on: the CLI prints it on stderr (an event line under --json),
// a web console would show it. The layer itself prints nothing.

#include <functional>
#include <string>

namespace labctl::converge {

using Notify = std::function<void(const std::string& level, const std::string& text)>;

}  // namespace labctl::converge

#pragma once

// One frame of `labctl status --watch`: the classroom's VMs as probed (host, stage, address,
// instance health) and the terminal's size -> lines of text that fit it. Pure: nothing here
// reads the terminal or prints. Lines are ASCII only, so that a byte is a column.
//
// Layouts, the first that fits the height:
//   1. one line per VM, not-ready VMs marked "!";
//   2. per team, one line for its ready VMs, then a line per VM that is not ready;
//   3. one line per team (ready count, the others grouped by stage), teams with VMs not
//      ready first; the teams left out are counted on a last line.

#include <string>
#include <vector>

namespace labctl::cli {

struct WatchInstance {
  std::string name;
  bool healthy = false;
};

struct WatchRow {
  std::string team;
  std::string vm;       // the VM's key, "vm2"
  std::string host;     // the host's URI
  std::string stage;    // "stack healthy", "ssh", ... or "absent", "off", "unreachable"
  std::string address;  // "10.118.0.11"
  bool ready = false;   // stack healthy and every instance answers
  std::vector<WatchInstance> instances;
  std::string detail;  // why it is not further, when known
};

struct WatchModel {
  std::string classroom;
  std::string updated;         // time of the last probe, "12:03:04"; "" while the first one runs
  int interval = 2;            // seconds between probes
  std::vector<WatchRow> rows;  // in lab order, a team's VMs together
};

enum class Tone { plain, heading, alert };

struct FrameLine {
  std::string text;
  Tone tone = Tone::plain;
};

// At most `height` lines of at most `width` columns; the first line is the title with the
// ready count.
std::vector<FrameLine> render_frame(const WatchModel& model, int width, int height);

// The part of a host URI worth a column: "host" for qemu+ssh://root@host/system, the file
// name for test:///tmp/x/h1.xml, the URI itself when short (qemu:///system).
std::string short_host(const std::string& uri);

}  // namespace labctl::cli

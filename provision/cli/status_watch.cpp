#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <stop_token>
#include <thread>

#include "provision/cli/status.hpp"
#include "provision/cli/terminal.hpp"
#include "provision/cli/watch_frame.hpp"

namespace labctl::cli {

namespace {

std::string clock_now() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  ::localtime_r(&now, &local);
  char text[16] = {};
  std::strftime(text, sizeof text, "%H:%M:%S", &local);
  return text;
}

// A VM that is not running says so rather than the stage it had reached.
WatchRow watch_row(const StatusRow& row) {
  const bool running = row.state == "running";
  WatchRow out{row.vm->team,
               row.vm->key,
               row.host,
               running ? ready::to_string(row.readiness.reached) : row.state,
               ready::vm_address(*row.vm),
               running && row.readiness.reached == ready::Stage::stack,
               {},
               row.readiness.message};
  for (const auto& [instance, healthy] : row.instances) {
    out.instances.push_back({instance.name, healthy});
    out.ready = out.ready && healthy;
  }
  return out;
}

// `updated` "": not probed yet.
WatchModel watch_model(const StatusContext& context, const std::vector<StatusRow>& rows,
                       const WatchOptions& options, const std::string& updated) {
  WatchModel model{context.lab.classroom, updated, options.interval, {}};
  std::transform(rows.begin(), rows.end(), std::back_inserter(model.rows), watch_row);
  return model;
}

// The latest probe, from the probing thread to the drawing loop.
struct Latest {
  std::mutex mutex;
  std::condition_variable_any wake;
  WatchModel model;
  int probes = 0;
  Status failed;  // a probe that could not be made ends the watch
};

void probe_loop(const std::stop_token& stop, const GlobalOptions& global,
                const StatusContext& context, const WatchOptions& options, Latest& latest) {
  while (!stop.stop_requested()) {
    auto rows = probe_status(global, context);
    std::unique_lock lock(latest.mutex);
    if (!rows) {
      latest.failed = rows.error();
      return;
    }
    latest.model = watch_model(context, *rows, options, clock_now());
    ++latest.probes;
    if (options.count > 0 && latest.probes >= options.count) {
      return;
    }
    latest.wake.wait_for(lock, stop, std::chrono::seconds(options.interval), [] { return false; });
  }
}

// Draws each new probe and each new size until q, Ctrl-C or --count probes.
void draw_loop(Terminal& terminal, const WatchOptions& options, Latest& latest) {
  WatchModel model;
  int drawn = -1;
  while (!stop_flag()) {
    bool dirty = terminal.resized();
    {
      const std::lock_guard lock(latest.mutex);
      if (!latest.failed) {
        return;
      }
      if (latest.probes != drawn) {
        model = latest.model;
        drawn = latest.probes;
        dirty = true;
      }
    }
    if (dirty) {
      const auto [width, height] = terminal.size();
      terminal.draw(render_frame(model, width, height));
    }
    if (options.count > 0 && drawn >= options.count) {
      return;
    }
    const int key = terminal.read_key(std::chrono::milliseconds(200));
    if (key == 'q' || key == 'Q') {
      return;
    }
  }
}

Status watch_terminal(const GlobalOptions& global, const StatusContext& context,
                      const WatchOptions& options) {
  auto terminal = Terminal::open();
  if (!terminal) {
    return terminal.error();
  }
  auto rows = status_rows(global, context);
  if (!rows) {
    return rows.error();
  }
  Latest latest;
  latest.model = watch_model(context, *rows, options, "");
  std::jthread prober(
      [&](const std::stop_token& stop) { probe_loop(stop, global, context, options, latest); });
  draw_loop(**terminal, options, latest);
  (*terminal)->restore();  // at once: the probe in flight may take a few seconds to finish
  prober.request_stop();
  prober.join();
  return latest.failed;
}

// One `status --json` document per line and probe.
Status stream_json(const GlobalOptions& global, const StatusContext& context,
                   const WatchOptions& options) {
  global.output->streamed = true;
  for (int probes = 1; !stop_flag(); ++probes) {
    auto rows = probe_status(global, context);
    if (!rows) {
      return rows.error();
    }
    const std::string line = converge::status_json(*rows).dump() + "\n";
    if (std::fputs(line.c_str(), stdout) < 0 || std::fflush(stdout) != 0) {
      return {};  // the reader went away
    }
    if (options.count > 0 && probes >= options.count) {
      return {};
    }
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(options.interval);
    while (!stop_flag() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  return {};
}

}  // namespace

Status run_watch(const GlobalOptions& global, const WatchOptions& options) {
  auto context = open_status(global, options.team);
  if (!context) {
    return context.error();
  }
  install_stop_handlers();
  if (global.json) {
    return stream_json(global, *context, options);
  }
  if (!Terminal::usable()) {
    return Error::usage(
        "status --watch draws on a terminal (stdin and stdout); add --json for one JSON "
        "document per line and probe, or run `labctl status` once");
  }
  return watch_terminal(global, *context, options);
}

}  // namespace labctl::cli

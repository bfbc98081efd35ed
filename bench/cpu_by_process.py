#!/usr/bin/env python3
"""Host CPU seconds spent by each command name while it runs (bench diagnostics).

    bench/cpu_by_process.py OUT.json &  ...  kill -TERM $!

Samples /proc/*/stat every 0.5 s and keeps each process's last user + system time; on SIGTERM
it writes {command name: CPU seconds} of the processes that ran (and started or worked) during
the window, minus what each had used when first seen. A process that ends between two samples
loses at most half a second of its time."""
import json
import os
import signal
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")
first, last, names = {}, {}, {}


def sample(base_of_new):
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                text = f.read()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text[text.rindex(")") + 2:].split()
        cpu = (int(fields[11]) + int(fields[12])) / TICK
        key = (pid, fields[19])  # pid and start time: a reused pid is another process
        first.setdefault(key, cpu if base_of_new is None else base_of_new)
        last[key] = cpu
        names[key] = name


def finish(*_):
    sample(0.0)
    totals = {}
    for key, cpu in last.items():
        used = cpu - first[key]
        if used > 0:
            totals[names[key]] = round(totals.get(names[key], 0) + used, 2)
    with open(sys.argv[1], "w") as f:
        json.dump(dict(sorted(totals.items(), key=lambda kv: -kv[1])), f)
    sys.exit(0)


signal.signal(signal.SIGTERM, finish)
sample(None)  # processes present at the start count from there
while True:
    time.sleep(0.5)
    sample(0.0)  # new ones from zero

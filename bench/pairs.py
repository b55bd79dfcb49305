#!/usr/bin/env python3
"""Runs commands alternately and prints, per command: the median wall time (with min and max),
the ratio to the first command's median, the CPU time (user + system: on a loaded machine,
the steadier figure), the peak memory (largest max-RSS over the runs) and
the number of HTTP requests it made. Used by bench/run; no dependency beyond Python 3.

    pairs.py SPEC.json

SPEC: {"title": str, "runs": int, "warmup": int, "commands": [{
          "name": str, "argv": [str] ("{alt}" in one: 2 and 3 in turn, run after run), "stdin": path or null, "ok": [exit codes],
          "verbose_argv": [str] or null (the same command, logging one line per request),
          "request_pattern": regex matched against each stderr line of verbose_argv}]}

Each round runs every command once, in an order rotated by one each round, so that no command
always runs right after the same neighbour. Times are measured around the child process only
(fork to exit, via wait4), and its peak RSS comes from the same wait4.
"""

import json
import os
import re
import statistics
import subprocess
import sys
import time


RUN_COUNT = [0]


def run_once(cmd):
    # `{alt}` in an argument alternates between 2 and 3 from one run (of any command) to the
    # next, so that every `scale` run really changes the count.
    alt = "23"[RUN_COUNT[0] % 2]
    RUN_COUNT[0] += 1
    argv = [a.replace("{alt}", alt) for a in cmd["argv"]]
    stdin = open(cmd["stdin"], "rb") if cmd.get("stdin") else subprocess.DEVNULL
    try:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # Read stderr while waiting, so a chatty child never blocks on a full pipe.
        err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if cmd.get("stdin"):
            stdin.close()
    if proc.returncode not in cmd.get("ok", [0]):
        sys.stderr.write(f"{cmd['name']}: exit {proc.returncode} (expected {cmd.get('ok', [0])}): {' '.join(argv)}\n")
        sys.stderr.write(err.decode(errors="replace")[-2000:] + "\n")
        sys.exit(1)
    return elapsed, usage.ru_maxrss, usage.ru_utime + usage.ru_stime  # seconds, KiB, seconds


def count_requests(cmd):
    argv = cmd.get("verbose_argv")
    if not argv:
        return None
    stdin = open(cmd["stdin"], "rb") if cmd.get("stdin") else subprocess.DEVNULL
    try:
        out = subprocess.run(argv, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    finally:
        if cmd.get("stdin"):
            stdin.close()
    pattern = re.compile(cmd["request_pattern"])
    return sum(1 for line in out.stderr.decode(errors="replace").splitlines() if pattern.search(line))


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    cmds = spec["commands"]
    runs, warmup = spec.get("runs", 10), spec.get("warmup", 1)
    times = {c["name"]: [] for c in cmds}
    cpu = {c["name"]: [] for c in cmds}
    rss = {c["name"]: 0 for c in cmds}
    for _ in range(warmup):
        for c in cmds:
            run_once(c)
    for r in range(runs):
        order = cmds[r % len(cmds):] + cmds[: r % len(cmds)]
        for c in order:
            t, m, u = run_once(c)
            times[c["name"]].append(t)
            cpu[c["name"]].append(u)
            rss[c["name"]] = max(rss[c["name"]], m)
    requests = {c["name"]: count_requests(c) for c in cmds}
    base = statistics.median(times[cmds[0]["name"]])
    load = os.getloadavg()
    print(f"## {spec['title']}")
    print(f"{runs} runs each, alternating; load average before: {spec.get('load', '?')}, after: {load[0]:.2f}")
    print()
    print("| command | median | min | max | ratio to the first | CPU (user+sys), median | peak RSS | requests |")
    print("|---|---|---|---|---|---|---|---|")
    for c in cmds:
        ts = times[c["name"]]
        med = statistics.median(ts)
        req = requests[c["name"]]
        print(
            f"| `{c['name']}` | {med * 1000:.1f} ms | {min(ts) * 1000:.1f} ms | {max(ts) * 1000:.1f} ms "
            f"| {med / base:.2f}x | {statistics.median(cpu[c['name']]) * 1000:.1f} ms "
            f"| {rss[c['name']] / 1024:.0f} MB | {'-' if req is None else req} |"
        )
    print()
    sys.stdout.flush()
    if spec.get("json_out"):
        with open(spec["json_out"], "w") as f:
            json.dump({c["name"]: {"times": times[c["name"]], "cpu": cpu[c["name"]], "rss_kib": rss[c["name"]], "requests": requests[c["name"]]} for c in cmds}, f)


if __name__ == "__main__":
    main()

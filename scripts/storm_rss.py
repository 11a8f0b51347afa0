#!/usr/bin/python3
"""Server memory around connection storms (docs/reliability.md, issue 16).

Starts a server (faults-server or any micro server taking --server_address), then prints its
RSS and anonymous memory: idle, after CYCLES connect/close cycles, with 1,000 idle connections
and after they close, twice. Usage:
    ulimit -n 4096; scripts/storm_rss.py build/default/tests/faults/faults-server [--cycles N]
"""
import argparse
import re
import socket
import subprocess
import time


def memory(pid):
    out = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            key, value = line.split(":", 1)
            if key in ("Rss", "Anonymous"):
                out[key] = int(value.split()[0])
    return f"RSS {out['Rss'] / 1024:.1f} MB, anonymous {out['Anonymous'] / 1024:.2f} MB"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("server")
    parser.add_argument("--cycles", type=int, default=10000)
    parser.add_argument("--connections", type=int, default=1000)
    args = parser.parse_args()
    proc = subprocess.Popen(
        [args.server, "--registry", "memory", "--server_name", "storm.rss",
         "--server_address", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        port = None
        deadline = time.time() + 10
        while port is None and time.time() < deadline:
            found = re.search(r"[Ll]istening on .*:(\d+)", proc.stdout.readline())
            if found:
                port = int(found.group(1))
        if port is None:
            raise SystemExit("the server did not say where it listens")
        time.sleep(0.5)
        print("idle:", memory(proc.pid))
        for _ in range(args.cycles):
            socket.create_connection(("127.0.0.1", port)).close()
        time.sleep(1.0)
        print(f"after {args.cycles} connect/close cycles:", memory(proc.pid))
        for surge in (1, 2):
            held = [socket.create_connection(("127.0.0.1", port))
                    for _ in range(args.connections)]
            time.sleep(0.3)
            print(f"surge {surge}, {args.connections} idle connections:", memory(proc.pid))
            for s in held:
                s.close()
            time.sleep(1.5)
            print(f"after surge {surge}:", memory(proc.pid))
    finally:
        proc.kill()
        proc.wait()


if __name__ == "__main__":
    main()

#!/bin/sh
# Runs a command in a fresh private network namespace with only loopback, multicast routed to
# lo, so mDNS traffic can never leave the machine (there is no eth0 inside).
#   tests/registry/in_netns.sh <command> [args...]
# Exits 77 (CTest: skipped) when namespaces cannot be created (not root).
if ! unshare -n true 2>/dev/null; then
  echo "in_netns.sh: cannot create a network namespace (needs root); skipping" >&2
  exit 77
fi
# IPv6 (ff02::fb) goes through lo too when the kernel has IPv6; without it the tests that need
# it skip themselves.
exec unshare -n sh -c 'ip link set lo up && ip link set lo multicast on &&
  ip route add 224.0.0.0/4 dev lo src 127.0.0.1 &&
  { ip -6 route add ff02::/16 dev lo 2>/dev/null || true; } && exec "$@"' sh "$@"

// The long-running commands (api, web, sidecar) serve until SIGINT/SIGTERM.
#pragma once

#include <pthread.h>

#include <csignal>

namespace micro::cli::detail {

// Blocks SIGINT/SIGTERM in this thread and every thread started after it, so WaitForStop
// receives them (the I/O threads Env::Connect starts inherit the mask). Call it first.
inline sigset_t BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

inline void WaitForStop(const sigset_t& set) {
  int sig = 0;
  sigwait(&set, &sig);
}

}  // namespace micro::cli::detail

// Process metrics from Linux /proc: memory, threads, file descriptors, CPU, start time.
#include <dirent.h>
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "micro/metrics.h"

namespace micro::metrics {
namespace {

uint64_t CountOpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return 0;
  uint64_t n = 0;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(dir);
  return n > 0 ? n - 1 : 0;  // the directory's own descriptor
}

double BootTimeSeconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  while (in >> key) {
    if (key == "btime") {
      double t = 0;
      in >> t;
      return t;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

}  // namespace

ProcessStats ReadProcessStats() {
  ProcessStats s;
  const long page = sysconf(_SC_PAGESIZE);
  const long ticks = sysconf(_SC_CLK_TCK);
  {
    std::ifstream in("/proc/self/stat");
    std::string line;
    std::getline(in, line);
    // Fields after the command name (which may hold spaces) in ')'.
    const auto close = line.rfind(')');
    if (close != std::string::npos) {
      std::istringstream rest(line.substr(close + 2));
      std::string field;
      std::vector<std::string> f;
      while (rest >> field) f.push_back(field);
      // f[0] is field 3 (state): utime 14, stime 15, num_threads 20, starttime 22, vsize 23,
      // rss 24.
      auto at = [&](size_t field_no) -> double {
        const size_t i = field_no - 3;
        return i < f.size() ? std::stod(f[i]) : 0;
      };
      if (f.size() >= 22) {
        s.cpu_seconds = (at(14) + at(15)) / static_cast<double>(ticks);
        s.threads = static_cast<uint64_t>(at(20));
        s.start_time_seconds = BootTimeSeconds() + at(22) / static_cast<double>(ticks);
        s.virtual_bytes = static_cast<uint64_t>(at(23));
        s.rss_bytes = static_cast<uint64_t>(at(24)) * static_cast<uint64_t>(page);
      }
    }
  }
  s.open_fds = CountOpenFds();
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0) s.max_fds = lim.rlim_cur;
  const struct mallinfo2 mi = mallinfo2();
  s.heap_bytes = mi.uordblks + mi.hblkhd;
  return s;
}

void RenderProcessMetrics(std::string& out) {
  const ProcessStats s = ReadProcessStats();
  auto gauge = [&](const char* name, const char* help, const char* type, const std::string& v) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
           name + " " + v + "\n";
  };
  char cpu[64];
  std::snprintf(cpu, sizeof cpu, "%.2f", s.cpu_seconds);
  char start[64];
  std::snprintf(start, sizeof start, "%.2f", s.start_time_seconds);
  gauge("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", "counter",
        cpu);
  gauge("process_resident_memory_bytes", "Resident memory size in bytes.", "gauge",
        std::to_string(s.rss_bytes));
  gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge",
        std::to_string(s.virtual_bytes));
  gauge("process_heap_bytes", "Heap memory in use (malloc) in bytes.", "gauge",
        std::to_string(s.heap_bytes));
  gauge("process_open_fds", "Number of open file descriptors.", "gauge",
        std::to_string(s.open_fds));
  gauge("process_max_fds", "Maximum number of open file descriptors.", "gauge",
        std::to_string(s.max_fds));
  gauge("process_threads", "Number of OS threads in the process.", "gauge",
        std::to_string(s.threads));
  gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
        "gauge", start);
}

}  // namespace micro::metrics

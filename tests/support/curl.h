// Curl: Debian's curl as the HTTP peer of a test (a real client, not ours), and RunProgram,
// which runs a child to completion with a deadline. Header-only, for test binaries.
//
//   auto r = micro::testing::Curl({"-H", "Content-Type: application/json", "-d", "{}", url});
//   EXPECT_EQ(r.status, 200);
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "micro/metadata.h"

namespace micro::testing {

inline std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs a shell command and returns what it printed on stdout.
inline std::string RunCommand(const std::string& cmd) {
  std::string out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[4096];
    std::size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    pclose(p);
  }
  return out;
}

struct CurlResult {
  int status = 0;
  Metadata header;
  std::string body;
};

// curl -s -i --max-time 10 with args; the status, headers and body of the last response.
inline CurlResult Curl(const std::vector<std::string>& args) {
  std::string cmd = "curl -s -i --max-time 10";
  for (const auto& a : args) cmd += " " + ShellQuote(a);
  const std::string out = RunCommand(cmd);
  CurlResult r;
  std::size_t at = 0;
  for (;;) {  // skip interim 1xx blocks
    auto end = out.find("\r\n\r\n", at);
    if (end == std::string::npos) return r;
    std::string head = out.substr(at, end - at);
    at = end + 4;
    if (head.rfind("HTTP/1.1 1", 0) == 0) continue;
    r.status = std::atoi(head.substr(9, 3).c_str());
    std::size_t line = head.find("\r\n");
    while (line != std::string::npos) {
      std::size_t next = head.find("\r\n", line + 2);
      std::string h =
          head.substr(line + 2, next == std::string::npos ? std::string::npos : next - line - 2);
      if (auto colon = h.find(':'); colon != std::string::npos) {
        r.header.Set(h.substr(0, colon), h.substr(colon + 2));
      }
      line = next;
    }
    break;
  }
  r.body = out.substr(at);
  return r;
}

struct ProgramResult {
  int code = -1;       // exit code; 128+signal when killed (e.g. at the deadline)
  std::string output;  // stdout and stderr together
};

// Runs argv (argv[0] a path) to completion, killing it (SIGKILL, by its PID) at the deadline.
inline ProgramResult RunProgram(std::vector<std::string> argv, std::chrono::seconds deadline) {
  char tmpl[] = "/tmp/micro-test-run-XXXXXX";
  const int fd = ::mkstemp(tmpl);
  std::vector<char*> raw;
  for (auto& a : argv) raw.push_back(a.data());
  raw.push_back(nullptr);
  ProgramResult r;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execv(raw[0], raw.data());
    ::_exit(127);
  }
  int status = 0;
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > until) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::ifstream in(tmpl);
  std::stringstream ss;
  ss << in.rdbuf();
  r.output = ss.str();
  ::close(fd);
  ::unlink(tmpl);
  return r;
}

}  // namespace micro::testing

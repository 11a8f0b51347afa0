// micro: call, inspect and create go-micro services (docs/toolkit.md). The commands live in
// micro::cli (include/micro/cli.h); a new subcommand is one program.Add(...) block here.
#include <micro/cli.h>

int main(int argc, char** argv) {
  micro::cli::Program program;  // services, list, describe, get, call, stream, publish, new
  return program.Run(argc, argv);
}

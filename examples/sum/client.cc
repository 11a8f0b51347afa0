// Adds two numbers through the sum service: sum_client [flags] A B
#include <micro/micro.h>

#include <cstdio>
#include <cstdlib>

#include "sum.micro.h"

int main(int argc, char** argv) {
  micro::Service service({.name = "sum.client"});
  if (auto s = service.Init(argc, argv); !s) return service.Fail(s);
  std::vector<long long> numbers;
  for (int i = 1; i < argc; ++i) {
    if (argv[i][0] != '-') numbers.push_back(std::atoll(argv[i]));
  }
  while (numbers.size() < 2) numbers.push_back(numbers.empty() ? 1 : 2);

  sum::AdderService adder("sum", service.Client());
  sum::AddRequest req;
  req.set_a(numbers[0]);
  req.set_b(numbers[1]);
  auto rsp = adder.Add(req);
  if (!rsp) {
    std::fprintf(stderr, "Adder.Add failed: %s\n", rsp.error().ToJson().c_str());
    return 1;
  }
  std::printf("%lld + %lld = %lld\n", numbers[0], numbers[1], static_cast<long long>(rsp->sum()));
  return 0;
}

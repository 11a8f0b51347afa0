// Uses a little of every installed header; exits 0 when the results are right.
#include <micro/micro.h>

#include <cstdio>

int main() {
  micro::Error e = micro::errors::NotFound("consumer", "no {}", "thing");
  micro::Metadata md{{"Micro-Id", "1"}};
  auto codec = micro::codec::Lookup("application/json");
  const bool ok =
      e.ToJson() == R"({"id":"consumer","code":404,"detail":"no thing","status":"Not Found"})" &&
      md.GetOr("micro-id") == "1" && codec.ok() && (*codec)->Name() == "json";
  std::printf("consumer: %s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}

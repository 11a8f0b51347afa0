// Structured logging: fields on log lines (text and JSON), and the ring buffer.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "micro/context.h"
#include "micro/logger.h"

namespace micro::log {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(StructuredLogTest, CallFieldsInTextAndJson) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  Logger().sinks().push_back(sink);
  Context ctx;
  ctx.metadata().Set("Micro-Service", "greeter");
  ctx.metadata().Set("Micro-Endpoint", "Greeter.Hello");
  ctx.metadata().Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  SetFormat(Format::kJson);
  For(ctx).Info("hello {}", "json \"quoted\"");
  SetFormat(Format::kText);
  For(ctx).Warn("hello text");
  {
    ScopedFields outer(Fields{{"request", "r1"}});
    ScopedFields inner(Fields{{"user", "ann marie"}});
    Info("scoped");
  }
  Info("plain");
  Logger().sinks().pop_back();

  const auto lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 4u) << out.str();
  auto j = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(j["msg"], "hello json \"quoted\"");
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["service"], "greeter");
  EXPECT_EQ(j["endpoint"], "Greeter.Hello");
  EXPECT_EQ(j["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_NE(j["time"].get<std::string>().find('T'), std::string::npos);
  EXPECT_NE(lines[1].find("[warning] hello text"), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find(" service=greeter endpoint=Greeter.Hello "
                          "trace_id=4bf92f3577b34da6a3ce929d0e0e4736"),
            std::string::npos)
      << lines[1];
  EXPECT_NE(lines[2].find("scoped"), std::string::npos);
  EXPECT_NE(lines[2].find(" request=r1 user=\"ann marie\""), std::string::npos) << lines[2];
  EXPECT_EQ(lines[3].find("request="), std::string::npos) << lines[3];  // the scope ended
  EXPECT_TRUE(ParseFormat("JSON"));
  EXPECT_FALSE(ParseFormat("xml"));
}

TEST(StructuredLogTest, RingKeepsTheLastLinesWithFields) {
  RingBuffer ring(3);
  for (int i = 1; i <= 5; ++i) ring.Add({.timestamp = i, .message = std::to_string(i)});
  auto all = ring.Read();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].message, "3");
  EXPECT_EQ(all[2].seq, 5u);
  EXPECT_EQ(ring.Read(0, 1)[0].message, "5");
  EXPECT_EQ(ring.Read(4).size(), 1u);
  EXPECT_EQ(ring.Read(0, 0, 5).size(), 1u);
  EXPECT_FALSE(ring.WaitNewer(5, std::chrono::milliseconds(1)));
  EXPECT_TRUE(ring.WaitNewer(4, std::chrono::milliseconds(1)));

  With({{"order", "42"}}).Error("ring line");
  auto last = Ring().Read(0, 1);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0].message, "ring line");
  EXPECT_EQ(last[0].metadata.at("level"), "error");
  EXPECT_EQ(last[0].metadata.at("order"), "42");
}

}  // namespace
}  // namespace micro::log

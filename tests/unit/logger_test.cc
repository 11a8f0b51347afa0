#include "micro/logger.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

namespace micro::log {
namespace {

TEST(LoggerTest, ParsesGoMicroLevels) {
  EXPECT_EQ(ParseLevel("trace"), Level::kTrace);
  EXPECT_EQ(ParseLevel("DEBUG"), Level::kDebug);
  EXPECT_EQ(ParseLevel("info"), Level::kInfo);
  EXPECT_EQ(ParseLevel("warn"), Level::kWarn);
  EXPECT_EQ(ParseLevel("error"), Level::kError);
  EXPECT_EQ(ParseLevel("fatal"), Level::kFatal);
  EXPECT_EQ(ParseLevel("loud"), std::nullopt);
}

TEST(LoggerTest, LevelFiltersOutput) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  Logger().sinks().push_back(sink);
  const Level before = GetLevel();
  SetLevel(Level::kWarn);
  Info("hidden {}", 1);
  Warn("shown {}", 2);
  SetLevel(before);
  Logger().sinks().pop_back();
  EXPECT_EQ(out.str().find("hidden"), std::string::npos);
  EXPECT_NE(out.str().find("shown 2"), std::string::npos);
}

}  // namespace
}  // namespace micro::log

namespace micro::log {
namespace {

// Run by CTest a second time with MICRO_LOG_LEVEL=error (see tests/CMakeLists.txt).
TEST(LoggerEnvTest, LevelComesFromEnvironment) {
  const char* env = std::getenv("MICRO_LOG_LEVEL");
  if (!env) GTEST_SKIP() << "MICRO_LOG_LEVEL not set";
  EXPECT_EQ(GetLevel(), ParseLevel(env).value());
}

}  // namespace
}  // namespace micro::log

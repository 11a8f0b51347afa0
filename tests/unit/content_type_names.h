// gtest parameter names for content types: "application/grpc+json" -> "application_grpc_json".
#pragma once

#include <gtest/gtest.h>

#include <cctype>
#include <string>

namespace micro::testing_util {

inline std::string ContentTypeTestName(const ::testing::TestParamInfo<std::string>& param) {
  std::string name = param.param;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

}  // namespace micro::testing_util

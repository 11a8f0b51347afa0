// micro::Error::Parse must accept anything and round-trip what it produces.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "micro/errors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const micro::Error e = micro::Error::Parse(text);
  const micro::Error again = micro::Error::Parse(e.ToJson());
  // ToJson replaces invalid UTF-8, so compare only when the fields are valid text.
  if (again.code != e.code) std::abort();
  return 0;
}

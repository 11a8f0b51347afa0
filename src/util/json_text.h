// Small JSON text helpers: writing strings exactly as Go's encoding/json does (for bytes that
// go-micro peers compare or hash), and locating raw values without re-serialising them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace micro::util {

// Appends s as a JSON string literal the way Go's json.Marshal does: HTML-safe escapes for
// < > & (\u003c ...), \u2028 and \u2029 escaped, \b \f \n \r \t short forms, other control
// characters as \u00xx, and invalid UTF-8 replaced by \ufffd.
void AppendGoJsonString(std::string& out, std::string_view s);

// Appends the two-character JSON escape of c (\" \\ \b \f \n \r \t) and returns true, or returns
// false (nothing appended) for a character without one. Shared by the JSON writers that differ
// in what else they escape (Go's, protobuf's).
bool AppendShortJsonEscape(std::string& out, char c);

// Nesting depth of the JSON text (brackets outside strings); stops counting past limit.
// Used to refuse inputs deep enough to exhaust a recursive parser's stack.
int JsonNestingDepth(std::string_view text, int limit);

// The raw text of the value of `key` in the top-level JSON object `text` (the last one when
// the key repeats, as Go decodes), or nullopt. `text` must already be known to be valid JSON.
std::optional<std::string_view> FindTopLevelValue(std::string_view text, std::string_view key);

// text without leading and trailing JSON whitespace.
std::string_view TrimJsonSpace(std::string_view text);

}  // namespace micro::util

// Small helpers that client, server and broker all use, so none of them depends on another
// for them (they live in the core `micro` library).
//
// Threading: both functions are thread-safe. Errors: none; they cannot fail.
#pragma once

#include <micro/context.h>

#include <string>

namespace micro {

// A new random (version 4) UUID in canonical text form, e.g.
// "0f8fad5b-d9cb-469f-a165-70867728950e" (go-micro's uuid.New().String()).
std::string NewUuid();

// go-micro's backoff: attempt^e × 100 ms (0, 100 ms, ~658 ms, ~1.98 s, ...), at most 2 minutes
// (from attempt 14 on). The client's default between retries, also used by the server's
// registration retries.
Duration DefaultBackoff(int attempt);

}  // namespace micro

// Error constructors and checks shared by the built-in brokers.
#pragma once

#include <string_view>

#include "micro/broker.h"

namespace micro::broker {

Error NotConnected();                        // 503 "not connected"
Error InvalidTopic(std::string_view topic);  // 400
// Ok for a non-empty topic without control characters.
Status CheckTopic(std::string_view topic);

}  // namespace micro::broker

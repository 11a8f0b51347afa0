// go-micro's transport/broker Message as JSON: {"Header":{"k":"v"},"Body":"<base64>"}.
// (Private to the plugin until the core's broker::ToJson / MessageFromJson are on main.)
#pragma once

#include <micro/status.h>
#include <micro/transport.h>

#include <string>
#include <string_view>

namespace micro::nats_detail {

std::string EncodeMessage(const Message& message);
// Keys case-insensitive, null Header/Body accepted, as Go decodes. 400 on bad input.
Result<Message> DecodeMessage(std::string_view json, std::string_view error_id);

}  // namespace micro::nats_detail

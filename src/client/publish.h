// Client::Publish: encodes one event and hands it to the broker (go-micro §7.5).
#pragma once

#include "micro/client.h"

namespace micro::client_detail {

Status Publish(const ClientOptions& options, Context& ctx, std::string_view topic,
               codec::WriteBody body, const MessageOptions& opts);

}  // namespace micro::client_detail

#include "transport/runtime.h"

#include "micro/transport.h"

namespace micro::transport_detail {

Error IoError(std::string_view what, const std::error_code& ec) {
  return errors::InternalServerError(std::string(kTransportErrorId), "{}: {}", what, ec.message());
}

Error TimeoutError(std::string_view which) {
  return errors::Timeout(std::string(kTransportErrorId), "{} timeout", which);
}

Error EofError() { return errors::InternalServerError(std::string(kTransportErrorId), "EOF"); }

Error ClosedError() {
  return errors::InternalServerError(std::string(kTransportErrorId), "socket closed");
}

}  // namespace micro::transport_detail

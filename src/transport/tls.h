// TLS for the transports: asio::ssl contexts built from TlsOptions, and go-micro's in-memory
// self-signed certificate (ECDSA P-256, org "Micro", one year, CA, SANs = hosts).
#pragma once

#include <asio/ssl/context.hpp>
#include <memory>
#include <string>
#include <vector>

#include "micro/status.h"
#include "micro/transport.h"

namespace micro::transport_detail {

struct PemPair {
  std::string cert_pem;
  std::string key_pem;
};

// A self-signed certificate whose SANs are hosts (IP literals become IP SANs, the rest DNS).
Result<PemPair> GenerateSelfSigned(const std::vector<std::string>& hosts);

// Server context: our certificate (given or generated for hosts), peer verification when a
// CA is given.
Result<std::shared_ptr<asio::ssl::context>> MakeServerContext(
    const TlsOptions& tls, const std::vector<std::string>& hosts);
// Client context: verification per TlsOptions (or skip_verify), client certificate if given.
Result<std::shared_ptr<asio::ssl::context>> MakeClientContext(const TlsOptions& tls,
                                                              bool skip_verify);

}  // namespace micro::transport_detail

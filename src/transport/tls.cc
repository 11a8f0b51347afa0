#include "transport/tls.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <asio/ip/address.hpp>
#include <memory>

namespace micro::transport_detail {
namespace {

template <class T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

Error TlsError(std::string_view what) {
  std::string detail(what);
  if (unsigned long e = ERR_get_error(); e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    detail += ": ";
    detail += buf;
  }
  ERR_clear_error();
  return errors::InternalServerError(std::string(kTransportErrorId), std::move(detail));
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

bool AddExtension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return false;
  const int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok == 1;
}

// Applies one step of context setup, turning asio's error_code into an Error.
Status Check(const std::error_code& ec, std::string_view what) {
  if (!ec) return {};
  return errors::InternalServerError(std::string(kTransportErrorId), "{}: {}", what, ec.message());
}

Status UseCertificate(asio::ssl::context& ctx, const TlsOptions& tls) {
  std::error_code ec;
  if (!tls.cert_pem.empty()) {
    ctx.use_certificate_chain(asio::buffer(tls.cert_pem), ec);
    if (auto s = Check(ec, "TLS certificate"); !s.ok()) return s;
    ctx.use_private_key(asio::buffer(tls.key_pem), asio::ssl::context::pem, ec);
    return Check(ec, "TLS private key");
  }
  ctx.use_certificate_chain_file(tls.cert_file, ec);
  if (auto s = Check(ec, "TLS certificate file " + tls.cert_file); !s.ok()) return s;
  ctx.use_private_key_file(tls.key_file, asio::ssl::context::pem, ec);
  return Check(ec, "TLS key file " + tls.key_file);
}

bool HasCertificate(const TlsOptions& tls) {
  return !tls.cert_pem.empty() || !tls.cert_file.empty();
}
bool HasCa(const TlsOptions& tls) { return !tls.ca_pem.empty() || !tls.ca_file.empty(); }

Status UseCa(asio::ssl::context& ctx, const TlsOptions& tls) {
  std::error_code ec;
  if (!tls.ca_pem.empty()) {
    ctx.add_certificate_authority(asio::buffer(tls.ca_pem), ec);
    return Check(ec, "TLS CA certificate");
  }
  ctx.load_verify_file(tls.ca_file, ec);
  return Check(ec, "TLS CA file " + tls.ca_file);
}

std::shared_ptr<asio::ssl::context> NewContext() {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                   asio::ssl::context::no_tlsv1_1);  // TLS 1.2 at least, as go-micro
  return ctx;
}

}  // namespace

Result<PemPair> GenerateSelfSigned(const std::vector<std::string>& hosts) {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return TlsError("generating an ECDSA P-256 key");
  X509Ptr cert(X509_new());
  if (!cert) return TlsError("X509_new");
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof(serial)) != 1) return TlsError("RAND_bytes");
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 365L * 24 * 3600);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Micro"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), key.get());

  std::string san;
  for (const auto& h : hosts) {
    if (h.empty()) continue;
    std::error_code ec;
    (void)asio::ip::make_address(h, ec);
    if (!san.empty()) san += ",";
    san += (ec ? "DNS:" : "IP:") + h;
  }
  if (!AddExtension(cert.get(), NID_basic_constraints, "critical,CA:TRUE") ||
      !AddExtension(cert.get(), NID_key_usage,
                    "critical,digitalSignature,keyEncipherment,keyCertSign") ||
      !AddExtension(cert.get(), NID_ext_key_usage, "serverAuth,clientAuth") ||
      !AddExtension(cert.get(), NID_subject_key_identifier, "hash") ||
      (!san.empty() && !AddExtension(cert.get(), NID_subject_alt_name, san))) {
    return TlsError("adding certificate extensions");
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return TlsError("signing");

  BioPtr cbio(BIO_new(BIO_s_mem()));
  BioPtr kbio(BIO_new(BIO_s_mem()));
  if (!cbio || !kbio || PEM_write_bio_X509(cbio.get(), cert.get()) != 1 ||
      PEM_write_bio_PrivateKey(kbio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return TlsError("writing PEM");
  }
  return PemPair{BioText(cbio.get()), BioText(kbio.get())};
}

Result<std::shared_ptr<asio::ssl::context>> MakeServerContext(
    const TlsOptions& tls, const std::vector<std::string>& hosts) {
  auto ctx = NewContext();
  if (HasCertificate(tls)) {
    if (auto s = UseCertificate(*ctx, tls); !s.ok()) return s;
  } else {
    auto pair = GenerateSelfSigned(hosts);
    if (!pair) return std::move(pair).error();
    TlsOptions generated;
    generated.cert_pem = std::move(pair->cert_pem);
    generated.key_pem = std::move(pair->key_pem);
    if (auto s = UseCertificate(*ctx, generated); !s.ok()) return s;
  }
  if (HasCa(tls)) {
    if (auto s = UseCa(*ctx, tls); !s.ok()) return s;
    ctx->set_verify_mode(asio::ssl::verify_peer |
                         (tls.require_client_cert ? asio::ssl::verify_fail_if_no_peer_cert : 0));
  } else if (tls.require_client_cert) {
    return errors::BadRequest(std::string(kTransportErrorId),
                              "require_client_cert needs a CA (ca_file or ca_pem)");
  }
  return ctx;
}

Result<std::shared_ptr<asio::ssl::context>> MakeClientContext(const TlsOptions& tls,
                                                              bool skip_verify) {
  auto ctx = NewContext();
  if (HasCertificate(tls)) {
    if (auto s = UseCertificate(*ctx, tls); !s.ok()) return s;
  }
  if (skip_verify) {
    ctx->set_verify_mode(asio::ssl::verify_none);
  } else {
    if (HasCa(tls)) {
      if (auto s = UseCa(*ctx, tls); !s.ok()) return s;
    } else {
      std::error_code ec;
      ctx->set_default_verify_paths(ec);
      if (auto s = Check(ec, "TLS system CA store"); !s.ok()) return s;
    }
    ctx->set_verify_mode(asio::ssl::verify_peer);
  }
  // ALPN http/1.1, as go-micro's client offers.
  static const unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_CTX_set_alpn_protos(ctx->native_handle(), kAlpn, sizeof(kAlpn));
  return ctx;
}

}  // namespace micro::transport_detail

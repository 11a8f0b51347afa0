// TLS on the HTTP transport: generated certificates, CA verification, mutual TLS.
#include "transport/tls.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <thread>

#include "micro/transport.h"
#include "transport/test_util.h"

namespace micro {
namespace {

using transport_detail::GenerateSelfSigned;
using transport_detail::PemPair;

PemPair Cert(std::vector<std::string> hosts = {"127.0.0.1", "localhost"}) {
  auto p = GenerateSelfSigned(hosts);
  EXPECT_TRUE(p.ok());
  return p.ok() ? *p : PemPair{};
}

struct TlsServer {
  std::shared_ptr<Transport> transport;
  std::shared_ptr<Listener> listener;
  ~TlsServer() {
    if (listener) listener->Close();
  }
};

TlsServer Serve(TlsOptions tls) {
  TransportOptions o;
  o.secure = true;
  o.tls = std::move(tls);
  TlsServer s;
  auto t = NewHttpTransport(o);
  EXPECT_TRUE(t.ok());
  s.transport = *t;
  auto l = s.transport->Listen("127.0.0.1:0");
  EXPECT_TRUE(l.ok()) << l.error();
  if (!l.ok()) return s;
  s.listener = *l;
  s.listener->Start(testing::EchoHandler);
  return s;
}

// Dials with tls, sends one message and checks the echo. Returns the first failure.
Status RoundTrip(const std::string& addr, TlsOptions tls) {
  TransportOptions o;
  o.secure = true;
  o.tls = std::move(tls);
  auto t = NewHttpTransport(o);
  if (!t.ok()) return t.error();
  auto sock = (*t)->DialSync(addr);
  if (!sock.ok()) return sock.error();
  Message out{{{"Micro-Id", "1"}}, "secret"};
  if (auto st = (*sock)->SendSync(out); !st.ok()) return st;
  Message in;
  if (auto st = (*sock)->RecvSync(in); !st.ok()) return st;
  EXPECT_EQ(in.body, "secret");
  return {};
}

TEST(TlsTest, GeneratedCertificateIsEcdsaP256ForMicro) {
  auto pair = Cert({"127.0.0.1", "localhost"});
  ASSERT_NE(pair.key_pem.find("PRIVATE KEY"), std::string::npos);
  BIO* bio = BIO_new_mem_buf(pair.cert_pem.data(), static_cast<int>(pair.cert_pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ASSERT_NE(cert, nullptr);
  EVP_PKEY* key = X509_get0_pubkey(cert);
  EXPECT_EQ(EVP_PKEY_get_base_id(key), EVP_PKEY_EC);
  char group[64] = {};
  size_t len = 0;
  EVP_PKEY_get_group_name(key, group, sizeof(group), &len);
  EXPECT_STREQ(group, "prime256v1");
  char org[64] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_organizationName, org, sizeof(org));
  EXPECT_STREQ(org, "Micro");
  int days = 0;
  int secs = 0;
  ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(cert), X509_get0_notAfter(cert));
  EXPECT_EQ(days, 365);
  EXPECT_EQ(X509_check_ip_asc(cert, "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_host(cert, "localhost", 0, 0, nullptr), 1);
  EXPECT_NE(X509_check_ca(cert), 0);
  X509_free(cert);
}

TEST(TlsTest, RoundTripWithGeneratedCertificate) {
  auto server = Serve({});
  TlsOptions client;
  client.insecure_skip_verify = true;
  Status st = RoundTrip(server.listener->Addr(), client);
  EXPECT_TRUE(st.ok()) << st.error();
  // Verification on (v6's default) against the system store fails on a self-signed cert.
  EXPECT_FALSE(RoundTrip(server.listener->Addr(), {}).ok());
}

TEST(TlsTest, VerifiesTheServerAgainstTheGivenCa) {
  auto cert = Cert();
  TlsOptions server_tls;
  server_tls.cert_pem = cert.cert_pem;
  server_tls.key_pem = cert.key_pem;
  auto server = Serve(server_tls);

  TlsOptions good;
  good.ca_pem = cert.cert_pem;
  Status st = RoundTrip(server.listener->Addr(), good);
  EXPECT_TRUE(st.ok()) << st.error();

  TlsOptions wrong;
  wrong.ca_pem = Cert().cert_pem;  // another CA
  st = RoundTrip(server.listener->Addr(), wrong);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().detail.find("TLS handshake"), std::string::npos) << st.error();

  // Right CA, wrong name.
  auto other = Cert({"other.example"});
  TlsOptions named;
  named.cert_pem = other.cert_pem;
  named.key_pem = other.key_pem;
  auto server2 = Serve(named);
  TlsOptions trusts_other;
  trusts_other.ca_pem = other.cert_pem;
  EXPECT_FALSE(RoundTrip(server2.listener->Addr(), trusts_other).ok());

  // The server still serves after failed handshakes.
  st = RoundTrip(server.listener->Addr(), good);
  EXPECT_TRUE(st.ok());
}

TEST(TlsTest, MutualTls) {
  auto server_cert = Cert();
  auto client_cert = Cert({"client"});
  TlsOptions server_tls;
  server_tls.cert_pem = server_cert.cert_pem;
  server_tls.key_pem = server_cert.key_pem;
  server_tls.ca_pem = client_cert.cert_pem;
  server_tls.require_client_cert = true;
  auto server = Serve(server_tls);

  TlsOptions with_cert;
  with_cert.ca_pem = server_cert.cert_pem;
  with_cert.cert_pem = client_cert.cert_pem;
  with_cert.key_pem = client_cert.key_pem;
  Status st = RoundTrip(server.listener->Addr(), with_cert);
  EXPECT_TRUE(st.ok()) << st.error();

  TlsOptions without_cert;
  without_cert.ca_pem = server_cert.cert_pem;
  EXPECT_FALSE(RoundTrip(server.listener->Addr(), without_cert).ok());

  TlsOptions wrong_cert = with_cert;
  auto stranger = Cert({"stranger"});
  wrong_cert.cert_pem = stranger.cert_pem;
  wrong_cert.key_pem = stranger.key_pem;
  EXPECT_FALSE(RoundTrip(server.listener->Addr(), wrong_cert).ok());

  st = RoundTrip(server.listener->Addr(), with_cert);
  EXPECT_TRUE(st.ok());
}

TEST(TlsTest, PlainTextClientCannotTalkToTlsServer) {
  auto server = Serve({});
  auto t = NewHttpTransport();
  auto sock = (*t)->DialSync(server.listener->Addr());
  ASSERT_TRUE(sock.ok());
  ASSERT_TRUE((*sock)->SendSync({{{"A", "b"}}, "x"}).ok());
  Message in;
  EXPECT_FALSE((*sock)->RecvSync(in).ok());
  TlsOptions client;
  client.insecure_skip_verify = true;
  EXPECT_TRUE(RoundTrip(server.listener->Addr(), client).ok());
}

TEST(TlsTest, HandshakeTimeoutsOnBothSides) {
  using namespace std::chrono_literals;
  // Client: a peer that accepts TCP and never speaks TLS.
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  const uint16_t port = acceptor.local_endpoint().port();
  std::thread peer_thread([&] {
    asio::ip::tcp::socket s(io);
    acceptor.accept(s);
    testing::RawPeer peer(std::move(s));
    (void)peer.WaitClosed(3s);
  });
  TransportOptions o;
  o.secure = true;
  o.tls.insecure_skip_verify = true;
  auto t = NewHttpTransport(o);
  DialOptions d;
  d.timeout = 200ms;
  const auto start = std::chrono::steady_clock::now();
  auto sock = (*t)->DialSync("127.0.0.1:" + std::to_string(port), d);
  ASSERT_FALSE(sock.ok());
  EXPECT_EQ(sock.error().code, 408) << sock.error();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  peer_thread.join();

  // Server: a TCP client that never starts the handshake is dropped after the header timeout.
  TransportOptions so;
  so.secure = true;
  so.header_read_timeout = 300ms;
  auto st = NewHttpTransport(so);
  auto l = (*st)->Listen("127.0.0.1:0");
  ASSERT_TRUE(l.ok());
  (*l)->Start(testing::EchoHandler);
  auto raw = testing::RawPeer::Connect(testing::PortOf((*l)->Addr()));
  ASSERT_TRUE(raw);
  EXPECT_TRUE(raw->WaitClosed(3s));
  TlsOptions client;
  client.insecure_skip_verify = true;
  EXPECT_TRUE(RoundTrip((*l)->Addr(), client).ok());
  (*l)->Close();
}

TEST(TlsTest, BadConfigurationIsAnError) {
  TransportOptions o;
  o.secure = true;
  o.tls.cert_file = "/nonexistent/cert.pem";
  o.tls.key_file = "/nonexistent/key.pem";
  auto t = NewHttpTransport(o);
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE((*t)->Listen("127.0.0.1:0").ok());
  TransportOptions m;
  m.secure = true;
  m.tls.require_client_cert = true;
  auto t2 = NewHttpTransport(m);
  EXPECT_FALSE((*t2)->Listen("127.0.0.1:0").ok());
}

}  // namespace
}  // namespace micro

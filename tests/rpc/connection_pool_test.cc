// The client's connection pool: most recent first, bounded, and a caller's own strand preferred.
#include "client/connection_pool.h"

#include <gtest/gtest.h>

#include <asio/io_context.hpp>
#include <asio/strand.hpp>
#include <thread>

namespace micro {
namespace {

// A socket that only knows its executor and whether it was closed.
class PoolTestSocket final : public Socket {
 public:
  explicit PoolTestSocket(asio::any_io_executor ex) : ex_(std::move(ex)) {}
  asio::awaitable<Status> Send(const Message&) override { co_return Status{}; }
  asio::awaitable<Status> Recv(Message&) override { co_return Status{}; }
  void Close() override { closed = true; }
  std::string Local() const override { return "127.0.0.1:1"; }
  std::string Remote() const override { return "127.0.0.1:2"; }
  asio::any_io_executor executor() const override { return ex_; }
  bool closed = false;

 private:
  asio::any_io_executor ex_;
};

TEST(ConnectionPoolTest, PrefersAConnectionOnTheCallersStrand) {
  asio::io_context io;
  const asio::any_io_executor mine = asio::make_strand(io.get_executor());
  const asio::any_io_executor other = asio::make_strand(io.get_executor());
  client_detail::ConnectionPool pool(10, std::chrono::minutes(1));
  auto on_mine = std::make_shared<PoolTestSocket>(mine);
  auto on_other = std::make_shared<PoolTestSocket>(other);
  pool.Put("a:1", on_mine, Clock::now());
  pool.Put("a:1", on_other, Clock::now());  // the most recent: taken first without a preference

  EXPECT_EQ(pool.GetEntry("a:1", mine).sock, on_mine);
  // None left on my strand: any other connection rather than a new dial.
  EXPECT_EQ(pool.GetEntry("a:1", mine).sock, on_other);
  EXPECT_EQ(pool.GetEntry("a:1", mine).sock, nullptr);
}

TEST(ConnectionPoolTest, NoPreferenceTakesTheMostRecentAndDropsOldOnes) {
  asio::io_context io;
  const asio::any_io_executor ex = asio::make_strand(io.get_executor());
  client_detail::ConnectionPool pool(10, std::chrono::seconds(30));
  auto old = std::make_shared<PoolTestSocket>(ex);
  auto fresh = std::make_shared<PoolTestSocket>(ex);
  auto newest = std::make_shared<PoolTestSocket>(ex);
  pool.Put("a:1", old, Clock::now() - std::chrono::milliseconds(29700));
  pool.Put("a:1", fresh, Clock::now());
  pool.Put("a:1", newest, Clock::now());
  EXPECT_EQ(pool.GetEntry("a:1").sock, newest);
  EXPECT_EQ(pool.GetEntry("a:1", ex).sock, fresh);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));  // old is now past the pool's ttl
  EXPECT_EQ(pool.GetEntry("a:1", ex).sock, nullptr);
  EXPECT_TRUE(old->closed);
}

TEST(ConnectionPoolTest, AFullPoolClosesWhatItCannotKeep) {
  asio::io_context io;
  const asio::any_io_executor ex = io.get_executor();
  client_detail::ConnectionPool pool(1, std::chrono::minutes(1));
  auto kept = std::make_shared<PoolTestSocket>(ex);
  auto extra = std::make_shared<PoolTestSocket>(ex);
  pool.Put("a:1", kept, Clock::now());
  pool.Put("a:1", extra, Clock::now());
  EXPECT_TRUE(extra->closed);
  EXPECT_FALSE(kept->closed);
  EXPECT_EQ(pool.GetEntry("a:1", ex).sock, kept);
}

}  // namespace
}  // namespace micro

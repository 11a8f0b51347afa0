#include "micro/context.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace micro {
namespace {

using namespace std::chrono_literals;

TEST(ContextTest, BackgroundHasNoDeadlineAndIsNotDone) {
  Context ctx;
  EXPECT_FALSE(ctx.deadline().has_value());
  EXPECT_FALSE(ctx.remaining().has_value());
  EXPECT_FALSE(ctx.Done());
  EXPECT_TRUE(ctx.Err().ok());
}

TEST(ContextTest, DeadlinePassedIsDoneWithTimeoutError) {
  Context ctx = Context::WithDeadline(Clock::now() - 1ms);
  EXPECT_TRUE(ctx.Done());
  EXPECT_FALSE(ctx.cancelled());
  ASSERT_FALSE(ctx.Err().ok());
  EXPECT_EQ(ctx.Err().error().code, 408);
  EXPECT_EQ(ctx.Err().error().detail, "context deadline exceeded");
  EXPECT_EQ(*ctx.remaining(), Duration::zero());
}

TEST(ContextTest, CancelReachesCopiesChildrenAndCallbacks) {
  Context parent = Context::WithTimeout(1h);
  Context copy = parent;
  Context child = parent.Child();
  Context grandchild = child.ChildWithTimeout(1h);
  int called = 0;
  grandchild.OnCancel([&] { ++called; });
  const auto removed = grandchild.OnCancel([&] { called += 100; });
  grandchild.RemoveOnCancel(removed);
  copy.Cancel();
  copy.Cancel();  // idempotent
  EXPECT_TRUE(parent.cancelled());
  EXPECT_TRUE(child.cancelled());
  EXPECT_TRUE(grandchild.Done());
  EXPECT_EQ(called, 1);
  EXPECT_EQ(grandchild.Err().error().detail, "context canceled");
  // Registering on a cancelled context runs the callback at once.
  grandchild.OnCancel([&] { ++called; });
  EXPECT_EQ(called, 2);
}

TEST(ContextTest, ChildCancelDoesNotReachParent) {
  Context parent;
  Context child = parent.Child();
  child.Cancel();
  EXPECT_FALSE(parent.cancelled());
}

TEST(ContextTest, ChildDeadlineIsTheEarlier) {
  Context parent = Context::WithTimeout(1s);
  EXPECT_EQ(parent.Child(Clock::now() + 1h).deadline(), parent.deadline());
  auto soon = Clock::now() + 1ms;
  EXPECT_EQ(parent.Child(soon).deadline(), soon);
}

TEST(ContextTest, MetadataIsCopiedNotShared) {
  Context a;
  a.metadata().Set("Authorization", "x");
  Context b = a.Child();
  b.metadata().Set("Authorization", "y");
  EXPECT_EQ(a.metadata().GetOr("authorization"), "x");
  EXPECT_EQ(b.metadata().GetOr("authorization"), "y");
}

TEST(ContextTest, DroppedChildrenUnregisterFromParent) {
  Context parent;
  for (int i = 0; i < 1000; ++i) {
    Context child = parent.Child();
  }
  // Nothing to observe directly but memory: cancelling must not touch dead children.
  parent.Cancel();
  EXPECT_TRUE(parent.cancelled());
}

TEST(ContextTest, ConcurrentCancelRunsCallbacksOnce) {
  for (int round = 0; round < 50; ++round) {
    Context ctx;
    std::atomic<int> calls{0};
    for (int i = 0; i < 8; ++i) ctx.OnCancel([&] { calls++; });
    std::thread t1([&] { ctx.Cancel(); });
    std::thread t2([&] { ctx.Cancel(); });
    t1.join();
    t2.join();
    EXPECT_EQ(calls.load(), 8);
  }
}

}  // namespace
}  // namespace micro

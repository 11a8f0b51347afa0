#include "micro/plugin.h"

#include <gtest/gtest.h>

namespace micro::plugin {
namespace {

struct Thing {
  virtual ~Thing() = default;
  virtual std::string name() const = 0;
};
struct ThingOptions {
  std::string suffix;
};
struct Named : Thing {
  explicit Named(std::string n) : n_(std::move(n)) {}
  std::string name() const override { return n_; }
  std::string n_;
};

TEST(PluginRegistryTest, CreatesByNameAndListsKnownNamesOnMiss) {
  Registry<Thing, ThingOptions> things("thing");
  things.Register("b", [](const ThingOptions& o) -> Result<std::shared_ptr<Thing>> {
    return std::shared_ptr<Thing>(std::make_shared<Named>("b" + o.suffix));
  });
  things.Register("a", [](const ThingOptions&) -> Result<std::shared_ptr<Thing>> {
    return errors::InternalServerError("a", "cannot start");
  });
  auto b = things.Create("b", {.suffix = "!"});
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*b)->name(), "b!");
  EXPECT_EQ(things.Create("a", {}).error().detail, "cannot start");
  auto missing = things.Create("etcd", {});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, 404);
  EXPECT_EQ(missing.error().detail, "unknown thing \"etcd\" (known: a, b)");
  EXPECT_TRUE(things.Has("a"));
  EXPECT_EQ(things.Names(), (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace micro::plugin

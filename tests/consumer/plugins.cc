// An installed-package user that links micro::etcd and micro::consul and nothing else: the
// names must be in the registry table although no code refers to the plugins.
#include <micro/registry.h>

#include <cstdio>

int main() {
  for (const char* name : {"etcd", "consul"}) {
    if (!micro::Registries().Has(name)) {
      std::printf("registry %s is not known\n", name);
      return 1;
    }
  }
  std::printf("plugins: etcd, consul\n");
  return 0;
}

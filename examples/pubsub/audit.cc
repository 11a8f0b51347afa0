// The audit service of the pub/sub example: records every event other services publish on
// "audit.events". Instances share the queue "audit", so each event is recorded once, by one
// of them: start two and they split the load.
//   pubsub_audit [--server_id=a] [--registry=...] [--broker_address=...]
// On SIGINT/SIGTERM it prints how many events this instance recorded.
#include <micro/micro.h>

#include <atomic>
#include <iostream>

#include "events.pb.h"

int main(int argc, char** argv) {
  micro::Service service({.name = "audit", .version = "latest"});
  if (auto s = service.Init(argc, argv); !s) return service.Fail(s);
  const std::string instance =
      service.Options().id.empty() ? micro::DefaultServerId().substr(0, 8) : service.Options().id;

  std::atomic<int> recorded{0};
  auto record = [&](micro::Context& ctx, const events::Event& e) {
    ++recorded;
    std::cout << "audit " << instance << ": " << e.source() << " " << e.action() << " " << e.id()
              << " (topic " << ctx.metadata().GetOr("Micro-Topic") << ")" << std::endl;
    return micro::Status{};
  };
  if (auto s = micro::Subscribe<events::Event>(service.Server(), "audit.events", record,
                                               {.queue = "audit", .name = "Audit.Record"});
      !s) {
    return service.Fail(s);
  }
  const int status = service.Run();
  std::cout << "audit " << instance << ": recorded " << recorded << " events" << std::endl;
  return status;
}

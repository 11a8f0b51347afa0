// A service that publishes what it does on "audit.events" (the pub/sub example).
//   pubsub_publisher <source> <count> [--registry=...]
// Publishes <count> events named "<source>.event" and exits once they are delivered.
#include <micro/micro.h>

#include <chrono>
#include <iostream>
#include <string>

#include "events.pb.h"

int main(int argc, char** argv) {
  micro::Service service({.name = "publisher"});
  if (auto s = service.Init(argc, argv); !s) return service.Fail(s);
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]).starts_with("--")) continue;
    args.emplace_back(argv[i]);
  }
  const std::string source = args.size() > 0 ? args[0] : "users";
  const int count = args.size() > 1 ? std::stoi(args[1]) : 5;

  auto client = service.Client();
  for (int i = 1; i <= count; ++i) {
    events::Event event;
    event.set_id(source + "-" + std::to_string(i));
    event.set_source(source);
    event.set_action(source + ".event");
    event.set_timestamp(std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count());
    micro::Context ctx;
    if (auto s = micro::Publish(*client, ctx, "audit.events", event); !s) return service.Fail(s);
  }
  std::cout << source << ": published " << count << " events" << std::endl;
  // Disconnect delivers what is still queued (up to the broker's drain timeout).
  return service.Fail(service.Broker()->Disconnect());
}

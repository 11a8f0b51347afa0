// Decorators that count (and trace) what goes through a broker, a registry and its cache.
#include <optional>

#include "micro/observability.h"

namespace micro {
namespace {

void AddMessagingAttributes(trace::Span& span, const std::string& system, std::string_view topic,
                            const char* operation) {
  span.attributes.emplace_back("messaging.system", system);
  span.attributes.emplace_back("messaging.destination.name", std::string(topic));
  span.attributes.emplace_back("messaging.operation", operation);
}

class ObservedBroker final : public Broker {
 public:
  ObservedBroker(std::shared_ptr<Broker> inner, std::shared_ptr<Observer> observer)
      : inner_(std::move(inner)), observer_(std::move(observer)) {}

  Status Connect() override { return inner_->Connect(); }
  Status Disconnect() override { return inner_->Disconnect(); }
  std::string Address() const override { return inner_->Address(); }
  const BrokerOptions& Options() const override { return inner_->Options(); }
  std::string String() const override { return inner_->String(); }

  Status Publish(std::string_view topic, const Message& message,
                 const broker::PublishOptions& options) override {
    std::optional<trace::Span> span;
    trace::Tracer* tracer = observer_->Tracer();
    if (tracer) span = tracer->Start(trace::SpanKind::kProducer, trace::Extract(message.header));
    Status s;
    if (span) {
      span->name = "Pub to " + std::string(topic);
      AddMessagingAttributes(*span, inner_->String(), topic, "publish");
      Message traced = message;  // only sampled messages are copied
      trace::Inject(*span, traced.header);
      s = inner_->Publish(topic, traced, options);
      span->SetStatus(s);
      tracer->End(std::move(*span));
    } else {
      s = inner_->Publish(topic, message, options);
    }
    observer_->RecordBroker(true, topic, s);
    return s;
  }

  Result<std::unique_ptr<broker::Subscriber>> Subscribe(
      std::string_view topic, broker::Handler handler,
      const broker::SubscribeOptions& options) override {
    auto wrapped = [observer = observer_, system = inner_->String(),
                    handler = std::move(handler)](const broker::Event& event) -> Status {
      std::optional<trace::Span> span;
      trace::Tracer* tracer = observer->Tracer();
      if (tracer) {
        span = tracer->Start(trace::SpanKind::kConsumer, trace::Extract(event.message.header));
      }
      Status s;
      if (span) {
        span->name = "Sub from " + event.topic;
        AddMessagingAttributes(*span, system, event.topic, "process");
        broker::Event traced = event;  // the subscriber's context continues this span
        trace::Inject(*span, traced.message.header);
        s = handler(traced);
        span->SetStatus(s);
        tracer->End(std::move(*span));
      } else {
        s = handler(event);
      }
      observer->RecordBroker(false, event.topic, s);
      return s;
    };
    return inner_->Subscribe(topic, std::move(wrapped), options);
  }

 private:
  std::shared_ptr<Broker> inner_;
  std::shared_ptr<Observer> observer_;
};

class ObservedRegistry final : public Registry {
 public:
  ObservedRegistry(std::shared_ptr<Registry> inner, std::shared_ptr<Observer> observer)
      : inner_(std::move(inner)), observer_(std::move(observer)) {}

  Status Register(const registry::Service& service, const RegisterOptions& options) override {
    Status s = inner_->Register(service, options);
    if (s && service.name == observer_->service()) observer_->SetRegistered(true);
    return s;
  }
  Status Deregister(const registry::Service& service) override {
    if (service.name == observer_->service()) observer_->SetRegistered(false);
    return inner_->Deregister(service);
  }
  Result<std::vector<registry::Service>> GetService(std::string_view name) override {
    auto r = inner_->GetService(name);
    observer_->RecordLookup(r.ok() || registry::IsNotFound(r.error()));
    return r;
  }
  Result<std::vector<registry::Service>> ListServices() override { return inner_->ListServices(); }
  Result<std::unique_ptr<registry::Watcher>> Watch(const WatchOptions& options) override {
    return inner_->Watch(options);
  }
  std::string String() const override { return inner_->String(); }

 private:
  std::shared_ptr<Registry> inner_;
  std::shared_ptr<Observer> observer_;
};

class ObservedCache final : public RegistryCache {
 public:
  ObservedCache(std::shared_ptr<RegistryCache> inner, std::shared_ptr<Observer> observer)
      : inner_(std::move(inner)), observer_(std::move(observer)) {}

  Status Register(const registry::Service& service, const RegisterOptions& options) override {
    return inner_->Register(service, options);
  }
  Status Deregister(const registry::Service& service) override {
    return inner_->Deregister(service);
  }
  Result<std::vector<registry::Service>> GetService(std::string_view name) override {
    if (inner_->Peek(name)) observer_->RecordCacheHit();
    return inner_->GetService(name);
  }
  Result<std::vector<registry::Service>> ListServices() override { return inner_->ListServices(); }
  Result<std::unique_ptr<registry::Watcher>> Watch(const WatchOptions& options) override {
    return inner_->Watch(options);
  }
  std::string String() const override { return inner_->String(); }

  registry::SnapshotPtr Peek(std::string_view name) override {
    registry::SnapshotPtr snap = inner_->Peek(name);
    if (snap) observer_->RecordCacheHit();
    return snap;
  }
  Result<registry::SnapshotPtr> Lookup(std::string_view name) override {
    if (auto snap = inner_->Peek(name)) {
      observer_->RecordCacheHit();
      return snap;
    }
    return inner_->Lookup(name);
  }
  void LookupAsync(std::string_view name, LookupCallback done) override {
    if (auto snap = inner_->Peek(name)) {
      observer_->RecordCacheHit();
      done(std::move(snap));
      return;
    }
    inner_->LookupAsync(name, std::move(done));
  }

 private:
  std::shared_ptr<RegistryCache> inner_;
  std::shared_ptr<Observer> observer_;
};

}  // namespace

std::shared_ptr<Broker> ObserveBroker(std::shared_ptr<Broker> broker,
                                      std::shared_ptr<Observer> observer) {
  return std::make_shared<ObservedBroker>(std::move(broker), std::move(observer));
}

std::shared_ptr<Registry> ObserveRegistry(std::shared_ptr<Registry> registry,
                                          std::shared_ptr<Observer> observer) {
  return std::make_shared<ObservedRegistry>(std::move(registry), std::move(observer));
}

std::shared_ptr<RegistryCache> ObserveCache(std::shared_ptr<RegistryCache> cache,
                                            std::shared_ptr<Observer> observer) {
  return std::make_shared<ObservedCache>(std::move(cache), std::move(observer));
}

}  // namespace micro

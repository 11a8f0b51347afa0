#include "web/event_stream.h"

#include <asio/experimental/awaitable_operators.hpp>

namespace micro::web_detail {
namespace {

// Ends when the client closes (or the stream is closed): then nothing more is to be written.
asio::awaitable<void> SseWatchClose(http::ByteStream& raw, ServiceMonitor::Queue& queue) {
  char buf[512];
  for (;;) {
    auto n = co_await raw.ReadSome(buf, sizeof buf);
    if (!n || *n == 0) break;  // bytes after the request are ignored
  }
  queue.Close();
}

asio::awaitable<void> SseWrite(http::ByteStream& raw, ServiceMonitor::Queue& queue, ViewPtr first,
                               Duration keepalive) {
  std::string out =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
      "Cache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\n\r\n"
      "retry: 2000\n\n";
  out += SseEvent("services", first->summary_json);
  for (;;) {
    if (Status s = co_await raw.Write(out); !s) break;
    ViewPtr next;
    auto popped = co_await queue.Pop(next, keepalive);
    if (popped == ServiceMonitor::Queue::PopStatus::kClosed) break;
    out = popped == ServiceMonitor::Queue::PopStatus::kOk ? SseEvent("services", next->summary_json)
                                                          : std::string(": keep-alive\n\n");
  }
  queue.Close();
  raw.Close();  // ends SseWatchClose's read
}

}  // namespace

std::string SseEvent(std::string_view name, std::string_view data) {
  std::string out = "event: ";
  out += name;
  out += "\ndata: ";
  out += data;
  out += "\n\n";
  return out;
}

asio::awaitable<void> ServeEvents(http::ByteStream& raw, std::shared_ptr<ServiceMonitor> monitor,
                                  Duration keepalive) {
  using namespace asio::experimental::awaitable_operators;
  auto queue = monitor->Subscribe();
  ViewPtr first = monitor->View();
  co_await (SseWrite(raw, *queue, first, keepalive) && SseWatchClose(raw, *queue));
  monitor->Unsubscribe(queue);
}

}  // namespace micro::web_detail

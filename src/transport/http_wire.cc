#include "transport/http_wire.h"

#include <llhttp.h>

#include <charconv>
#include <string>

#include "micro/errors.h"
#include "micro/version.h"
#include "util/ascii.h"

namespace micro::http {
namespace {

constexpr bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Appends "Key: value\r\n" with Go's canonical key and newline-free, trimmed value. Keys that
// are not HTTP tokens cannot be written safely and are skipped. Every header of every message
// goes through here: one pass over the key (checked and cased together), one over the value.
void AppendHeader(std::string& out, std::string_view key, std::string_view value) {
  value = Trim(value);
  const std::size_t at = out.size();
  out.resize(at + key.size() + value.size() + 4);  // usually within the room the head reserved
  char* p = out.data() + at;
  if (!util::CopyCanonicalToken(key.data(), key.size(), p)) {
    out.resize(at);
    return;
  }
  p += key.size();
  *p++ = ':';
  *p++ = ' ';
  for (const char c : value) *p++ = (c == '\r' || c == '\n') ? ' ' : c;
  *p++ = '\r';
  *p = '\n';
}

// Fields the writers put in themselves (or never pass on): found by length first, as almost
// every header of a go-micro message is none of them.
bool IsFramingField(std::string_view key) {
  switch (key.size()) {
    case 7:
      return EqualsIgnoreCase(key, "Trailer");
    case 14:
      return EqualsIgnoreCase(key, "Content-Length");
    case 17:
      return EqualsIgnoreCase(key, "Transfer-Encoding");
    default:
      return false;
  }
}
bool IsHostOrAgentField(std::string_view key) {
  return (key.size() == 4 && EqualsIgnoreCase(key, "Host")) ||
         (key.size() == 10 && EqualsIgnoreCase(key, "User-Agent"));
}

bool IsOneOf(std::string_view key, std::initializer_list<std::string_view> names) {
  for (auto n : names) {
    if (EqualsIgnoreCase(key, n)) return true;
  }
  return false;
}

bool HasToken(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    auto comma = list.find(',');
    auto item = Trim(list.substr(0, comma));
    if (EqualsIgnoreCase(item, token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

struct HttpParser::Impl {
  llhttp_t parser;
  llhttp_settings_t settings;

  static HttpParser* Self(llhttp_t* p) { return static_cast<HttpParser*>(p->data); }

  // Counts header-block bytes; over the limit aborts the parse with 431.
  static bool AddHeaderBytes(HttpParser* self, std::size_t n) {
    self->header_bytes_ += n;
    if (self->header_bytes_ > self->max_header_bytes_) {
      self->limit_hit_ = 431;
      return false;
    }
    return true;
  }

  static int OnMessageBegin(llhttp_t* p) {
    Self(p)->started_ = true;
    return 0;
  }
  static int OnUrl(llhttp_t* p, const char* at, size_t n) {
    auto* self = Self(p);
    if (!AddHeaderBytes(self, n)) return -1;
    self->target_.append(at, n);
    return 0;
  }
  static int OnStatus(llhttp_t* p, const char* at, size_t n) {
    auto* self = Self(p);
    if (!AddHeaderBytes(self, n)) return -1;
    self->reason_.append(at, n);
    return 0;
  }
  // A field's name and value are usually whole inside the bytes given to one Parse: they are
  // then seen where they lie (a view), not copied. A piece split over two Parse calls is kept
  // in a string (KeepPending, at the end of every Parse), and later pieces are appended to it.
  static void AddPiece(std::string& kept, std::string_view& view, const char* at, size_t n) {
    if (kept.empty() && view.empty()) {
      view = std::string_view(at, n);
      return;
    }
    if (!view.empty()) {
      kept.assign(view);
      view = {};
    }
    kept.append(at, n);
  }
  static int OnHeaderField(llhttp_t* p, const char* at, size_t n) {
    auto* self = Self(p);
    if (!AddHeaderBytes(self, n)) return -1;
    AddPiece(self->field_, self->field_view_, at, n);
    return 0;
  }
  static int OnHeaderValue(llhttp_t* p, const char* at, size_t n) {
    auto* self = Self(p);
    if (!AddHeaderBytes(self, n)) return -1;
    AddPiece(self->value_, self->value_view_, at, n);
    return 0;
  }
  static int OnHeaderValueComplete(llhttp_t* p) {
    auto* self = Self(p);
    if (!AddHeaderBytes(self, 4)) return -1;  // ": " and CRLF
    const std::string_view name = self->field_view_.empty() ? self->field_ : self->field_view_;
    const std::string_view value =
        Trim(self->value_view_.empty() ? self->value_ : self->value_view_);
    // As Go: Host moves out of the header map of a request; Transfer-Encoding never stays.
    const bool drop = (name.size() == 17 && EqualsIgnoreCase(name, "Transfer-Encoding")) ||
                      (name.size() == 4 && self->kind_ == Kind::kRequest &&
                       !self->keep_all_fields_ && EqualsIgnoreCase(name, "Host"));
    // The canonical name ("micro-id" -> "Micro-Id") on the stack when it fits (it always does
    // in practice: header names are short).
    char small[64];
    std::string large;
    char* key_at = small;
    if (name.size() > sizeof(small)) {
      large.resize(name.size());
      key_at = large.data();
    }
    if (!drop && util::CopyCanonicalToken(name.data(), name.size(), key_at)) {
      const std::string_view key(key_at, name.size());
      Metadata& header = self->out_->header;
      if (!self->keep_all_fields_) {
        header.SetIfAbsent(key, std::string(value));  // go-micro copies the first value
      } else if (auto seen = header.Get(key)) {
        std::string joined(*seen);  // Go keeps every value
        joined.append(", ").append(value);
        header.Set(key, std::move(joined));
      } else {
        header.Set(key, std::string(value));
      }
    }
    self->field_.clear();
    self->value_.clear();
    self->field_view_ = self->value_view_ = {};
    return 0;
  }
  static int OnHeadersComplete(llhttp_t* p) {
    auto* self = Self(p);
    self->headers_complete_ = true;
    self->status_code_ = p->status_code;
    if (self->kind_ == Kind::kRequest) {
      self->method_ = llhttp_method_name(static_cast<llhttp_method_t>(p->method));
    }
    if (p->flags & F_CONTENT_LENGTH) {
      if (p->content_length > self->max_body_bytes_) {
        self->limit_hit_ = 413;
        return -1;
      }
      self->out_->body.reserve(static_cast<std::size_t>(p->content_length));
    }
    return 0;
  }
  static int OnBody(llhttp_t* p, const char* at, size_t n) {
    auto* self = Self(p);
    if (self->body_sink_) {
      self->body_sink_(at, n);
      return 0;
    }
    self->body_bytes_ += n;
    if (self->body_bytes_ > self->max_body_bytes_) {
      self->limit_hit_ = 413;
      return -1;
    }
    if (!self->body_in_place_) self->out_->body.append(at, n);
    return 0;
  }
  static int OnMessageComplete(llhttp_t* p) {
    auto* self = Self(p);
    self->complete_ = true;
    self->wants_close_ = llhttp_should_keep_alive(p) == 0;
    return HPE_PAUSED;  // one message per Parse: pipelined bytes wait for the next Start
  }

  void Init(HttpParser* owner) {
    llhttp_settings_init(&settings);
    settings.on_message_begin = OnMessageBegin;
    settings.on_url = OnUrl;
    settings.on_status = OnStatus;
    settings.on_header_field = OnHeaderField;
    settings.on_header_value = OnHeaderValue;
    settings.on_header_value_complete = OnHeaderValueComplete;
    settings.on_headers_complete = OnHeadersComplete;
    settings.on_body = OnBody;
    settings.on_message_complete = OnMessageComplete;
    Reset(owner);
  }
  void Reset(HttpParser* owner) {
    llhttp_init(&parser, owner->kind_ == Kind::kRequest ? HTTP_REQUEST : HTTP_RESPONSE, &settings);
    parser.data = owner;
  }
};

HttpParser::HttpParser(Kind kind, std::size_t max_header_bytes, std::size_t max_body_bytes)
    : impl_(std::make_unique<Impl>()),
      kind_(kind),
      max_header_bytes_(max_header_bytes),
      max_body_bytes_(max_body_bytes) {
  impl_->Init(this);
}

HttpParser::~HttpParser() = default;

void HttpParser::Start(Message* out) {
  out_ = out;
  out_->header.clear();
  out_->header.reserve(16);  // a go-micro message has ~12 headers: one allocation, no regrowth
  out_->body.clear();
  if (error_status_ != 0 || (started_ && !complete_)) {
    impl_->Reset(this);
  } else if (needs_resume_) {
    llhttp_resume(&impl_->parser);
  }
  needs_resume_ = false;
  header_bytes_ = body_bytes_ = 0;
  field_.clear();
  value_.clear();
  field_view_ = value_view_ = {};
  reason_.clear();
  target_.clear();
  method_ = {};
  started_ = headers_complete_ = complete_ = wants_close_ = false;
  status_code_ = error_status_ = limit_hit_ = 0;
  error_reason_.clear();
}

void HttpParser::KeepPending() {
  // The caller may reuse the bytes given to this Parse: a field cut at their end is copied.
  if (!field_view_.empty()) field_.assign(field_view_);
  if (!value_view_.empty()) value_.assign(value_view_);
  field_view_ = value_view_ = {};
}

ParseStatus HttpParser::Fail(int status, std::string reason) {
  error_status_ = status;
  error_reason_ = std::move(reason);
  return ParseStatus::kError;
}

ParseStatus HttpParser::Parse(const char* data, std::size_t size, std::size_t* consumed) {
  *consumed = 0;
  if (error_status_ != 0) return ParseStatus::kError;
  if (complete_) return ParseStatus::kComplete;
  if (size == 0) return ParseStatus::kNeedMore;
  const llhttp_errno_t err = llhttp_execute(&impl_->parser, data, size);
  KeepPending();
  switch (err) {
    case HPE_OK:
      *consumed = size;
      return ParseStatus::kNeedMore;
    case HPE_PAUSED:
      *consumed = static_cast<std::size_t>(llhttp_get_error_pos(&impl_->parser) - data);
      needs_resume_ = true;
      return ParseStatus::kComplete;
    case HPE_PAUSED_UPGRADE:
      return Fail(400, "protocol upgrade is not supported");
    default:
      if (limit_hit_ == 431) return Fail(431, "header block larger than the limit");
      if (limit_hit_ == 413) return Fail(413, "body larger than the limit");
      return Fail(400, llhttp_get_error_reason(&impl_->parser));
  }
}

std::size_t HttpParser::body_remaining() const {
  const llhttp_t& p = impl_->parser;
  if (!headers_complete_ || complete_ || error_status_ != 0) return 0;
  if ((p.flags & F_CONTENT_LENGTH) == 0 || (p.flags & F_CHUNKED) != 0) return 0;
  return static_cast<std::size_t>(p.content_length);
}

ParseStatus HttpParser::ParseBodyInPlace(const char* data, std::size_t n) {
  body_in_place_ = true;
  std::size_t used = 0;
  const ParseStatus st = Parse(data, n, &used);
  body_in_place_ = false;
  return st;
}

ParseStatus HttpParser::Finish() {
  if (error_status_ != 0) return ParseStatus::kError;
  if (complete_) return ParseStatus::kComplete;
  if (!started_) return ParseStatus::kNeedMore;
  const llhttp_errno_t err = llhttp_finish(&impl_->parser);
  if (complete_) {
    needs_resume_ = err == HPE_PAUSED;
    return ParseStatus::kComplete;
  }
  return Fail(400, "unexpected EOF");
}

// Room for a head: the fixed lines plus every header's name, value and punctuation (one
// allocation instead of a string growing line by line).
void AppendDecimal(std::string& out, std::size_t n) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), n);
  (void)ec;
  out.append(buf, end);
}

static std::size_t HttpHeadRoom(const Metadata& header) {
  std::size_t n = 128;
  for (const auto& [k, v] : header) n += k.size() + v.size() + 4;
  return n;
}

void AppendRequestHead(std::string& out, std::string_view host, const Metadata& header,
                       std::size_t body_size, bool conn_close) {
  out.reserve(out.size() + HttpHeadRoom(header) + host.size());
  out.append("POST / HTTP/1.1\r\nHost: ");
  out.append(host);
  out.append("\r\n");
  AppendHeader(out, "User-Agent", header.GetOr("User-Agent", UserAgent()));
  if (conn_close && !HasToken(header.GetOr("Connection"), "close")) {
    out.append("Connection: close\r\n");
  }
  out.append("Content-Length: ");
  AppendDecimal(out, body_size);
  out.append("\r\n");
  for (const auto& [k, v] : header) {
    if (IsFramingField(k) || IsHostOrAgentField(k)) continue;
    AppendHeader(out, k, v);
  }
  out.append("\r\n");
}

void AppendClientRequestHead(std::string& out, std::string_view method, std::string_view target,
                             std::string_view host, const Metadata& header, std::size_t body_size) {
  out.append(method);
  out.append(" ");
  out.append(target.empty() ? std::string_view("/") : target);
  out.append(" HTTP/1.1\r\n");
  AppendHeader(out, "Host", header.GetOr("Host", host));
  AppendHeader(out, "User-Agent", header.GetOr("User-Agent", UserAgent()));
  if (body_size > 0 || IsOneOf(method, {"POST", "PUT", "PATCH"})) {
    out.append("Content-Length: ");
    AppendDecimal(out, body_size);
    out.append("\r\n");
  }
  for (const auto& [k, v] : header) {
    if (IsFramingField(k) || IsHostOrAgentField(k)) continue;
    AppendHeader(out, k, v);
  }
  out.append("\r\n");
}

void AppendResponseHead(std::string& out, const Metadata* base, const Metadata& header,
                        std::size_t body_size) {
  out.reserve(out.size() + HttpHeadRoom(header) + (base != nullptr ? HttpHeadRoom(*base) : 0));
  out.append("HTTP/1.1 200 OK\r\n");
  if (body_size > 0) {
    out.append("Content-Length: ");
    AppendDecimal(out, body_size);
    out.append("\r\n");
  }
  auto emit = [&out](const std::string& k, const std::string& v) {
    if (IsFramingField(k)) return;
    AppendHeader(out, k, v);
  };
  // Merge the two sorted maps; on equal keys the message header wins (Go's Header.Set).
  static const Metadata kEmpty;
  if (base == nullptr) base = &kEmpty;
  const CaseInsensitiveLess less;
  auto a = base->begin();
  auto b = header.begin();
  while (a != base->end() || b != header.end()) {
    if (b == header.end() || (a != base->end() && less(a->first, b->first))) {
      emit(a->first, a->second);
      ++a;
    } else if (a == base->end() || less(b->first, a->first)) {
      emit(b->first, b->second);
      ++b;
    } else {
      emit(b->first, b->second);
      ++a;
      ++b;
    }
  }
  if (body_size == 0) out.append("Content-Length: 0\r\n");
  out.append("\r\n");
}

std::string ErrorResponse(int status) {
  const std::string text = std::to_string(status) + " " + std::string(StatusText(status));
  std::string out = "HTTP/1.1 " + text + "\r\n";
  out += "Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: ";
  out += std::to_string(text.size());
  out += "\r\n\r\n";
  out += text;
  return out;
}

std::string_view UserAgent() {
  static const std::string& ua = *new std::string(std::string("micro-cpp/") + kVersion);
  return ua;
}

}  // namespace micro::http

#include "model.h"

#include <google/protobuf/descriptor.pb.h>

#include <set>
#include <string_view>

namespace micro::codegen {
namespace {

// The C++ keywords protoc's C++ generator renames by appending '_'.
bool IsKeyword(std::string_view name) {
  static const std::set<std::string_view> kKeywords = {
      "NULL",         "alignas",   "alignof",       "and",
      "and_eq",       "asm",       "auto",          "bitand",
      "bitor",        "bool",      "break",         "case",
      "catch",        "char",      "char8_t",       "char16_t",
      "char32_t",     "class",     "compl",         "concept",
      "const",        "consteval", "constexpr",     "constinit",
      "const_cast",   "continue",  "co_await",      "co_return",
      "co_yield",     "decltype",  "default",       "delete",
      "do",           "double",    "dynamic_cast",  "else",
      "enum",         "explicit",  "export",        "extern",
      "false",        "float",     "for",           "friend",
      "goto",         "if",        "inline",        "int",
      "long",         "mutable",   "namespace",     "new",
      "noexcept",     "not",       "not_eq",        "nullptr",
      "operator",     "or",        "or_eq",         "private",
      "protected",    "public",    "register",      "reinterpret_cast",
      "requires",     "return",    "short",         "signed",
      "sizeof",       "static",    "static_assert", "static_cast",
      "struct",       "switch",    "template",      "this",
      "thread_local", "throw",     "true",          "try",
      "typedef",      "typeid",    "typename",      "union",
      "unsigned",     "using",     "virtual",       "void",
      "volatile",     "wchar_t",   "while",         "xor",
      "xor_eq"};
  return kKeywords.count(name) > 0;
}

std::string ResolveKeyword(const std::string& name) { return IsKeyword(name) ? name + "_" : name; }

MethodKind KindOf(const google::protobuf::MethodDescriptor* m) {
  if (m->client_streaming() && m->server_streaming()) return MethodKind::kBidiStream;
  if (m->client_streaming()) return MethodKind::kClientStream;
  if (m->server_streaming()) return MethodKind::kServerStream;
  return MethodKind::kUnary;
}

}  // namespace

std::string CppNamespace(const std::string& package) {
  std::string out;
  std::size_t start = 0;
  while (start <= package.size() && !package.empty()) {
    std::size_t dot = package.find('.', start);
    if (dot == std::string::npos) dot = package.size();
    if (!out.empty()) out += "::";
    out += ResolveKeyword(package.substr(start, dot - start));
    start = dot + 1;
  }
  return out;
}

std::string QualifiedClassName(const google::protobuf::Descriptor* message) {
  // Nested messages are flattened: Outer.Inner -> Outer_Inner. Only the outermost name is
  // keyword-resolved, as protoc does.
  std::string name = message->name();
  for (auto* p = message->containing_type(); p != nullptr; p = p->containing_type()) {
    name = p->name() + "_" + name;
  }
  if (message->containing_type() == nullptr) name = ResolveKeyword(name);
  const std::string ns = CppNamespace(message->file()->package());
  return ns.empty() ? "::" + name : "::" + ns + "::" + name;
}

std::string StripProto(const std::string& filename) {
  for (std::string_view ext : {".protodevel", ".proto"}) {
    if (filename.size() > ext.size() &&
        filename.compare(filename.size() - ext.size(), ext.size(), ext) == 0) {
      return filename.substr(0, filename.size() - ext.size());
    }
  }
  return filename;
}

const char* StreamKindName(MethodKind kind) {
  switch (kind) {
    case MethodKind::kUnary:
      return "kUnary";
    case MethodKind::kClientStream:
      return "kClientStream";
    case MethodKind::kServerStream:
      return "kServerStream";
    case MethodKind::kBidiStream:
      return "kBidiStream";
  }
  return "kUnary";
}

const char* KindDescription(MethodKind kind) {
  switch (kind) {
    case MethodKind::kUnary:
      return "unary";
    case MethodKind::kClientStream:
      return "client stream";
    case MethodKind::kServerStream:
      return "server stream";
    case MethodKind::kBidiStream:
      return "bidirectional stream";
  }
  return "unary";
}

namespace {

// Names declared inside the generated classes of a service: a message class with one of these
// names must be spelled fully qualified there.
std::set<std::string> MemberNames(const google::protobuf::ServiceDescriptor* sd) {
  std::set<std::string> names = {"service_name", "client", "service_name_", "client_"};
  for (int j = 0; j < sd->method_count(); ++j) {
    names.insert(ResolveKeyword(sd->method(j)->name()));
    names.insert("Async" + ResolveKeyword(sd->method(j)->name()));
  }
  return names;
}

// The class name as written in the file's own namespace: unqualified for the file's package
// (readable generated code) unless a class member would hide it; fully qualified otherwise.
std::string TypeName(const google::protobuf::Descriptor* message,
                     const google::protobuf::FileDescriptor* file,
                     const std::set<std::string>& members) {
  const std::string qualified = QualifiedClassName(message);
  if (message->file()->package() != file->package()) return qualified;
  const std::string ns = CppNamespace(file->package());
  const std::string local = ns.empty() ? qualified.substr(2) : qualified.substr(ns.size() + 4);
  return members.count(local) > 0 ? qualified : local;
}

}  // namespace

File BuildModel(const google::protobuf::FileDescriptor* file) {
  File f;
  f.proto = file->name();
  f.stem = StripProto(file->name());
  f.cpp_namespace = CppNamespace(file->package());
  for (int i = 0; i < file->service_count(); ++i) {
    const google::protobuf::ServiceDescriptor* sd = file->service(i);
    Service s;
    s.name = sd->name();
    const std::set<std::string> members = MemberNames(sd);
    for (int j = 0; j < sd->method_count(); ++j) {
      const google::protobuf::MethodDescriptor* md = sd->method(j);
      Method m;
      m.name = ResolveKeyword(md->name());  // C++ identifiers; the endpoint keeps the name
      m.endpoint = s.name + "." + md->name();
      m.request = TypeName(md->input_type(), file, members);
      m.response = TypeName(md->output_type(), file, members);
      m.kind = KindOf(md);
      m.deprecated = md->options().deprecated();
      s.methods.push_back(std::move(m));
    }
    f.services.push_back(std::move(s));
  }
  return f;
}

}  // namespace micro::codegen

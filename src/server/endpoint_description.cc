#include "server/endpoint_description.h"

#include <string>

namespace micro::server_detail {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

// The Go type name of a message or enum: nested types join with '_', as protoc-gen-go does.
std::string GoTypeName(const std::string& full_name, const std::string& package) {
  std::string name = full_name;
  if (!package.empty() && name.rfind(package + ".", 0) == 0) name = name.substr(package.size() + 1);
  for (char& c : name) {
    if (c == '.') c = '_';
  }
  return name;
}

std::string ScalarType(const FieldDescriptor* field) {
  switch (field->type()) {
    case FieldDescriptor::TYPE_DOUBLE:
      return "float64";
    case FieldDescriptor::TYPE_FLOAT:
      return "float32";
    case FieldDescriptor::TYPE_INT64:
    case FieldDescriptor::TYPE_SINT64:
    case FieldDescriptor::TYPE_SFIXED64:
      return "int64";
    case FieldDescriptor::TYPE_UINT64:
    case FieldDescriptor::TYPE_FIXED64:
      return "uint64";
    case FieldDescriptor::TYPE_INT32:
    case FieldDescriptor::TYPE_SINT32:
    case FieldDescriptor::TYPE_SFIXED32:
      return "int32";
    case FieldDescriptor::TYPE_UINT32:
    case FieldDescriptor::TYPE_FIXED32:
      return "uint32";
    case FieldDescriptor::TYPE_BOOL:
      return "bool";
    case FieldDescriptor::TYPE_STRING:
      return "string";
    case FieldDescriptor::TYPE_BYTES:
      return "[]uint8";
    case FieldDescriptor::TYPE_ENUM:
      return GoTypeName(field->enum_type()->full_name(), field->file()->package());
    case FieldDescriptor::TYPE_MESSAGE:
    case FieldDescriptor::TYPE_GROUP:
      return GoTypeName(field->message_type()->full_name(), field->file()->package());
  }
  return "unknown";
}

registry::Value DescribeField(const FieldDescriptor* field, int depth) {
  registry::Value v;
  v.name = field->name();
  if (field->is_map()) {
    const auto* entry = field->message_type();
    v.type = "map[" + ScalarType(entry->map_key()) + "]" + ScalarType(entry->map_value());
    return v;
  }
  v.type = (field->is_repeated() ? "[]" : "") + ScalarType(field);
  if (field->type() == FieldDescriptor::TYPE_MESSAGE && depth > 1) {
    v.values = DescribeMessage(field->message_type(), depth - 1).values;
  }
  return v;
}

}  // namespace

registry::Value DescribeMessage(const Descriptor* message, int depth) {
  registry::Value v;
  if (!message) return v;
  v.name = GoTypeName(message->full_name(), message->file()->package());
  v.type = v.name;
  if (depth <= 0) return v;
  for (int i = 0; i < message->field_count(); ++i) {
    v.values.push_back(DescribeField(message->field(i), depth));
  }
  return v;
}

registry::Endpoint DescribeEndpoint(const Endpoint& endpoint) {
  registry::Endpoint e;
  e.name = endpoint.name;
  if (endpoint.request) e.request = DescribeMessage(endpoint.request);
  if (endpoint.response) e.response = DescribeMessage(endpoint.response);
  for (const auto& [k, v] : endpoint.metadata) e.metadata[k] = v;
  if (endpoint.kind != StreamKind::kUnary) e.metadata["stream"] = "true";
  return e;
}

}  // namespace micro::server_detail

#include "needle/schema/schema.h"

#include <simdjson.h>

#include "needle/common/error.h"
#include "needle/schema/value.h"

namespace needle {

std::string_view field_type_name(FieldType t) {
  switch (t) {
    case FieldType::kText: return "text";
    case FieldType::kString: return "string";
    case FieldType::kI64: return "i64";
    case FieldType::kU64: return "u64";
    case FieldType::kF64: return "f64";
    case FieldType::kBool: return "bool";
    case FieldType::kTimestamp: return "timestamp";
    case FieldType::kBytes: return "bytes";
    case FieldType::kIp: return "ip";
    case FieldType::kJson: return "json";
  }
  return "?";
}

std::optional<FieldType> parse_field_type(std::string_view n) {
  for (FieldType t : {FieldType::kText, FieldType::kString, FieldType::kI64, FieldType::kU64,
                      FieldType::kF64, FieldType::kBool, FieldType::kTimestamp, FieldType::kBytes,
                      FieldType::kIp, FieldType::kJson}) {
    if (field_type_name(t) == n) return t;
  }
  if (n == "date" || n == "datetime") return FieldType::kTimestamp;
  return std::nullopt;
}

std::string_view record_option_name(IndexRecordOption r) {
  switch (r) {
    case IndexRecordOption::kBasic: return "basic";
    case IndexRecordOption::kFreq: return "freq";
    case IndexRecordOption::kPosition: return "position";
  }
  return "?";
}

namespace {

[[noreturn]] void schema_error(const std::string& msg) { throw_error(ErrorCode::kSchema, "schema: " + msg); }

void check_field_name(const std::string& name) {
  if (name.empty()) schema_error("a field has an empty name");
  if (name.size() > 255) schema_error("field name '" + name.substr(0, 40) + "...' is longer than 255 bytes");
  for (unsigned char c : name) {
    if (c < 0x20 || c == ':' || c == '\\' || c == '"' || c == ' ' || c == '(' || c == ')' ||
        c == '^' || c == '~' || c == '*') {
      schema_error("field name '" + name +
                   "' has a character that cannot appear in a field name (space, control "
                   "character, or one of : \\ \" ( ) ^ ~ *)");
    }
  }
  if (name == "_doc" || name == "_score" || name == "_indexall") {
    schema_error("field name '" + name + "' is reserved");
  }
}

std::string_view sv(simdjson::dom::element e, const std::string& ctx) {
  std::string_view s;
  if (e.get_string().get(s)) schema_error(ctx + " must be a string");
  return s;
}

bool boolean(simdjson::dom::element e, const std::string& ctx) {
  bool b;
  if (e.get_bool().get(b)) schema_error(ctx + " must be true or false");
  return b;
}

}  // namespace

uint16_t Schema::add_field(std::string name, FieldType type, FieldOptions o) {
  check_field_name(name);
  if (find(name) != nullptr) schema_error("field '" + name + "' is defined twice");
  if (fields_.size() >= kMaxFields) schema_error("more than " + std::to_string(kMaxFields) + " fields");
  if (is_analyzed(type)) {
    if (o.tokenizer.empty()) o.tokenizer = "default";
  } else {
    if (!o.tokenizer.empty() && !(type == FieldType::kString && o.tokenizer == "raw")) {
      schema_error("field '" + name + "': 'tokenizer' applies only to text and json fields (this one is " +
                   std::string(field_type_name(type)) + ")");
    }
    o.tokenizer.clear();
    if (o.record == IndexRecordOption::kPosition) {
      schema_error("field '" + name + "': record 'position' applies only to text and json fields");
    }
    if (o.fieldnorms) schema_error("field '" + name + "': 'fieldnorms' applies only to text and json fields");
  }
  FieldEntry e;
  e.id = static_cast<uint16_t>(fields_.size());
  e.name = std::move(name);
  e.type = type;
  e.options = std::move(o);
  fields_.push_back(std::move(e));
  return fields_.back().id;
}

void Schema::add_analyzer(std::string name, std::string json_definition) {
  if (name.empty()) schema_error("an analyzer has an empty name");
  analyzers_[std::move(name)] = std::move(json_definition);
}

const FieldEntry* Schema::find(std::string_view name) const {
  for (const auto& f : fields_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

bool Schema::has_json_field() const {
  for (const auto& f : fields_) {
    if (f.type == FieldType::kJson) return true;
  }
  return false;
}

Schema Schema::from_json(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::padded_string padded(json);
  if (auto err = parser.parse(padded).get(root)) {
    schema_error(std::string("not valid JSON: ") + simdjson::error_message(err));
  }
  simdjson::dom::object obj;
  if (root.get_object().get(obj)) schema_error("must be a JSON object with a \"fields\" array");
  Schema s;
  simdjson::dom::array fields;
  bool have_fields = false;
  for (auto [key, value] : obj) {
    if (key == "fields") {
      if (value.get_array().get(fields)) schema_error("\"fields\" must be an array");
      have_fields = true;
    } else if (key == "analyzers") {
      simdjson::dom::object an;
      if (value.get_object().get(an)) schema_error("\"analyzers\" must be an object");
      for (auto [aname, adef] : an) {
        if (!adef.is_object()) schema_error("analyzer '" + std::string(aname) + "' must be an object");
        s.add_analyzer(std::string(aname), simdjson::minify(adef));
      }
    } else {
      schema_error("unknown key \"" + std::string(key) + "\" (expected \"fields\" or \"analyzers\")");
    }
  }
  if (!have_fields) schema_error("missing the \"fields\" array");
  size_t index = 0;
  for (auto f : fields) {
    std::string ctx = "field #" + std::to_string(index++);
    simdjson::dom::object fo;
    if (f.get_object().get(fo)) schema_error(ctx + " must be an object");
    std::string name;
    std::optional<FieldType> type;
    FieldOptions o;
    bool record_set = false, norms_set = false;
    std::string type_text;
    for (auto [k, v] : fo) {
      if (k == "name") name = std::string(sv(v, ctx + " \"name\""));
    }
    if (name.empty()) schema_error(ctx + " has no \"name\"");
    ctx = "field '" + name + "'";
    for (auto [k, v] : fo) {
      if (k == "name") continue;
      if (k == "type") {
        type_text = std::string(sv(v, ctx + " \"type\""));
        type = parse_field_type(type_text);
        if (!type) {
          schema_error(ctx + ": unknown type '" + type_text +
                       "' (expected text, string, i64, u64, f64, bool, timestamp, bytes, ip or json)");
        }
      } else if (k == "indexed") {
        o.indexed = boolean(v, ctx + " \"indexed\"");
      } else if (k == "stored") {
        o.stored = boolean(v, ctx + " \"stored\"");
      } else if (k == "fast") {
        o.fast = boolean(v, ctx + " \"fast\"");
      } else if (k == "fieldnorms") {
        o.fieldnorms = boolean(v, ctx + " \"fieldnorms\"");
        norms_set = true;
      } else if (k == "tokenizer") {
        o.tokenizer = std::string(sv(v, ctx + " \"tokenizer\""));
        if (o.tokenizer.empty()) schema_error(ctx + ": \"tokenizer\" is empty");
      } else if (k == "record") {
        std::string r(sv(v, ctx + " \"record\""));
        if (r == "basic") o.record = IndexRecordOption::kBasic;
        else if (r == "freq") o.record = IndexRecordOption::kFreq;
        else if (r == "position") o.record = IndexRecordOption::kPosition;
        else schema_error(ctx + ": unknown record '" + r + "' (expected basic, freq or position)");
        record_set = true;
      } else {
        schema_error(ctx + ": unknown option \"" + std::string(k) +
                     "\" (expected name, type, indexed, stored, fast, tokenizer, record, fieldnorms)");
      }
    }
    if (!type) schema_error(ctx + " has no \"type\"");
    if (is_analyzed(*type)) {
      if (!record_set) o.record = IndexRecordOption::kPosition;
      if (!norms_set) o.fieldnorms = true;
    }
    s.add_field(name, *type, std::move(o));
  }
  if (s.fields_.empty()) schema_error("has no fields");
  return s;
}

std::string Schema::to_json() const {
  std::string out = "{\"fields\":[";
  for (size_t i = 0; i < fields_.size(); ++i) {
    const auto& f = fields_[i];
    if (i) out += ',';
    out += "{\"name\":";
    append_json_string(out, f.name);
    out += ",\"type\":\"" + std::string(field_type_name(f.type)) + "\"";
    out += std::string(",\"indexed\":") + (f.options.indexed ? "true" : "false");
    out += std::string(",\"stored\":") + (f.options.stored ? "true" : "false");
    out += std::string(",\"fast\":") + (f.options.fast ? "true" : "false");
    if (is_analyzed(f.type)) {
      out += ",\"tokenizer\":";
      append_json_string(out, f.options.tokenizer);
      out += std::string(",\"fieldnorms\":") + (f.options.fieldnorms ? "true" : "false");
    }
    out += ",\"record\":\"" + std::string(record_option_name(f.options.record)) + "\"}";
  }
  out += "]";
  if (!analyzers_.empty()) {
    out += ",\"analyzers\":{";
    bool first = true;
    for (const auto& [n, def] : analyzers_) {
      if (!first) out += ',';
      first = false;
      append_json_string(out, n);
      out += ':';
      out += def;
    }
    out += "}";
  }
  out += "}";
  return out;
}

}  // namespace needle

#include "needle/schema/document.h"

#include <simdjson.h>

#include <cmath>

#include "json_internal.h"
#include "needle/common/bytes.h"
#include "needle/common/error.h"

namespace needle {

struct DocumentParser::Impl {
  const Schema& schema;
  simdjson::dom::parser parser;
  simdjson::padded_string buf;
  explicit Impl(const Schema& s) : schema(s) {}
};

DocumentParser::DocumentParser(const Schema& schema) : impl_(new Impl(schema)) {}
DocumentParser::~DocumentParser() { delete impl_; }

namespace {

[[noreturn]] void doc_error(const FieldEntry& f, const std::string& what) {
  throw_error(ErrorCode::kDocument, "field '" + f.name + "' (" +
                                        std::string(field_type_name(f.type)) + "): " + what);
}

std::string describe(simdjson::dom::element e) {
  switch (e.type()) {
    case simdjson::dom::element_type::ARRAY: return "an array";
    case simdjson::dom::element_type::OBJECT: return "an object";
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64:
    case simdjson::dom::element_type::DOUBLE: return "a number";
    case simdjson::dom::element_type::STRING: return "a string";
    case simdjson::dom::element_type::BOOL: return "a boolean";
    case simdjson::dom::element_type::NULL_VALUE: return "null";
  }
  return "a value";
}

// One value of a json field: any JSON value (not null: the caller skips it).
void add_json_value(const FieldEntry& f, simdjson::dom::element e, Document& doc) {
  json_internal::flatten_element(f, e, nullptr);  // checks keys, paths and depth
  doc.values.push_back(FieldValue{f.id, JsonValue{simdjson::minify(e)}});
}

void add_value(const FieldEntry& f, simdjson::dom::element e, Document& doc) {
  using T = simdjson::dom::element_type;
  T t = e.type();
  if (t == T::NULL_VALUE) return;
  if (t == T::ARRAY) {
    // Several values. For json fields each element is one value, whatever it is (an array
    // included); for other types an element that is an array is an error.
    for (auto item : e.get_array()) {
      if (item.type() == T::NULL_VALUE) continue;
      if (f.type == FieldType::kJson) {
        add_json_value(f, item, doc);
        continue;
      }
      if (item.type() == T::ARRAY) doc_error(f, "nested arrays are not supported");
      add_value(f, item, doc);
    }
    return;
  }
  auto expected = [&](const char* what) {
    doc_error(f, std::string("expected ") + what + ", found " + describe(e));
  };
  Value v;
  switch (f.type) {
    case FieldType::kText:
    case FieldType::kString: {
      if (t != T::STRING) expected("a string");
      v = std::string(e.get_string().value_unsafe());
      break;
    }
    case FieldType::kI64: {
      if (t == T::INT64) v = e.get_int64().value_unsafe();
      else if (t == T::UINT64) doc_error(f, "value " + std::to_string(e.get_uint64().value_unsafe()) + " is out of the i64 range");
      else expected("an integer");
      break;
    }
    case FieldType::kU64: {
      if (t == T::UINT64) v = e.get_uint64().value_unsafe();
      else if (t == T::INT64) {
        int64_t x = e.get_int64().value_unsafe();
        if (x < 0) doc_error(f, "value " + std::to_string(x) + " is negative");
        v = static_cast<uint64_t>(x);
      } else expected("a non-negative integer");
      break;
    }
    case FieldType::kF64: {
      if (t == T::DOUBLE) v = e.get_double().value_unsafe();
      else if (t == T::INT64) v = static_cast<double>(e.get_int64().value_unsafe());
      else if (t == T::UINT64) v = static_cast<double>(e.get_uint64().value_unsafe());
      else expected("a number");
      break;
    }
    case FieldType::kBool: {
      if (t != T::BOOL) expected("true or false");
      v = e.get_bool().value_unsafe();
      break;
    }
    case FieldType::kTimestamp: {
      if (t == T::STRING) {
        auto s = e.get_string().value_unsafe();
        auto ts = parse_rfc3339(s);
        if (!ts) doc_error(f, "'" + std::string(s) + "' is not an RFC 3339 date-time (e.g. 2024-05-01T12:00:00Z)");
        v = *ts;
      } else if (t == T::INT64) {
        v = Timestamp{e.get_int64().value_unsafe()};
      } else {
        expected("an RFC 3339 string or integer microseconds");
      }
      break;
    }
    case FieldType::kBytes: {
      if (t != T::STRING) expected("a base64 string");
      auto b = base64_decode(e.get_string().value_unsafe());
      if (!b) doc_error(f, "not valid base64");
      v = BytesValue{std::move(*b)};
      break;
    }
    case FieldType::kIp: {
      if (t != T::STRING) expected("an IP address string");
      auto s = e.get_string().value_unsafe();
      auto ip = parse_ip(s);
      if (!ip) doc_error(f, "'" + std::string(s) + "' is not an IPv4 or IPv6 address");
      v = *ip;
      break;
    }
    case FieldType::kJson:
      add_json_value(f, e, doc);
      return;
  }
  doc.values.push_back(FieldValue{f.id, std::move(v)});
}

}  // namespace

Document DocumentParser::parse(std::string_view json) {
  impl_->buf = simdjson::padded_string(json);
  simdjson::dom::element root;
  if (auto err = impl_->parser.parse(impl_->buf).get(root)) {
    throw_error(ErrorCode::kDocument, std::string("not valid JSON: ") + simdjson::error_message(err));
  }
  simdjson::dom::object obj;
  if (root.get_object().get(obj)) throw_error(ErrorCode::kDocument, "a document must be a JSON object");
  Document doc;
  for (auto [key, value] : obj) {
    const FieldEntry* f = impl_->schema.find(key);
    if (f == nullptr) continue;
    add_value(*f, value, doc);
  }
  return doc;
}

std::vector<uint8_t> encode_stored(const Schema& schema, const Document& doc) {
  // Groups values by field in schema order: vint group count, then per group
  // vint field id, vint value count, values.
  std::vector<uint32_t> counts(schema.num_fields(), 0);
  for (const auto& fv : doc.values) {
    if (schema.field(fv.field).options.stored) counts[fv.field]++;
  }
  ByteWriter w;
  uint32_t groups = 0;
  for (auto c : counts) groups += c > 0;
  w.vint(groups);
  for (uint16_t fid = 0; fid < counts.size(); ++fid) {
    if (counts[fid] == 0) continue;
    w.vint(fid);
    w.vint(counts[fid]);
    FieldType type = schema.field(fid).type;
    for (const auto& fv : doc.values) {
      if (fv.field != fid) continue;
      switch (type) {
        case FieldType::kText:
        case FieldType::kString: w.str(std::get<std::string>(fv.value)); break;
        case FieldType::kI64: w.i64(std::get<int64_t>(fv.value)); break;
        case FieldType::kU64: w.u64(std::get<uint64_t>(fv.value)); break;
        case FieldType::kF64: w.f64(std::get<double>(fv.value)); break;
        case FieldType::kBool: w.u8(std::get<bool>(fv.value) ? 1 : 0); break;
        case FieldType::kTimestamp: w.i64(std::get<Timestamp>(fv.value).micros); break;
        case FieldType::kBytes: {
          const auto& b = std::get<BytesValue>(fv.value).data;
          w.vint(b.size());
          w.bytes(b);
          break;
        }
        case FieldType::kIp: w.bytes(std::get<IpAddr>(fv.value).bytes); break;
        case FieldType::kJson: w.str(std::get<JsonValue>(fv.value).json); break;
      }
    }
  }
  return w.take();
}

Document decode_stored(const Schema& schema, std::span<const uint8_t> bytes) {
  ByteReader r(bytes, "stored document");
  Document doc;
  uint64_t groups = r.vint();
  uint64_t prev = 0;
  for (uint64_t g = 0; g < groups; ++g) {
    uint64_t fid = r.vint();
    if (fid >= schema.num_fields() || (g > 0 && fid <= prev)) r.fail("bad field id " + std::to_string(fid));
    prev = fid;
    uint64_t n = r.vint();
    if (n == 0 || n > r.remaining()) r.fail("bad value count");
    FieldType type = schema.field(static_cast<uint16_t>(fid)).type;
    for (uint64_t i = 0; i < n; ++i) {
      Value v;
      switch (type) {
        case FieldType::kText:
        case FieldType::kString: v = std::string(r.str()); break;
        case FieldType::kI64: v = r.i64(); break;
        case FieldType::kU64: v = r.u64(); break;
        case FieldType::kF64: v = r.f64(); break;
        case FieldType::kBool: v = r.u8() != 0; break;
        case FieldType::kTimestamp: v = Timestamp{r.i64()}; break;
        case FieldType::kBytes: {
          auto s = r.str();
          v = BytesValue{std::vector<uint8_t>(s.begin(), s.end())};
          break;
        }
        case FieldType::kIp: {
          IpAddr ip;
          auto b = r.bytes(16);
          std::copy(b.begin(), b.end(), ip.bytes.begin());
          v = ip;
          break;
        }
        case FieldType::kJson: {
          auto s = r.str();
          // Any JSON value (the writer checked it); canonical JSON text is never empty.
          if (s.empty()) r.fail("an empty json value");
          v = JsonValue{std::string(s)};
          break;
        }
      }
      doc.values.push_back(FieldValue{static_cast<uint16_t>(fid), std::move(v)});
    }
  }
  if (!r.done()) r.fail("trailing bytes");
  return doc;
}

std::string stored_to_json(const Schema& schema, const Document& doc) {
  std::string out = "{";
  bool first = true;
  size_t i = 0;
  const auto& vals = doc.values;
  // decode_stored yields values grouped by field in schema order; group runs here.
  while (i < vals.size()) {
    size_t j = i;
    while (j < vals.size() && vals[j].field == vals[i].field) ++j;
    if (!first) out += ',';
    first = false;
    append_json_string(out, schema.field(vals[i].field).name);
    out += ':';
    // One value prints bare, except a json value that is an array: bare, it would read back as
    // several values (an array in a document is several values), so it prints as [value].
    const auto* js = std::get_if<JsonValue>(&vals[i].value);
    if (j - i == 1 && !(js && !js->json.empty() && js->json.front() == '[')) {
      append_value_json(out, vals[i].value);
    } else {
      out += '[';
      for (size_t k = i; k < j; ++k) {
        if (k > i) out += ',';
        append_value_json(out, vals[k].value);
      }
      out += ']';
    }
    i = j;
  }
  out += '}';
  return out;
}

}  // namespace needle

// A document: the values of its fields, in input order. Parsed from one JSON object per line.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "needle/schema/schema.h"
#include "needle/schema/value.h"

namespace needle {

struct FieldValue {
  uint16_t field = 0;
  Value value;
};

struct Document {
  std::vector<FieldValue> values;
};

// Parses JSON documents against a schema. Unknown fields are ignored (they are not in the
// schema); a value of the wrong type, a bad date, ip or base64 throws Error(kDocument) naming the
// field. Not thread-safe: use one parser per thread.
class DocumentParser {
 public:
  explicit DocumentParser(const Schema& schema);
  ~DocumentParser();
  DocumentParser(const DocumentParser&) = delete;
  DocumentParser& operator=(const DocumentParser&) = delete;
  Document parse(std::string_view json);

 private:
  struct Impl;
  Impl* impl_;
};

// The stored form of a document in the document store (docs/format/docstore.md): the stored
// fields only, as (field id, count, values) groups.
std::vector<uint8_t> encode_stored(const Schema& schema, const Document& doc);
Document decode_stored(const Schema& schema, std::span<const uint8_t> bytes);
// {"field": value or [values], ...} in schema field order; a json field whose one value is an
// array prints as [value], so that the line parses back into the same document.
std::string stored_to_json(const Schema& schema, const Document& doc);

}  // namespace needle

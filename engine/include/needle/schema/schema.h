// A schema: the fields of an index, their types and options, and custom analyzers.
// Its JSON form is documented in docs/format/schema.md and is stored in every split.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace needle {

enum class FieldType : uint8_t {
  kText = 1,       // tokenized, BM25-scored
  kString = 2,     // one exact, untokenized term
  kI64 = 3,
  kU64 = 4,
  kF64 = 5,
  kBool = 6,
  kTimestamp = 7,  // microseconds since the Unix epoch, UTC
  kBytes = 8,
  kIp = 9,         // IPv4 and IPv6, stored as 16 bytes (IPv4 mapped into ::ffff:0:0/96)
  kJson = 10,      // any JSON value; every leaf indexed under its dotted path (schema/json.h)
};

// True for the types whose values go through the field's analyzer (text, and json string leaves).
inline bool is_analyzed(FieldType t) { return t == FieldType::kText || t == FieldType::kJson; }

std::string_view field_type_name(FieldType t);
std::optional<FieldType> parse_field_type(std::string_view name);

// What the inverted index records per term occurrence.
enum class IndexRecordOption : uint8_t {
  kBasic = 0,     // document ids only
  kFreq = 1,      // + term frequencies
  kPosition = 2,  // + positions (phrase queries)
};

std::string_view record_option_name(IndexRecordOption r);

struct FieldOptions {
  bool indexed = true;
  bool stored = false;
  bool fast = false;          // columnar; validated now, built by a later format version
  std::string tokenizer;      // text and json fields: analyzer name ("default" unless given)
  IndexRecordOption record = IndexRecordOption::kBasic;
  bool fieldnorms = false;    // text and json fields: one-byte length norms for BM25
};

struct FieldEntry {
  uint16_t id = 0;
  std::string name;
  FieldType type = FieldType::kText;
  FieldOptions options;
};

class Schema {
 public:
  static constexpr size_t kMaxFields = 65000;

  // Parses and validates; throws Error(kSchema) naming the field and the problem.
  static Schema from_json(std::string_view json);
  std::string to_json() const;

  // Builder API: returns the new field's id; throws kSchema on a duplicate or bad name.
  uint16_t add_field(std::string name, FieldType type, FieldOptions options);
  // Custom analyzers: name -> JSON definition (validated by the analysis module).
  void add_analyzer(std::string name, std::string json_definition);

  const FieldEntry* find(std::string_view name) const;
  const FieldEntry& field(uint16_t id) const { return fields_.at(id); }
  const std::vector<FieldEntry>& fields() const { return fields_; }
  size_t num_fields() const { return fields_.size(); }
  const std::map<std::string, std::string>& analyzers() const { return analyzers_; }

  bool operator==(const Schema& o) const { return to_json() == o.to_json(); }
  // True when some field is of type json (such schemas need format version 2 to be read).
  bool has_json_field() const;

 private:
  std::vector<FieldEntry> fields_;
  std::map<std::string, std::string> analyzers_;
};

}  // namespace needle

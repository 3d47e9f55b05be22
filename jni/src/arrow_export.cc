#include "arrow_export.h"

#include <cstring>
#include <limits>
#include <set>
#include <variant>

#include "needle/common/error.h"
#include "needle/schema/value.h"

namespace needle::jni {
namespace {

// One array (or schema node) being produced.
struct Node {
  std::string format;
  std::string name;
  int64_t flags = ARROW_FLAG_NULLABLE;
  int64_t length = 0;
  int64_t null_count = 0;
  std::vector<std::vector<uint8_t>> buffers;
  std::vector<std::unique_ptr<Node>> children;
};

// ---- ArrowSchema export: each node owns its strings and its children's structures. ----

struct SchemaPrivate {
  std::string format, name;
  std::vector<std::unique_ptr<ArrowSchema>> child_structs;
  std::vector<ArrowSchema*> child_ptrs;
};

void release_schema(ArrowSchema* s) {
  if (s == nullptr || s->release == nullptr) return;
  auto* p = static_cast<SchemaPrivate*>(s->private_data);
  for (ArrowSchema* c : p->child_ptrs) {
    if (c->release != nullptr) c->release(c);  // children moved away by the consumer are skipped
  }
  delete p;
  s->release = nullptr;
  s->private_data = nullptr;
}

void fill_schema(const Node& n, ArrowSchema* out) {
  auto p = std::make_unique<SchemaPrivate>();
  p->format = n.format;
  p->name = n.name;
  for (const auto& c : n.children) {
    auto cs = std::make_unique<ArrowSchema>();
    std::memset(cs.get(), 0, sizeof(ArrowSchema));
    fill_schema(*c, cs.get());
    p->child_ptrs.push_back(cs.get());
    p->child_structs.push_back(std::move(cs));
  }
  out->format = p->format.c_str();
  out->name = p->name.c_str();
  out->metadata = nullptr;
  out->flags = n.flags;
  out->n_children = static_cast<int64_t>(p->child_ptrs.size());
  out->children = p->child_ptrs.empty() ? nullptr : p->child_ptrs.data();
  out->dictionary = nullptr;
  out->release = &release_schema;
  out->private_data = p.release();
}

// ---- ArrowArray export: each node owns its buffers and its children's structures. ----

struct ArrayPrivate {
  std::vector<std::vector<uint8_t>> buffers;
  std::vector<const void*> buffer_ptrs;
  std::vector<std::unique_ptr<ArrowArray>> child_structs;
  std::vector<ArrowArray*> child_ptrs;
};

void release_array(ArrowArray* a) {
  if (a == nullptr || a->release == nullptr) return;
  auto* p = static_cast<ArrayPrivate*>(a->private_data);
  for (ArrowArray* c : p->child_ptrs) {
    if (c->release != nullptr) c->release(c);
  }
  delete p;
  a->release = nullptr;
  a->private_data = nullptr;
}

void fill_array(Node& n, ArrowArray* out) {
  auto p = std::make_unique<ArrayPrivate>();
  p->buffers = std::move(n.buffers);
  for (auto& b : p->buffers) {
    if (b.empty()) b.resize(8, 0);  // never hand out a null or dangling pointer
    p->buffer_ptrs.push_back(b.data());
  }
  for (auto& c : n.children) {
    auto ca = std::make_unique<ArrowArray>();
    std::memset(ca.get(), 0, sizeof(ArrowArray));
    fill_array(*c, ca.get());
    p->child_ptrs.push_back(ca.get());
    p->child_structs.push_back(std::move(ca));
  }
  out->length = n.length;
  out->null_count = n.null_count;
  out->offset = 0;
  out->n_buffers = static_cast<int64_t>(p->buffer_ptrs.size());
  out->n_children = static_cast<int64_t>(p->child_ptrs.size());
  out->buffers = p->buffer_ptrs.empty() ? nullptr : p->buffer_ptrs.data();
  out->children = p->child_ptrs.empty() ? nullptr : p->child_ptrs.data();
  out->dictionary = nullptr;
  out->release = &release_array;
  out->private_data = p.release();
}

std::string arrow_format(FieldType t) {
  switch (t) {
    case FieldType::kText:
    case FieldType::kString:
    case FieldType::kIp:
    case FieldType::kJson: return "u";
    case FieldType::kI64: return "l";
    case FieldType::kU64: return "L";
    case FieldType::kF64: return "g";
    case FieldType::kBool: return "b";
    case FieldType::kTimestamp: return "tsu:UTC";
    case FieldType::kBytes: return "z";
  }
  return "u";
}

std::string column_format(const ExportColumn& c) {
  switch (c.source) {
    case ExportColumn::Source::kScore: return "f";
    case ExportColumn::Source::kDoc: return "l";
    case ExportColumn::Source::kField: return arrow_format(c.type);
  }
  return "u";
}

std::unique_ptr<Node> schema_node(const ExportColumn& c) {
  auto n = std::make_unique<Node>();
  n->name = c.name;
  if (c.list) {
    n->format = "+l";
    auto item = std::make_unique<Node>();
    item->name = "item";
    item->format = column_format(c);
    n->children.push_back(std::move(item));
  } else {
    n->format = column_format(c);
  }
  return n;
}

void set_bit(std::vector<uint8_t>& bits, int64_t i, bool v) {
  if (static_cast<size_t>(i >> 3) >= bits.size()) bits.push_back(0);
  if (v) bits[static_cast<size_t>(i >> 3)] |= static_cast<uint8_t>(1u << (i & 7));
}

template <class T>
void put(std::vector<uint8_t>& buf, T v) {
  size_t at = buf.size();
  buf.resize(at + sizeof(T));
  std::memcpy(buf.data() + at, &v, sizeof(T));
}

}  // namespace

// The values of one Arrow array: validity, then per type an offsets+data pair, fixed-width data
// or bits.
class BatchBuilder::Values {
 public:
  Values(std::string format, bool var) : format_(std::move(format)), var_(var) {
    if (var_) put<int32_t>(offsets_, 0);
  }

  void append_null() {
    set_bit(validity_, length_, false);
    ++nulls_;
    if (format_ == "b") set_bit(data_, length_, false);
    else if (var_) put<int32_t>(offsets_, static_cast<int32_t>(data_.size()));
    else data_.resize(data_.size() + width());
    ++length_;
  }
  void append_f32(float v) { valid(); put(data_, v); ++length_; }
  void append_i64(int64_t v) { valid(); put(data_, v); ++length_; }
  void append_value(const Value& v) {
    valid();
    if (const auto* s = std::get_if<std::string>(&v)) append_bytes(s->data(), s->size());
    else if (const auto* i = std::get_if<int64_t>(&v)) put(data_, *i);
    else if (const auto* u = std::get_if<uint64_t>(&v)) put(data_, *u);
    else if (const auto* d = std::get_if<double>(&v)) put(data_, *d);
    else if (const auto* b = std::get_if<bool>(&v)) set_bit(data_, length_, *b);
    else if (const auto* t = std::get_if<Timestamp>(&v)) put(data_, t->micros);
    else if (const auto* by = std::get_if<BytesValue>(&v)) append_bytes(by->data.data(), by->data.size());
    else if (const auto* ip = std::get_if<IpAddr>(&v)) {
      std::string s = format_ip(*ip);
      append_bytes(s.data(), s.size());
    } else if (const auto* js = std::get_if<JsonValue>(&v)) {
      append_bytes(js->json.data(), js->json.size());
    }
    ++length_;
  }
  int64_t length() const { return length_; }
  size_t var_bytes() const { return var_ ? data_.size() : 0; }

  std::unique_ptr<Node> finish(const std::string& name) {
    auto n = std::make_unique<Node>();
    n->format = format_;
    n->name = name;
    n->length = length_;
    n->null_count = nulls_;
    n->buffers.push_back(std::move(validity_));
    if (var_) n->buffers.push_back(std::move(offsets_));
    n->buffers.push_back(std::move(data_));
    return n;
  }

 private:
  size_t width() const { return format_ == "f" ? 4 : 8; }
  void valid() { set_bit(validity_, length_, true); }
  void append_bytes(const void* p, size_t n) {
    if (data_.size() + n > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
      throw_error(ErrorCode::kResourceExhausted, "arrow export: more than 2 GiB of data in one column of one batch");
    }
    const size_t at = data_.size();
    data_.resize(at + n);
    if (n > 0) std::memcpy(data_.data() + at, p, n);
    put<int32_t>(offsets_, static_cast<int32_t>(data_.size()));
  }

  std::string format_;
  bool var_;
  std::vector<uint8_t> validity_, offsets_, data_;
  int64_t length_ = 0, nulls_ = 0;
};

struct BatchBuilder::ColumnState {
  std::unique_ptr<Values> values;
  // list columns
  std::vector<uint8_t> list_validity, list_offsets;
  int64_t list_nulls = 0;
};

std::vector<ExportColumn> resolve_columns(const Schema& schema, const std::vector<std::string>& names,
                                          const std::vector<bool>& lists) {
  std::vector<ExportColumn> out;
  std::set<std::string> seen;
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string& name = names[i];
    if (!seen.insert(name).second) throw_error(ErrorCode::kInvalidArgument, "column '" + name + "' is requested twice");
    ExportColumn c;
    c.name = name;
    if (name == kScoreColumn) {
      c.source = ExportColumn::Source::kScore;
    } else if (name == kDocColumn) {
      c.source = ExportColumn::Source::kDoc;
    } else {
      const FieldEntry* f = schema.find(name);
      if (f == nullptr) throw_error(ErrorCode::kInvalidArgument, "column '" + name + "' is not a field of the schema");
      if (!f->options.stored) {
        throw_error(ErrorCode::kInvalidArgument, "column '" + name + "': the field is not stored, so it cannot be read back");
      }
      c.source = ExportColumn::Source::kField;
      c.field = f->id;
      c.type = f->type;
      c.list = i < lists.size() && lists[i];
    }
    out.push_back(std::move(c));
  }
  return out;
}

void export_batch_schema(const std::vector<ExportColumn>& columns, ArrowSchema* out) {
  Node root;
  root.format = "+s";
  root.flags = 0;
  for (const auto& c : columns) root.children.push_back(schema_node(c));
  fill_schema(root, out);
}

BatchBuilder::BatchBuilder(const std::vector<ExportColumn>& columns) : columns_(columns) { reset(); }
BatchBuilder::~BatchBuilder() = default;

void BatchBuilder::reset() {
  state_.clear();
  for (const auto& c : columns_) {
    auto st = std::make_unique<ColumnState>();
    const std::string fmt = column_format(c);
    st->values = std::make_unique<Values>(fmt, fmt == "u" || fmt == "z");
    if (c.list) put<int32_t>(st->list_offsets, 0);
    state_.push_back(std::move(st));
  }
  rows_ = 0;
}

size_t BatchBuilder::var_bytes() const {
  size_t n = 0;
  for (const auto& st : state_) n = std::max(n, st->values->var_bytes());
  return n;
}

void BatchBuilder::add_row(const Hit& hit, const Document* doc) {
  for (size_t ci = 0; ci < columns_.size(); ++ci) {
    const ExportColumn& c = columns_[ci];
    ColumnState& st = *state_[ci];
    if (c.source == ExportColumn::Source::kScore) {
      st.values->append_f32(hit.score);
      continue;
    }
    if (c.source == ExportColumn::Source::kDoc) {
      st.values->append_i64(static_cast<int64_t>(hit.global_doc));
      continue;
    }
    scratch_.clear();
    if (doc != nullptr) {
      for (const auto& fv : doc->values) {
        if (fv.field == c.field) scratch_.push_back(&fv.value);
      }
    }
    if (c.list) {
      // A document without values gets null (not an empty list): the field is absent.
      set_bit(st.list_validity, rows_, !scratch_.empty());
      if (scratch_.empty()) ++st.list_nulls;
      for (const Value* v : scratch_) st.values->append_value(*v);
      if (st.values->length() > std::numeric_limits<int32_t>::max()) {
        throw_error(ErrorCode::kResourceExhausted, "arrow export: too many list values in one batch");
      }
      put<int32_t>(st.list_offsets, static_cast<int32_t>(st.values->length()));
    } else if (scratch_.empty()) {
      st.values->append_null();
    } else if (scratch_.size() == 1) {
      st.values->append_value(*scratch_[0]);
    } else {
      throw_error(ErrorCode::kInvalidArgument, "column '" + c.name + "': document " + std::to_string(hit.global_doc) +
                                                   " has " + std::to_string(scratch_.size()) +
                                                   " values; ask for the column as a list");
    }
  }
  ++rows_;
}

void BatchBuilder::finish(ArrowArray* out) {
  Node root;
  root.format = "+s";
  root.flags = 0;
  root.length = rows_;
  root.null_count = 0;
  std::vector<uint8_t> all_valid;
  for (int64_t i = 0; i < rows_; ++i) set_bit(all_valid, i, true);
  root.buffers.push_back(std::move(all_valid));
  for (size_t ci = 0; ci < columns_.size(); ++ci) {
    const ExportColumn& c = columns_[ci];
    ColumnState& st = *state_[ci];
    if (c.list) {
      auto list = std::make_unique<Node>();
      list->format = "+l";
      list->name = c.name;
      list->length = rows_;
      list->null_count = st.list_nulls;
      list->buffers.push_back(std::move(st.list_validity));
      list->buffers.push_back(std::move(st.list_offsets));
      list->children.push_back(st.values->finish("item"));
      root.children.push_back(std::move(list));
    } else {
      root.children.push_back(st.values->finish(c.name));
    }
  }
  fill_array(root, out);
  reset();
}

}  // namespace needle::jni

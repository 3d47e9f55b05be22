#include <algorithm>

#include "needle/codec/fieldnorm.h"
#include "needle/index/segment.h"
#include "needle/schema/json.h"
#include "needle/termdict/termdict.h"
#include "segment_files.h"
#include "term_table.h"

namespace needle {

namespace {

// The in-memory postings of one term: a vint stream of
//   doc delta, then (kFreq) the term frequency when the doc closes, or (kPosition) position
//   deltas + 1 closed by a 0.
struct TermBuf {
  std::vector<uint8_t> data;
  uint32_t last_doc = UINT32_MAX;
  uint32_t cur_tf = 0;
  uint32_t last_pos = 0;
  uint32_t doc_freq = 0;
  IndexRecordOption option = IndexRecordOption::kBasic;
};

inline void put_vint(std::vector<uint8_t>& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<uint8_t>(v) | 0x80);
    v >>= 7;
  }
  out.push_back(static_cast<uint8_t>(v));
}

inline uint32_t get_vint(const uint8_t*& p) {
  uint32_t v = 0;
  int shift = 0;
  while (*p & 0x80) {
    v |= static_cast<uint32_t>(*p++ & 0x7f) << shift;
    shift += 7;
  }
  v |= static_cast<uint32_t>(*p++) << shift;
  return v;
}

void close_doc(TermBuf& t) {
  if (t.last_doc == UINT32_MAX) return;
  if (t.option == IndexRecordOption::kFreq) put_vint(t.data, t.cur_tf);
  if (t.option == IndexRecordOption::kPosition) t.data.push_back(0);
}

constexpr size_t kEntryOverhead = sizeof(TermBuf);  // per term, beside its key and postings

}  // namespace

struct SegmentWriter::Impl {
  const Schema& schema;
  WriterOptions options;
  std::vector<std::shared_ptr<const Analyzer>> analyzers;  // per field (text only)
  TermTable table;             // term key -> term number
  std::vector<TermBuf> terms;  // by term number
  std::vector<std::vector<uint8_t>> norms;  // per field (text with norms), one byte per doc
  std::vector<FieldStats> stats;
  DocStoreWriter store;
  size_t memory = 0;
  // scratch
  std::vector<Token> tokens;
  std::string key;
  std::vector<uint32_t> token_counts;
  std::vector<uint32_t> next_pos;
  std::vector<uint8_t> seen;
  JsonFlattener flattener;
  std::vector<std::vector<JsonLeaf>> json_leaves;  // per value of the document (json values only)

  Impl(const Schema& s, const AnalyzerRegistry& reg, WriterOptions o)
      : schema(s),
        options(o),
        analyzers(s.num_fields()),
        norms(s.num_fields()),
        stats(s.num_fields()),
        store(o.store_compression, o.store_block_size, o.zstd_level),
        token_counts(s.num_fields()),
        next_pos(s.num_fields()),
        seen(s.num_fields()) {
    for (const auto& f : s.fields()) {
      if (is_analyzed(f.type) && f.options.indexed) analyzers[f.id] = reg.get(f.options.tokenizer);
    }
    terms.reserve(1 << 16);
  }

  void add_occurrence(uint32_t doc, uint32_t pos, IndexRecordOption option) {
    bool inserted;
    const uint32_t index = table.find_or_insert(key, inserted);
    if (inserted) {
      terms.emplace_back();
      terms.back().option = option;
      memory += kEntryOverhead;
    }
    TermBuf& t = terms[index];
    size_t before = t.data.capacity();
    if (t.last_doc != doc) {
      close_doc(t);
      put_vint(t.data, t.last_doc == UINT32_MAX ? doc : doc - t.last_doc);
      t.last_doc = doc;
      t.cur_tf = 0;
      t.last_pos = 0;
      t.doc_freq++;
    }
    t.cur_tf++;
    if (option == IndexRecordOption::kPosition) {
      put_vint(t.data, pos - t.last_pos + 1);
      t.last_pos = pos;
    }
    memory += t.data.capacity() - before;
  }

  void set_key(uint16_t field, std::string_view term) {
    key.clear();
    key.push_back(static_cast<char>(field >> 8));
    key.push_back(static_cast<char>(field & 0xff));
    key.append(term);
  }
};

void validate_document(const Schema& schema, const Document& doc) {
  for (const auto& fv : doc.values) {
    const FieldEntry& f = schema.field(fv.field);
    if (f.type == FieldType::kJson) {
      // Documents made in code (or from Arrow) may hold any text: check it here, where the
      // caller sees the error, rather than in a writer thread.
      thread_local JsonFlattener flattener;
      thread_local std::vector<JsonLeaf> leaves;
      leaves.clear();
      flattener.flatten(f, std::get<JsonValue>(fv.value).json, leaves);
      continue;
    }
    if (!f.options.indexed) continue;
    size_t len = 0;
    if (f.type == FieldType::kString) len = std::get<std::string>(fv.value).size();
    if (f.type == FieldType::kBytes) len = std::get<BytesValue>(fv.value).data.size();
    if (len > kMaxTermBytes) {
      throw_error(ErrorCode::kDocument,
                  "field '" + f.name + "': a value of " + std::to_string(len) +
                      " bytes is too long to index as one term (limit " +
                      std::to_string(kMaxTermBytes) + "); make the field text, or not indexed");
    }
  }
}

SegmentWriter::SegmentWriter(const Schema& schema, const AnalyzerRegistry& analyzers,
                             WriterOptions options)
    : impl_(std::make_unique<Impl>(schema, analyzers, options)) {}

SegmentWriter::~SegmentWriter() = default;

size_t SegmentWriter::memory_usage() const {
  return impl_->memory + impl_->table.memory_usage() + impl_->terms.capacity() * sizeof(TermBuf) +
         impl_->store.memory_usage() + opstamps_.capacity() * 8 +
         num_docs_ * impl_->schema.num_fields();
}

void SegmentWriter::add_document(const Document& doc, uint64_t opstamp) {
  Impl& m = *impl_;
  const Schema& schema = m.schema;
  validate_document(schema, doc);  // a rejected document leaves the segment unchanged
  if (m.json_leaves.size() < doc.values.size()) m.json_leaves.resize(doc.values.size());
  for (size_t i = 0; i < doc.values.size(); ++i) {
    m.json_leaves[i].clear();
    const FieldEntry& f = schema.field(doc.values[i].field);
    if (f.type == FieldType::kJson) m.flattener.flatten(f, std::get<JsonValue>(doc.values[i].value).json, m.json_leaves[i]);
  }
  const uint32_t doc_id = num_docs_;
  std::fill(m.token_counts.begin(), m.token_counts.end(), 0);
  std::fill(m.next_pos.begin(), m.next_pos.end(), 0);
  std::fill(m.seen.begin(), m.seen.end(), 0);
  for (size_t vi = 0; vi < doc.values.size(); ++vi) {
    const FieldValue& fv = doc.values[vi];
    const FieldEntry& f = schema.field(fv.field);
    m.seen[f.id] = 1;
    if (f.type == FieldType::kJson) {
      if (!f.options.indexed) continue;
      // One position counter per field: each leaf value starts kValuePositionGap past the last one,
      // so a phrase never spans two values; terms of different paths differ anyway.
      for (const JsonLeaf& leaf : m.json_leaves[vi]) {
        if (leaf.type != JsonType::kString) {
          m.set_key(f.id, json_term_prefix(leaf.path, leaf.type) + leaf.value);
          m.add_occurrence(doc_id, m.next_pos[f.id], f.options.record);
          m.next_pos[f.id] += 1 + kValuePositionGap;
          continue;
        }
        m.analyzers[f.id]->analyze(leaf.value, m.tokens);
        const std::string prefix = json_term_prefix(leaf.path, JsonType::kString);
        uint32_t base = m.next_pos[f.id];
        uint32_t last = base;
        for (const Token& tok : m.tokens) {
          m.set_key(f.id, prefix);
          m.key.append(tok.text);
          uint32_t pos = base + tok.position;
          m.add_occurrence(doc_id, pos, f.options.record);
          last = pos;
        }
        if (!m.tokens.empty()) m.next_pos[f.id] = last + 1 + kValuePositionGap;
        m.token_counts[f.id] += static_cast<uint32_t>(m.tokens.size());
      }
      continue;
    }
    if (f.type != FieldType::kText) {
      std::string term = encode_term_value(f.type, fv.value);
      FieldStats& st = m.stats[f.id];
      if (!st.has_minmax) {
        st.has_minmax = true;
        st.min_term = term;
        st.max_term = term;
      } else {
        if (term < st.min_term) st.min_term = term;
        if (term > st.max_term) st.max_term = term;
      }
      if (f.options.indexed) {
        m.set_key(f.id, term);
        m.add_occurrence(doc_id, 0, f.options.record);
      }
      continue;
    }
    if (!f.options.indexed) continue;
    m.analyzers[f.id]->analyze(std::get<std::string>(fv.value), m.tokens);
    uint32_t base = m.next_pos[f.id];
    uint32_t last = base;
    for (const Token& tok : m.tokens) {
      m.set_key(f.id, tok.text);
      uint32_t pos = base + tok.position;
      m.add_occurrence(doc_id, pos, f.options.record);
      last = pos;
    }
    if (!m.tokens.empty()) m.next_pos[f.id] = last + 1 + kValuePositionGap;
    m.token_counts[f.id] += static_cast<uint32_t>(m.tokens.size());
  }
  for (const auto& f : schema.fields()) {
    if (segment_files::has_norms(f)) {
      uint8_t id = fieldnorm_to_id(m.token_counts[f.id]);
      m.norms[f.id].push_back(id);
      m.stats[f.id].total_norm += id_to_fieldnorm(id);
    }
    if (m.seen[f.id]) {
      m.stats[f.id].docs_with_value++;
      m.key = exists_key(f.id);
      m.add_occurrence(doc_id, 0, IndexRecordOption::kBasic);
    }
  }
  m.store.add(encode_stored(schema, doc));
  opstamps_.push_back(opstamp);
  ++num_docs_;
}

SegmentMeta SegmentWriter::serialize(Directory& dir, const std::string& id) {
  Impl& m = *impl_;
  SegmentMeta meta;
  meta.id = id;
  meta.max_doc = num_docs_;
  meta.fields = m.stats;

  // Term numbers in key order.
  std::vector<uint32_t> sorted(m.terms.size());
  for (uint32_t i = 0; i < sorted.size(); ++i) {
    close_doc(m.terms[i]);
    sorted[i] = i;
  }
  std::sort(sorted.begin(), sorted.end(),
            [&m](uint32_t a, uint32_t b) { return m.table.key(a) < m.table.key(b); });

  segment_files::SegmentFilesWriter files(dir, id);
  std::vector<uint32_t> positions;
  for (uint32_t index : sorted) {
    TermBuf* t = &m.terms[index];
    const std::string_view key = m.table.key(index);
    uint16_t field = segment_files::key_field(key);
    const std::vector<uint8_t>* norms =
        field < m.norms.size() && !m.norms[field].empty() ? &m.norms[field] : nullptr;
    PostingsSerializer& ser = files.start_term(t->option);
    const uint8_t* p = t->data.data();
    const uint8_t* end = p + t->data.size();
    uint32_t doc = 0;
    bool first = true;
    while (p < end) {
      uint32_t delta = get_vint(p);
      doc = first ? delta : doc + delta;
      first = false;
      uint32_t tf = 1;
      positions.clear();
      if (t->option == IndexRecordOption::kFreq) {
        tf = get_vint(p);
      } else if (t->option == IndexRecordOption::kPosition) {
        uint32_t last = 0;
        for (uint32_t d; (d = get_vint(p)) != 0;) {
          last = last + d - 1;
          positions.push_back(last);
        }
        tf = static_cast<uint32_t>(positions.size());
      }
      ser.write_doc(doc, tf, positions, norms ? (*norms)[doc] : 0);
    }
    files.finish_term(key);
    // release memory as we go
    std::vector<uint8_t>().swap(t->data);
  }
  m.terms.clear();
  m.terms.shrink_to_fit();
  files.finish(meta, m.schema, m.norms);
  dir.write_file(meta.file(kStoreExt), m.store.finish());
  return meta;
}

}  // namespace needle

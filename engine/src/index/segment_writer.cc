#include <algorithm>
#include <cstring>

#include "needle/codec/fieldnorm.h"
#include "needle/index/segment.h"
#include "needle/schema/json.h"
#include "needle/termdict/termdict.h"
#include "segment_files.h"
#include "term_table.h"

namespace needle {

namespace {

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

// Ends the open doc of a term, if any: its frequency (kFreq) or the 0 after its positions
// (kPosition). Needs 5 free bytes.
void end_doc(TermEntry& t) {
  if (t.last_doc == UINT32_MAX) return;
  const auto option = static_cast<IndexRecordOption>(t.option);
  if (option == IndexRecordOption::kFreq) t.postings.put_vint(t.cur_tf);
  if (option == IndexRecordOption::kPosition) t.postings.put_byte(0);
}

// How far ahead of the token being added the writer prefetches a token's slot and its entry.
constexpr size_t kPrefetchSlot = 16;
constexpr size_t kPrefetchEntry = 8;
constexpr size_t kPrefetchPostings = 4;

}  // namespace

struct SegmentWriter::Impl {
  const Schema& schema;
  WriterOptions options;
  std::vector<std::shared_ptr<const Analyzer>> analyzers;  // per field (text only)
  TermTable table;             // term key -> term number and in-memory postings
  std::vector<std::vector<uint8_t>> norms;  // per field (text with norms), one byte per doc
  std::vector<FieldStats> stats;
  DocStoreWriter store;
  size_t memory = 0;
  // scratch
  std::vector<Token> tokens;
  std::string key;
  std::string key_prefix;              // the field's two bytes and a json path prefix
  TermBatch batch;                     // the terms of one value
  std::vector<uint64_t> batch_hashes;  // TermTable::hash of each of its keys
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
  }

  void add_occurrence(std::string_view term_key, uint64_t hash, uint32_t doc, uint32_t pos,
                      IndexRecordOption option) {
    bool inserted;
    TermEntry& t = table.find_or_insert(term_key, hash, inserted);
    if (inserted) t.option = static_cast<uint8_t>(option);
    if (t.last_doc != doc) {
      // the previous doc's end (up to 5 bytes), the doc delta (5) and a position (5)
      memory += t.postings.reserve_more(15);
      end_doc(t);
      t.postings.put_vint(t.last_doc == UINT32_MAX ? doc : doc - t.last_doc);
      t.last_doc = doc;
      t.cur_tf = 0;
      t.last_pos = 0;
      t.doc_freq++;
    } else if (option == IndexRecordOption::kPosition) {
      memory += t.postings.reserve_more(5);
    }
    t.cur_tf++;
    if (option == IndexRecordOption::kPosition) {
      t.postings.put_vint(pos - t.last_pos + 1);
      t.last_pos = pos;
    }
  }
  void add_occurrence(uint32_t doc, uint32_t pos, IndexRecordOption option) {
    add_occurrence(key, TermTable::hash(key), doc, pos, option);
  }

  // Analyzes one value of field `field` into its terms (keys: the field's two bytes, `prefix`,
  // the token text) and adds them at positions from `base`: the keys are hashed first, so each
  // token's slot and entry can be prefetched some tokens ahead of its insertion. Returns the
  // number of tokens and sets `last` to the last position used.
  size_t add_text(uint16_t field, std::string_view prefix, std::string_view text, uint32_t doc, uint32_t base,
                  IndexRecordOption option, uint32_t& last) {
    key_prefix.clear();
    key_prefix.push_back(static_cast<char>(field >> 8));
    key_prefix.push_back(static_cast<char>(field & 0xff));
    key_prefix.append(prefix);
    batch.clear();
    const Analyzer& analyzer = *analyzers[field];
    if (!analyzer.analyze_terms(text, key_prefix, batch)) {
      analyzer.analyze(text, tokens);
      for (const Token& tok : tokens) {
        std::memcpy(batch.append_key(key_prefix, tok.text.size()), tok.text.data(), tok.text.size());
        batch.positions.push_back(tok.position);
      }
    }
    const size_t n = batch.size();
    batch_hashes.resize(n);
    for (size_t i = 0; i < n; ++i) batch_hashes[i] = TermTable::hash(batch.key(i));
    for (size_t i = 0; i < n && i < kPrefetchSlot; ++i) table.prefetch_slot(batch_hashes[i]);
    last = base;
    size_t start = 0;
    for (size_t i = 0; i < n; ++i) {
      if (i + kPrefetchSlot < n) table.prefetch_slot(batch_hashes[i + kPrefetchSlot]);
      if (i + kPrefetchEntry < n) table.prefetch_entry(batch_hashes[i + kPrefetchEntry]);
      if (i + kPrefetchPostings < n) table.prefetch_postings(batch_hashes[i + kPrefetchPostings]);
      const std::string_view term_key(batch.keys.data() + start, batch.ends[i] - start);
      start = batch.ends[i];
      last = base + batch.positions[i];
      add_occurrence(term_key, batch_hashes[i], doc, last, option);
    }
    return n;
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
  return impl_->memory + impl_->table.memory_usage() +
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
        uint32_t last;
        const size_t n = m.add_text(f.id, json_term_prefix(leaf.path, JsonType::kString), leaf.value, doc_id,
                                    m.next_pos[f.id], f.options.record, last);
        if (n > 0) m.next_pos[f.id] = last + 1 + kValuePositionGap;
        m.token_counts[f.id] += static_cast<uint32_t>(n);
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
    uint32_t last;
    const size_t n = m.add_text(f.id, {}, std::get<std::string>(fv.value), doc_id, m.next_pos[f.id],
                                f.options.record, last);
    if (n > 0) m.next_pos[f.id] = last + 1 + kValuePositionGap;
    m.token_counts[f.id] += static_cast<uint32_t>(n);
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
  // Sorted on each key's first 8 bytes as a big-endian number first, so most comparisons touch
  // neither the entries nor the keys.
  struct ByKey {
    uint64_t head;
    uint32_t index;
  };
  std::vector<ByKey> by_key(m.table.size());
  for (uint32_t i = 0; i < by_key.size(); ++i) {
    TermEntry& t = m.table.entry(i);
    m.memory += t.postings.reserve_more(5);
    end_doc(t);
    const std::string_view k = m.table.key(i);
    uint64_t head = 0;
    for (size_t j = 0; j < 8; ++j) head = (head << 8) | (j < k.size() ? static_cast<uint8_t>(k[j]) : 0);
    by_key[i] = ByKey{head, i};
  }
  std::sort(by_key.begin(), by_key.end(), [&m](const ByKey& a, const ByKey& b) {
    // Equal heads: the keys share their first 8 bytes, or one is a shorter key padded with 0s.
    if (a.head != b.head) return a.head < b.head;
    return m.table.key(a.index) < m.table.key(b.index);
  });
  std::vector<uint32_t> sorted(by_key.size());
  for (size_t i = 0; i < by_key.size(); ++i) sorted[i] = by_key[i].index;
  std::vector<ByKey>().swap(by_key);

  segment_files::SegmentFilesWriter files(dir, id);
  std::vector<uint32_t> positions;
  for (uint32_t index : sorted) {
    TermEntry* t = &m.table.entry(index);
    const std::string_view key = m.table.key(index);
    const auto option = static_cast<IndexRecordOption>(t->option);
    uint16_t field = segment_files::key_field(key);
    const std::vector<uint8_t>* norms =
        field < m.norms.size() && !m.norms[field].empty() ? &m.norms[field] : nullptr;
    PostingsSerializer& ser = files.start_term(option);
    const uint8_t* p = t->postings.data;
    const uint8_t* end = p + t->postings.size;
    uint32_t doc = 0;
    bool first = true;
    while (p < end) {
      uint32_t delta = get_vint(p);
      doc = first ? delta : doc + delta;
      first = false;
      uint32_t tf = 1;
      positions.clear();
      if (option == IndexRecordOption::kFreq) {
        tf = get_vint(p);
      } else if (option == IndexRecordOption::kPosition) {
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
    t->postings.release();
  }
  m.table.clear();
  files.finish(meta, m.schema, m.norms);
  dir.write_file(meta.file(kStoreExt), m.store.finish());
  return meta;
}

}  // namespace needle

#include <algorithm>
#include <queue>

#include "needle/codec/fieldnorm.h"
#include "needle/index/segment.h"
#include "segment_files.h"

namespace needle {

SegmentMeta merge_segments(const std::vector<std::shared_ptr<SegmentReader>>& sources,
                           const Schema& schema, Directory& dir, const std::string& id,
                           const WriterOptions& options) {
  SegmentMeta meta;
  meta.id = id;
  meta.fields.assign(schema.num_fields(), FieldStats{});

  // Old doc id -> new doc id, per source (UINT32_MAX: deleted).
  std::vector<std::vector<uint32_t>> doc_map(sources.size());
  uint32_t next = 0;
  for (size_t s = 0; s < sources.size(); ++s) {
    const auto& src = *sources[s];
    doc_map[s].resize(src.max_doc());
    for (uint32_t d = 0; d < src.max_doc(); ++d) doc_map[s][d] = src.is_deleted(d) ? UINT32_MAX : next++;
  }
  meta.max_doc = next;

  // Norms of the merged segment, and min/max bounds.
  std::vector<std::vector<uint8_t>> norms(schema.num_fields());
  for (const auto& f : schema.fields()) {
    bool with_norms = segment_files::has_norms(f);
    if (with_norms) norms[f.id].reserve(meta.max_doc);
    for (size_t s = 0; s < sources.size(); ++s) {
      const auto& st = sources[s]->field_stats(f.id);
      auto& out = meta.fields[f.id];
      if (st.has_minmax && sources[s]->num_alive() > 0) {
        if (!out.has_minmax) {
          out.has_minmax = true;
          out.min_term = st.min_term;
          out.max_term = st.max_term;
        } else {
          out.min_term = std::min(out.min_term, st.min_term);
          out.max_term = std::max(out.max_term, st.max_term);
        }
      }
      if (!with_norms) continue;
      const auto& src_norms = sources[s]->norms(f.id);
      if (src_norms.size() != sources[s]->max_doc()) throw_corrupt(sources[s]->meta().id, "missing norms for field '" + f.name + "'");
      for (uint32_t d = 0; d < src_norms.size(); ++d) {
        if (doc_map[s][d] != UINT32_MAX) {
          norms[f.id].push_back(src_norms[d]);
          meta.fields[f.id].total_norm += id_to_fieldnorm(src_norms[d]);
        }
      }
    }
  }

  // K-way merge of the term dictionaries.
  std::vector<TermStream> streams;
  streams.reserve(sources.size());
  for (const auto& src : sources) streams.push_back(src->terms().range(std::nullopt, std::nullopt));
  using Item = std::pair<std::string, size_t>;
  std::priority_queue<Item, std::vector<Item>, std::greater<Item>> heap;
  for (size_t s = 0; s < streams.size(); ++s) {
    if (streams[s].next()) heap.emplace(std::string(streams[s].key()), s);
  }

  segment_files::SegmentFilesWriter files(dir, id);
  struct Occ {
    uint32_t doc, tf;
    size_t pos_start;
  };
  std::vector<Occ> occs;
  std::vector<uint32_t> all_positions, tmp_positions;
  const std::string exists_prefix = term_key(kExistsFieldId, "");

  while (!heap.empty()) {
    std::string key = heap.top().first;
    std::vector<size_t> holders;
    while (!heap.empty() && heap.top().first == key) {
      holders.push_back(heap.top().second);
      heap.pop();
    }
    std::sort(holders.begin(), holders.end());
    if (key.size() < 2) throw_corrupt("term dictionary", "a key shorter than its field prefix");
    uint16_t field = segment_files::key_field(key);
    bool is_exists = key.compare(0, 2, exists_prefix) == 0;
    if (!is_exists && field >= schema.num_fields()) throw_corrupt("term dictionary", "a term of unknown field " + std::to_string(field));
    IndexRecordOption option = is_exists ? IndexRecordOption::kBasic : schema.field(field).options.record;
    occs.clear();
    all_positions.clear();
    for (size_t s : holders) {
      ByteReader vr(streams[s].value(), "term dictionary value");
      TermInfo ti = TermInfo::decode(vr);
      SegmentPostings p = sources[s]->postings(ti, option);
      for (uint32_t d = p.doc(); d != kTerminated; d = p.advance()) {
        if (d >= doc_map[s].size()) throw_corrupt(sources[s]->meta().id, "posting of doc " + std::to_string(d) + " past max_doc");
        uint32_t nd = doc_map[s][d];
        if (nd == UINT32_MAX) continue;
        size_t start = all_positions.size();
        if (option == IndexRecordOption::kPosition) {
          p.positions(tmp_positions);
          all_positions.insert(all_positions.end(), tmp_positions.begin(), tmp_positions.end());
        }
        occs.push_back(Occ{nd, p.term_freq(), start});
      }
      if (streams[s].next()) heap.emplace(std::string(streams[s].key()), s);
    }
    if (occs.empty()) continue;  // every document with this term was deleted
    if (is_exists) {
      uint16_t target = static_cast<uint16_t>(static_cast<uint8_t>(key[2]) << 8 | static_cast<uint8_t>(key[3]));
      if (key.size() != 4 || target >= schema.num_fields()) throw_corrupt("term dictionary", "bad exists key");
      meta.fields[target].docs_with_value = static_cast<uint32_t>(occs.size());
    }
    const std::vector<uint8_t>* fnorms = !is_exists && !norms[field].empty() ? &norms[field] : nullptr;
    PostingsSerializer& ser = files.start_term(option);
    for (size_t i = 0; i < occs.size(); ++i) {
      const Occ& o = occs[i];
      std::span<const uint32_t> ps;
      if (option == IndexRecordOption::kPosition) ps = std::span<const uint32_t>(all_positions.data() + o.pos_start, o.tf);
      ser.write_doc(o.doc, o.tf, ps, fnorms ? (*fnorms)[o.doc] : 0);
    }
    files.finish_term(key);
  }

  files.finish(meta, schema, norms);

  // The document store streams to its file as the merged blocks are made.
  auto store_out = dir.create(meta.file(kStoreExt));
  DocStoreWriter store(options.store_compression, options.store_block_size, options.zstd_level);
  store.set_sink([&store_out](std::span<const uint8_t> bytes) { store_out->write(bytes); });
  for (size_t s = 0; s < sources.size(); ++s) {
    const auto& src = *sources[s];
    if (!src.has_deletes()) {
      store.append_store(src.store());
    } else {
      for (uint32_t d = 0; d < src.max_doc(); ++d) {
        if (!src.is_deleted(d)) store.add(src.store().get(d));
      }
    }
  }
  store.finish();
  store_out->finish();
  return meta;
}

}  // namespace needle

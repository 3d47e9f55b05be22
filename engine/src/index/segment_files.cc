#include "segment_files.h"

#include "needle/codec/fieldnorm.h"

namespace needle {

namespace segment_files {

namespace {

void write_norms(Directory& dir, const std::string& name, uint32_t max_doc, const Schema& schema,
                 const std::vector<std::vector<uint8_t>>& norms) {
  // body: u32 max_doc | u16 count | count x u16 field id | count x max_doc bytes
  std::vector<uint16_t> fields;
  for (const auto& f : schema.fields()) {
    if (has_norms(f)) fields.push_back(f.id);
  }
  ByteWriter w = start_file(kNormsKind);
  w.u32(max_doc);
  w.u16(static_cast<uint16_t>(fields.size()));
  for (uint16_t fid : fields) w.u16(fid);
  for (uint16_t fid : fields) {
    if (norms.at(fid).size() != max_doc) {
      throw_error(ErrorCode::kInternal, "norms of field " + std::to_string(fid) + " have the wrong length");
    }
    w.bytes(norms[fid]);
  }
  finish_file(dir, name, w);
}

void write_info(Directory& dir, const std::string& name, uint32_t max_doc, const std::vector<FieldStats>& fields) {
  // body: u32 max_doc | u16 nfields | per field: u64 total_norm, u32 docs_with_value,
  //       u8 has_minmax, [str min, str max]
  ByteWriter w = start_file(kInfoKind);
  w.u32(max_doc);
  w.u16(static_cast<uint16_t>(fields.size()));
  for (const auto& f : fields) {
    w.u64(f.total_norm);
    w.u32(f.docs_with_value);
    w.u8(f.has_minmax ? 1 : 0);
    if (f.has_minmax) {
      w.str(f.min_term);
      w.str(f.max_term);
    }
  }
  finish_file(dir, name, w);
}

class TermInfoChain final : public ValueChain {
 public:
  TermInfoChain() : ValueChain(&skip) {}
  static bool skip(const uint8_t* p, const uint8_t* end, bool first, State& state) {
    TermInfo::Chain c{state.a, state.b};
    if (!TermInfo::skip_stored(p, end, first, c)) return false;
    state = State{c.postings_end, c.positions_end};
    return true;
  }
  bool encode(std::span<const uint8_t> value, bool first, State& state, ByteWriter& out) const override {
    ByteReader r(value, "term info");
    TermInfo ti = TermInfo::decode(r);
    if (!r.done()) throw_error(ErrorCode::kInternal, "term info: bytes after the value");
    TermInfo::Chain c{state.a, state.b};
    if (!ti.encode_stored(out, first, c)) return false;
    state = State{c.postings_end, c.positions_end};
    return true;
  }
  void decode(std::span<const uint8_t> stored, bool first, State& state,
              std::vector<uint8_t>* out) const override {
    TermInfo::Chain c{state.a, state.b};
    if (out == nullptr) {
      // Passed over: only the chain matters.
      if (!TermInfo::skip_stored(stored.data(), stored.data() + stored.size(), first, c)) {
        throw_corrupt("term dictionary value", "bad term info (" + std::to_string(stored.size()) + " bytes)");
      }
    } else {
      ByteReader r(stored, "term dictionary value");
      TermInfo ti = TermInfo::decode_stored(r, first, c);
      if (!r.done()) r.fail("bytes after the term info");
      out->clear();
      ByteWriter w(out);
      ti.encode(w);
    }
    state = State{c.postings_end, c.positions_end};
  }
};

}  // namespace

const ValueChain* term_info_chain() {
  static const TermInfoChain chain;
  return &chain;
}

StreamedFile::StreamedFile(Directory& dir, const std::string& name, uint32_t kind) : out_(dir.create(name)) {
  write_envelope_header(w_, kind, kSegmentFormatVersion);
}

void StreamedFile::spill() {
  sum_.update(w_.span());
  std::vector<uint8_t> bytes = w_.drain();
  out_->write(bytes);
}

void StreamedFile::maybe_spill() {
  if (w_.buffered() >= (1u << 20)) spill();
}

void StreamedFile::finish() {
  write_streamed_envelope_footer(w_, sum_);
  std::vector<uint8_t> bytes = w_.drain();
  out_->write(bytes);
  out_->finish();
}

SegmentFilesWriter::SegmentFilesWriter(Directory& dir, const std::string& segment_id)
    : dir_(dir),
      post_(dir, segment_id + "." + kPostingsExt, kPostingsKind),
      pos_(dir, segment_id + "." + kPositionsExt, kPositionsKind) {
  serializers_.reserve(3);
  for (auto opt : {IndexRecordOption::kBasic, IndexRecordOption::kFreq, IndexRecordOption::kPosition}) {
    serializers_.emplace_back(opt, &post_.writer(), &pos_.writer());
  }
}

PostingsSerializer& SegmentFilesWriter::start_term(IndexRecordOption option) {
  current_ = &serializers_.at(static_cast<size_t>(option));
  current_->new_term();
  return *current_;
}

void SegmentFilesWriter::finish_term(std::string_view key) {
  TermInfo info = current_->close_term();
  value_.buf().clear();
  info.encode(value_);
  dict_.insert(key, value_.span());
  current_ = nullptr;
  post_.maybe_spill();
  pos_.maybe_spill();
}

void SegmentFilesWriter::finish(const SegmentMeta& meta, const Schema& schema,
                                const std::vector<std::vector<uint8_t>>& norms) {
  dir_.write_file(meta.file(kTermExt), dict_.finish());
  post_.finish();
  pos_.finish();
  write_norms(dir_, meta.file(kNormsExt), meta.max_doc, schema, norms);
  write_info(dir_, meta.file(kInfoExt), meta.max_doc, meta.fields);
}

}  // namespace segment_files

std::vector<std::string> SegmentMeta::files() const {
  std::vector<std::string> out = {file(kTermExt),  file(kPostingsExt), file(kPositionsExt),
                                  file(kNormsExt), file(kStoreExt),    file(kInfoExt)};
  if (del_gen > 0) out.push_back(deletes_file());
  return out;
}

std::vector<FieldStats> read_segment_info(const FileSlice& file, const Schema& schema,
                                          uint32_t* max_doc) {
  Bytes all = file.read_all();
  auto env = open_envelope(all, segment_files::kInfoKind, kMinSegmentFormatVersion, kSegmentFormatVersion, file.name(), false);
  ByteReader r(env.body, file.name());
  *max_doc = r.u32();
  uint16_t n = r.u16();
  if (n != schema.num_fields()) r.fail("has " + std::to_string(n) + " fields, the schema " + std::to_string(schema.num_fields()));
  std::vector<FieldStats> out(n);
  for (auto& f : out) {
    f.total_norm = r.u64();
    f.docs_with_value = r.u32();
    if (f.docs_with_value > *max_doc) r.fail("docs_with_value exceeds max_doc");
    uint8_t mm = r.u8();
    if (mm > 1) r.fail("bad min/max flag");
    f.has_minmax = mm == 1;
    if (f.has_minmax) {
      f.min_term = std::string(r.str());
      f.max_term = std::string(r.str());
    }
  }
  if (!r.done()) r.fail("trailing bytes");
  return out;
}

SegmentMeta write_deletes(Directory& dir, SegmentMeta meta, const std::vector<uint8_t>& bitset) {
  if (bitset.size() != (meta.max_doc + 7) / 8) throw_error(ErrorCode::kInternal, "deletes bitset has the wrong size");
  uint32_t count = 0;
  for (uint32_t d = 0; d < meta.max_doc; ++d) count += (bitset[d >> 3] >> (d & 7)) & 1;
  meta.del_gen += 1;
  meta.num_deleted = count;
  ByteWriter w = segment_files::start_file(segment_files::kDeletesKind);
  w.u32(meta.max_doc);
  w.u32(count);
  w.bytes(bitset);
  segment_files::finish_file(dir, meta.deletes_file(), w);
  return meta;
}

}  // namespace needle

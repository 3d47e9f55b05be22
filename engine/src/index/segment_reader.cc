#include "needle/codec/fieldnorm.h"
#include "needle/index/segment.h"
#include "segment_files.h"

namespace needle {

namespace {

// Checks a component's envelope: all of it (checksum) when verifying, else header and footer.
FileSlice open_component(const FileLookup& lookup, const std::string& name, uint32_t kind,
                         bool verify) {
  FileSlice f = lookup(name);
  if (verify) {
    Bytes all = f.read_all();
    open_envelope(all, kind, kMinSegmentFormatVersion, kSegmentFormatVersion, name, true);
  } else {
    if (f.size() < kEnvelopeHeaderSize + kEnvelopeFooterSize) throw_corrupt(name, "file shorter than its envelope");
    check_envelope_header(f.read(0, kEnvelopeHeaderSize).span(), kind, kMinSegmentFormatVersion, kSegmentFormatVersion, name);
    check_envelope_footer(f.read(f.size() - kEnvelopeFooterSize, kEnvelopeFooterSize).span(), f.size(), name);
  }
  return f;
}

}  // namespace

std::shared_ptr<SegmentReader> SegmentReader::open(const FileLookup& lookup, const SegmentMeta& meta,
                                                   const Schema& schema, const OpenOptions& options) {
  auto r = std::make_shared<SegmentReader>();
  r->meta_ = meta;
  r->schema_ = schema;
  const bool verify = options.verify_checksums;

  uint32_t info_max_doc = 0;
  FileSlice info = lookup(meta.file(kInfoExt));
  if (verify) open_envelope(info.read_all(), segment_files::kInfoKind, kMinSegmentFormatVersion, kSegmentFormatVersion, info.name(), true);
  r->meta_.fields = read_segment_info(info, schema, &info_max_doc);
  if (info_max_doc != meta.max_doc) {
    throw_corrupt(info.name(), "holds " + std::to_string(info_max_doc) + " documents, the index meta says " +
                                   std::to_string(meta.max_doc));
  }

  r->terms_ = TermDict::open(lookup(meta.file(kTermExt)), segment_files::term_info_chain());
  if (verify) r->terms_.verify_checksum();
  r->postings_body_ = open_component(lookup, meta.file(kPostingsExt), segment_files::kPostingsKind, verify);
  r->positions_body_ = open_component(lookup, meta.file(kPositionsExt), segment_files::kPositionsKind, verify);
  r->norms_file_ = open_component(lookup, meta.file(kNormsExt), segment_files::kNormsKind, verify);
  {
    // directory at the head of the norms body
    const FileSlice& nf = r->norms_file_;
    Bytes head = nf.read(kEnvelopeHeaderSize, std::min<uint64_t>(6, nf.size() - kEnvelopeHeaderSize));
    ByteReader hr(head, nf.name());
    uint32_t md = hr.u32();
    uint16_t count = hr.u16();
    if (md != meta.max_doc) hr.fail("norms for " + std::to_string(md) + " documents, expected " + std::to_string(meta.max_doc));
    Bytes ids = nf.read(kEnvelopeHeaderSize + 6, std::min<uint64_t>(2ull * count, nf.size() - kEnvelopeHeaderSize - 6));
    ByteReader ir(ids, nf.name());
    uint64_t off = kEnvelopeHeaderSize + 6 + 2ull * count;
    for (uint16_t i = 0; i < count; ++i) {
      uint16_t fid = ir.u16();
      if (fid >= schema.num_fields() || !is_analyzed(schema.field(fid).type)) ir.fail("norms for a field that is not text or json");
      r->norm_offsets_.emplace_back(fid, off);
      off += md;
    }
    if (off + kEnvelopeFooterSize != nf.size()) ir.fail("norms file has the wrong size");
  }
  r->store_ = DocStoreReader::open(lookup(meta.file(kStoreExt)));
  if (verify) r->store_.verify_checksum();
  if (r->store_.num_docs() != meta.max_doc) {
    throw_corrupt(meta.file(kStoreExt), "holds " + std::to_string(r->store_.num_docs()) + " documents, expected " +
                                           std::to_string(meta.max_doc));
  }
  if (meta.del_gen > 0) {
    FileSlice del = lookup(meta.deletes_file());
    Bytes all = del.read_all();
    auto env = open_envelope(all, segment_files::kDeletesKind, kMinSegmentFormatVersion, kSegmentFormatVersion, del.name(), true);
    ByteReader dr(env.body, del.name());
    uint32_t md = dr.u32();
    uint32_t count = dr.u32();
    if (md != meta.max_doc) dr.fail("deletes for the wrong number of documents");
    auto bits = dr.bytes((md + 7) / 8);
    if (!dr.done()) dr.fail("trailing bytes");
    r->deleted_.assign(bits.begin(), bits.end());
    uint32_t actual = 0;
    for (uint32_t d = 0; d < md; ++d) actual += (r->deleted_[d >> 3] >> (d & 7)) & 1;
    if (actual != count || count != meta.num_deleted) dr.fail("deleted-document count does not match");
  } else if (meta.num_deleted != 0) {
    throw_corrupt(meta.id, "segment has deleted documents but no deletes file");
  }
  return r;
}

std::optional<TermInfo> SegmentReader::term_info(std::string_view key) const {
  thread_local std::vector<uint8_t> value;
  if (!terms_.get(key, value)) return std::nullopt;
  ByteReader r(value, "term dictionary value");
  TermInfo ti = TermInfo::decode(r);
  return ti;
}

SegmentPostings SegmentReader::postings(const TermInfo& info, IndexRecordOption option) const {
  // The ranges must lie inside the bodies (offsets from a term dictionary value are unchecked).
  auto check = [](const FileSlice& f, uint64_t off, uint64_t len) {
    const uint64_t body = f.size() - kEnvelopeHeaderSize - kEnvelopeFooterSize;
    if (off > body || len > body - off) {
      throw_corrupt(f.name(), "term range [" + std::to_string(off) + ", +" + std::to_string(len) +
                                  ") outside the body of " + std::to_string(body) + " bytes");
    }
  };
  if (info.doc_freq >= 2) check(postings_body_, info.postings_offset, info.postings_len);
  if (option == IndexRecordOption::kPosition && info.positions_len > 0) {
    check(positions_body_, info.positions_offset, info.positions_len);
  }
  TermInfo local = info;
  // TermInfo offsets are relative to the body (after the envelope header).
  Bytes post = postings_body_.read(kEnvelopeHeaderSize + info.postings_offset, info.postings_len);
  local.postings_offset = 0;
  Bytes pos;
  if (option == IndexRecordOption::kPosition && info.positions_len > 0) {
    pos = positions_body_.read(kEnvelopeHeaderSize + info.positions_offset, info.positions_len);
    local.positions_offset = 0;
  }
  return SegmentPostings(std::move(post), std::move(pos), local, option);
}

const std::vector<uint8_t>& SegmentReader::norms(uint16_t field) const {
  std::lock_guard<std::mutex> lock(norms_mu_);
  auto it = norms_cache_.find(field);
  if (it != norms_cache_.end()) return *it->second;
  for (auto [fid, off] : norm_offsets_) {
    if (fid == field) {
      Bytes b = norms_file_.read(off, meta_.max_doc);
      auto v = std::make_shared<const std::vector<uint8_t>>(b.data(), b.data() + b.size());
      norms_cache_[field] = v;
      return *v;
    }
  }
  return empty_;
}

Document SegmentReader::stored(uint32_t doc) const {
  auto bytes = store_.get(doc);
  return decode_stored(schema_, bytes);
}

}  // namespace needle

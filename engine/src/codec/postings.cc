// Postings format: docs/format/postings.md.
#include "needle/codec/postings.h"

#include <algorithm>
#include <cstring>
#include <string>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "needle/codec/fieldnorm.h"

namespace needle {

namespace {

using bitpacking::kBlockSize;
using bitpacking::packed_size;

constexpr const char* kWhat = "postings";
constexpr const char* kPosWhat = "positions";

// Skip entry sizes per record option.
// kBasic:    last_doc u32 | doc_bits u8 | min_norm u8
// kFreq:     last_doc u32 | doc_bits u8 | tf_bits u8 | imp_len u8
// kPosition: the kFreq fields | tf_sum u32 | pos_bytes u32
constexpr uint32_t kEntryBasic = 6;
constexpr uint32_t kEntryFreq = 7;
constexpr uint32_t kEntryPosition = 15;

uint32_t entry_size(IndexRecordOption opt) {
  switch (opt) {
    case IndexRecordOption::kBasic: return kEntryBasic;
    case IndexRecordOption::kFreq: return kEntryFreq;
    case IndexRecordOption::kPosition: return kEntryPosition;
  }
  return kEntryPosition;
}

[[noreturn]] void invalid(const std::string& msg) {
  throw_error(ErrorCode::kInvalidArgument, "postings serializer: " + msg);
}

void put_u32(std::vector<uint8_t>& v, uint32_t x) {
  uint8_t b[4];
  store_u32_le(b, x);
  v.insert(v.end(), b, b + 4);
}

// Unsigned LEB128 read from [p, end); advances p. Throws kCorrupt naming `what`.
inline uint64_t read_vint(const uint8_t*& p, const uint8_t* end, const char* what) {
  uint64_t result = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (p == end) throw_corrupt(what, "variable-length integer past the end");
    const uint8_t b = *p++;
    result |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return result;
  }
  throw_corrupt(what, "variable-length integer longer than 10 bytes");
}

// Appends the impacts record of n docs (docs/format/postings.md "Impacts"): the (tf, norm id)
// pairs no other doc beats on both, merged two neighbours at a time into one that dominates both
// while there are more than kMaxImpacts.
void write_impacts(const uint32_t* tfs, const uint8_t* norms, uint32_t n, std::vector<uint8_t>& out,
                   uint32_t max_pairs = kMaxImpacts) {
  uint32_t best[256];  // max tf per norm id, in [lo, hi] (most terms are in a few docs)
  uint32_t lo = 255, hi = 0;
  for (uint32_t i = 0; i < n; ++i) {
    lo = std::min<uint32_t>(lo, norms[i]);
    hi = std::max<uint32_t>(hi, norms[i]);
  }
  if (n > 0) std::fill(best + lo, best + hi + 1, 0u);
  uint64_t len_sum = 0;
  for (uint32_t i = 0; i < n; ++i) {
    best[norms[i]] = std::max(best[norms[i]], tfs[i]);
    len_sum += id_to_fieldnorm(norms[i]);
  }
  Impact f[256];
  uint32_t m = 0, run = 0;
  for (uint32_t id = lo; id <= hi && n > 0; ++id) {
    if (best[id] > run) {
      f[m++] = Impact{best[id], static_cast<uint8_t>(id)};
      run = best[id];
    }
  }
  if (m > max_pairs) {
    // Which neighbours to merge only affects how tight the bounds are, never their validity:
    // pick the merge that raises a BM25 bound (k1 1.2, b 0.75, the block's mean length) least.
    const double avg = std::max(1.0, static_cast<double>(len_sum) / n);
    auto s = [&](const Impact& x) {
      const double k = 1.2 * (0.25 + 0.75 * id_to_fieldnorm(x.norm) / avg);
      return x.tf / (x.tf + k);
    };
    while (m > max_pairs) {
      uint32_t pick = 0;
      double pick_cost = 0;
      for (uint32_t i = 0; i + 1 < m; ++i) {
        const double cost = s(Impact{f[i + 1].tf, f[i].norm}) - std::max(s(f[i]), s(f[i + 1]));
        if (i == 0 || cost < pick_cost) {
          pick = i;
          pick_cost = cost;
        }
      }
      f[pick].tf = f[pick + 1].tf;
      std::copy(f + pick + 2, f + m, f + pick + 1);
      --m;
    }
  }
  for (uint32_t i = 0; i < m; ++i) {
    out.push_back(static_cast<uint8_t>(i == 0 ? f[0].norm : f[i].norm - f[i - 1].norm));
    uint32_t v = i == 0 ? f[0].tf : f[i].tf - f[i - 1].tf;
    while (v >= 0x80) {
      out.push_back(static_cast<uint8_t>(v | 0x80));
      v >>= 7;
    }
    out.push_back(static_cast<uint8_t>(v));
  }
}

// The inlined doc of a singleton (doc_freq 1): (doc << 2 | flags), then tf if flags & 1, then the
// fieldnorm id if flags & 2 (docs/format/postings.md, "TermInfo").
void write_singleton(ByteWriter& out, const TermInfo& ti) {
  const uint64_t flags = (ti.single_tf != 1 ? 1u : 0u) | (ti.single_fieldnorm_id != 0 ? 2u : 0u);
  out.vint((static_cast<uint64_t>(ti.single_doc) << 2) | flags);
  if (flags & 1) out.vint(ti.single_tf);
  if (flags & 2) out.u8(ti.single_fieldnorm_id);
}

void read_singleton(ByteReader& in, TermInfo& ti) {
  const uint64_t v = in.vint();
  if ((v >> 2) > UINT32_MAX) in.fail("term info: single doc id out of range");
  ti.single_doc = static_cast<uint32_t>(v >> 2);
  ti.single_tf = 1;
  if (v & 1) {
    ti.single_tf = in.vint32();
    if (ti.single_tf == 0) in.fail("term info: term frequency 0");
  }
  if (v & 2) ti.single_fieldnorm_id = in.u8();
}

}  // namespace

// ------------------------------------------------------------------------------------------------
// TermInfo

void TermInfo::encode(ByteWriter& out) const {
  out.vint(doc_freq);
  if (doc_freq == 1) {
    write_singleton(out, *this);
  } else if (doc_freq >= 2) {
    out.vint(postings_offset);
    out.vint(postings_len);
  }
  out.vint(positions_len);
  if (positions_len > 0) out.vint(positions_offset);
}

TermInfo TermInfo::decode(ByteReader& in) {
  TermInfo ti;
  ti.doc_freq = in.vint32();
  if (ti.doc_freq == 1) {
    read_singleton(in, ti);
  } else if (ti.doc_freq >= 2) {
    ti.postings_offset = in.vint();
    ti.postings_len = in.vint();
  }
  ti.positions_len = in.vint();
  if (ti.positions_len > 0) ti.positions_offset = in.vint();
  return ti;
}

namespace {

// Reads the lengths (and bases) of a stored TermInfo, sets its offsets from `chain` and moves the
// chain past it. Leaves `in` at the singleton fields (doc_freq == 1).
void read_stored_ranges(ByteReader& in, bool first, TermInfo::Chain& chain, TermInfo& ti) {
  ti.doc_freq = in.vint32();
  if (ti.doc_freq >= 2) ti.postings_len = in.vint();
  ti.positions_len = in.vint();
  if (first) {
    chain.postings_end = in.vint();
    chain.positions_end = in.vint();
  }
  if (ti.postings_len > UINT64_MAX - chain.postings_end ||
      ti.positions_len > UINT64_MAX - chain.positions_end) {
    in.fail("term info: range end past 2^64 - 1");
  }
  if (ti.doc_freq >= 2) ti.postings_offset = chain.postings_end;
  if (ti.positions_len > 0) ti.positions_offset = chain.positions_end;
  chain.postings_end += ti.postings_len;
  chain.positions_end += ti.positions_len;
}

}  // namespace

bool TermInfo::encode_stored(ByteWriter& out, bool first, Chain& chain) const {
  const uint64_t post_len = doc_freq >= 2 ? postings_len : 0;
  const uint64_t post_start = doc_freq >= 2 ? postings_offset : chain.postings_end;
  const uint64_t pos_start = positions_len > 0 ? positions_offset : chain.positions_end;
  if (!first && (post_start != chain.postings_end || pos_start != chain.positions_end)) return false;
  out.vint(doc_freq);
  if (doc_freq >= 2) out.vint(post_len);
  out.vint(positions_len);
  if (first) {
    out.vint(post_start);
    out.vint(pos_start);
  }
  if (doc_freq == 1) {
    write_singleton(out, *this);
  }
  chain.postings_end = post_start + post_len;
  chain.positions_end = pos_start + positions_len;
  return true;
}

TermInfo TermInfo::decode_stored(ByteReader& in, bool first, Chain& chain) {
  TermInfo ti;
  read_stored_ranges(in, first, chain, ti);
  if (ti.doc_freq == 1) {
    read_singleton(in, ti);
  }
  return ti;
}

TermInfo::Vint TermInfo::next_vint_slow(const uint8_t* p, const uint8_t* end) noexcept {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (p >= end) return {nullptr, 0};
    const uint8_t b = *p++;
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return {p, v};
  }
  return {nullptr, 0};
}

// ------------------------------------------------------------------------------------------------
// PostingsSerializer

PostingsSerializer::PostingsSerializer(IndexRecordOption opt, ByteWriter* postings,
                                       ByteWriter* positions)
    : opt_(opt), postings_(postings), positions_(positions) {
  if (postings_ == nullptr) invalid("no postings writer");
  if (opt_ == IndexRecordOption::kPosition && positions_ == nullptr) {
    invalid("record option kPosition needs a positions writer");
  }
  if (opt_ != IndexRecordOption::kBasic && opt_ != IndexRecordOption::kFreq &&
      opt_ != IndexRecordOption::kPosition) {
    invalid("unknown record option");
  }
  postings_base_ = postings_->size();
  positions_base_ = positions_ ? positions_->size() : 0;
}

void PostingsSerializer::new_term() {
  in_term_ = true;
  doc_freq_ = 0;
  first_doc_ = 0;
  last_doc_ = 0;
  prev_block_last_ = 0;
  n_ = 0;
  pos_n_ = 0;
  num_positions_ = 0;
  block_pos_start_count_ = 0;
  block_pos_start_byte_ = 0;
  term_positions_start_ = positions_ ? positions_->size() : 0;
  skip_.clear();
  impacts_.clear();
  blocks_.clear();
}

void PostingsSerializer::write_doc(uint32_t doc, uint32_t term_freq,
                                   std::span<const uint32_t> positions, uint8_t fieldnorm_id) {
  if (!in_term_) invalid("write_doc outside a term");
  if (doc > kMaxDocId) invalid("doc id " + std::to_string(doc) + " too large");
  if (doc_freq_ > 0 && doc <= last_doc_) {
    invalid("doc ids not strictly increasing (" + std::to_string(doc) + " after " +
            std::to_string(last_doc_) + ")");
  }
  if (opt_ == IndexRecordOption::kBasic) {
    term_freq = 1;
  } else if (term_freq == 0) {
    invalid("term frequency 0");
  }
  if (opt_ == IndexRecordOption::kPosition) {
    if (positions.size() != term_freq) invalid("positions.size() != term_freq");
    uint32_t prev = 0;
    for (uint32_t p : positions) {
      if (p < prev) invalid("positions not sorted");
      pos_buf_[pos_n_++] = p - prev;
      prev = p;
      if (pos_n_ == kBlockSize) flush_positions_block();
    }
    num_positions_ += term_freq;
  }
  if (doc_freq_ == 0) first_doc_ = doc;
  docs_[n_] = doc;
  tfs_[n_] = term_freq;
  norms_[n_] = fieldnorm_id;
  ++n_;
  ++doc_freq_;
  last_doc_ = doc;
  if (n_ == kBlockSize) flush_block();
}

void PostingsSerializer::flush_positions_block() {
  const uint8_t bits = bitpacking::num_bits_max(pos_buf_);
  positions_->u8(bits);
  bitpacking::pack(pos_buf_, bits, scratch_);
  positions_->bytes(std::span<const uint8_t>(scratch_, packed_size(bits)));
  pos_n_ = 0;
}

void PostingsSerializer::flush_block() {
  const uint32_t base = skip_.empty() ? first_doc_ : prev_block_last_;
  const uint8_t doc_bits = bitpacking::num_bits_delta(docs_, base);
  bitpacking::pack_delta(docs_, base, doc_bits, scratch_);
  blocks_.insert(blocks_.end(), scratch_, scratch_ + packed_size(doc_bits));

  put_u32(skip_, docs_[kBlockSize - 1]);
  skip_.push_back(doc_bits);
  if (opt_ == IndexRecordOption::kBasic) {
    uint8_t min_norm = norms_[0];
    for (uint32_t i = 1; i < kBlockSize; ++i) min_norm = std::min(min_norm, norms_[i]);
    skip_.push_back(min_norm);
  } else {
    uint32_t tfm1[kBlockSize];
    for (uint32_t i = 0; i < kBlockSize; ++i) tfm1[i] = tfs_[i] - 1;
    const uint8_t tf_bits = bitpacking::num_bits_max(tfm1);
    bitpacking::pack(tfm1, tf_bits, scratch_);
    blocks_.insert(blocks_.end(), scratch_, scratch_ + packed_size(tf_bits));
    skip_.push_back(tf_bits);
    const size_t before = impacts_.size();
    write_impacts(tfs_, norms_, kBlockSize, impacts_);
    skip_.push_back(static_cast<uint8_t>(impacts_.size() - before));  // <= 32 pairs of <= 6 bytes
    if (opt_ == IndexRecordOption::kPosition) {
      const uint64_t tf_sum = num_positions_ - block_pos_start_count_;
      // The sub-block holding the next block's first position is the one being filled, which
      // starts at the current end of the positions stream.
      const uint64_t next_byte = positions_->size() - term_positions_start_;
      const uint64_t pos_bytes = next_byte - block_pos_start_byte_;
      if (tf_sum > UINT32_MAX || pos_bytes > UINT32_MAX) {
        throw_error(ErrorCode::kResourceExhausted,
                    "postings serializer: more than 2^32 positions in 128 documents");
      }
      put_u32(skip_, static_cast<uint32_t>(tf_sum));
      put_u32(skip_, static_cast<uint32_t>(pos_bytes));
      block_pos_start_count_ = num_positions_;
      block_pos_start_byte_ = next_byte;
    }
  }
  prev_block_last_ = docs_[kBlockSize - 1];
  n_ = 0;
}

TermInfo PostingsSerializer::close_term() {
  if (!in_term_) invalid("close_term outside a term");
  in_term_ = false;
  TermInfo ti;
  ti.doc_freq = doc_freq_;
  if (opt_ == IndexRecordOption::kPosition) {
    for (uint32_t i = 0; i < pos_n_; ++i) positions_->vint(pos_buf_[i]);
    pos_n_ = 0;
    ti.positions_len = positions_->size() - term_positions_start_;
    ti.positions_offset = ti.positions_len ? term_positions_start_ - positions_base_ : 0;
  }
  if (doc_freq_ == 0) return ti;
  if (doc_freq_ == 1) {
    ti.single_doc = docs_[0];
    ti.single_tf = tfs_[0];
    ti.single_fieldnorm_id = norms_[0];
    return ti;
  }
  const size_t start = postings_->size();
  const uint32_t num_blocks = doc_freq_ / kBlockSize;
  // Header.
  if (num_blocks > 0) {
    postings_->vint(first_doc_);
    if (opt_ != IndexRecordOption::kBasic) postings_->vint(impacts_.size());
  }
  if (n_ > 0) {
    if (opt_ == IndexRecordOption::kBasic) {
      uint8_t min_norm = norms_[0];
      for (uint32_t i = 0; i < n_; ++i) min_norm = std::min(min_norm, norms_[i]);
      postings_->u8(min_norm);
    } else {
      std::vector<uint8_t> rec;
      // A term of fewer than 128 docs keeps one pair (its max tf, min norm id): 2 bytes where
      // the frontier would take more, for the many small terms whose one block is cheap to read.
      write_impacts(tfs_, norms_, n_, rec, num_blocks > 0 ? kMaxImpacts : 1);
      postings_->u8(static_cast<uint8_t>(rec.size()));
      postings_->bytes(rec);
    }
  }
  if (opt_ == IndexRecordOption::kPosition) postings_->vint(num_positions_);
  // Skip entries, impacts, packed blocks.
  postings_->bytes(skip_);
  postings_->bytes(impacts_);
  postings_->bytes(blocks_);
  // Tail.
  uint32_t prev = num_blocks > 0 ? prev_block_last_ : 0;
  for (uint32_t i = 0; i < n_; ++i) {
    const uint32_t delta = docs_[i] - prev;
    prev = docs_[i];
    if (opt_ == IndexRecordOption::kBasic) {
      postings_->vint(delta);
    } else if (tfs_[i] == 1) {
      postings_->vint((static_cast<uint64_t>(delta) << 1) | 1);
    } else {
      postings_->vint(static_cast<uint64_t>(delta) << 1);
      postings_->vint(tfs_[i]);
    }
  }
  n_ = 0;
  ti.postings_offset = start - postings_base_;
  ti.postings_len = postings_->size() - start;
  return ti;
}

// ------------------------------------------------------------------------------------------------
// SegmentPostings

void SegmentPostings::corrupt(const char* detail) const {
  throw_corrupt(kWhat, std::string(detail) + " (term with doc_freq " + std::to_string(doc_freq_) +
                           ")");
}

SegmentPostings::SegmentPostings() {
  std::fill(std::begin(docs_), std::end(docs_), kTerminated);
}

SegmentPostings::SegmentPostings(Bytes postings_body, Bytes positions_body, const TermInfo& ti,
                                 IndexRecordOption opt)
    : opt_(opt), doc_freq_(ti.doc_freq) {
  std::fill(docs_ + kBlockSize, std::end(docs_), kTerminated);
  if (opt_ != IndexRecordOption::kBasic && opt_ != IndexRecordOption::kFreq &&
      opt_ != IndexRecordOption::kPosition) {
    throw_error(ErrorCode::kInvalidArgument, "postings: unknown record option");
  }
  std::fill(std::begin(tfs_), std::end(tfs_), 1u);
  if (doc_freq_ == 0) {
    end();
    return;
  }
  entry_size_ = entry_size(opt_);
  if (opt_ == IndexRecordOption::kPosition && ti.positions_len > 0) {
    if (ti.positions_offset > positions_body.size() ||
        ti.positions_len > positions_body.size() - ti.positions_offset) {
      corrupt("positions range outside the positions body");
    }
    positions_owner_ = std::move(positions_body);
    pp_ = positions_owner_.data() + ti.positions_offset;
    pos_len_ = static_cast<size_t>(ti.positions_len);
  }

  if (doc_freq_ == 1) {
    // Inlined: a pre-decoded tail of one doc.
    inlined_ = true;
    if (ti.single_doc > kMaxDocId) corrupt("single doc id out of range");
    num_blocks_ = 0;
    tail_len_ = 1;
    const uint32_t tf = opt_ == IndexRecordOption::kBasic ? 1 : ti.single_tf;
    if (tf == 0) corrupt("term frequency 0");
    tail_max_tf_ = tf;
    tail_min_norm_ = ti.single_fieldnorm_id;
    num_positions_ = opt_ == IndexRecordOption::kPosition ? tf : 0;
    if (num_positions_ / kBlockSize > pos_len_) corrupt("more positions than the range holds");
    docs_[0] = ti.single_doc;
    std::fill(docs_ + 1, docs_ + kBlockSize, kTerminated);
    tfs_[0] = tf;
    n_ = 1;
    cur_ = 0;
    doc_ = docs_[0];
    dec_ = Cursor{};
    read_entry(dec_);
    skip_ = dec_;
    return;
  }

  if (ti.postings_offset > postings_body.size() ||
      ti.postings_len > postings_body.size() - ti.postings_offset) {
    corrupt("postings range outside the postings body");
  }
  postings_owner_ = std::move(postings_body);
  p_ = postings_owner_.data() + ti.postings_offset;
  len_ = static_cast<size_t>(ti.postings_len);
  num_blocks_ = doc_freq_ / kBlockSize;
  tail_len_ = doc_freq_ % kBlockSize;

  const uint8_t* p = p_;
  const uint8_t* const e = p_ + len_;
  uint64_t imp_total = 0;
  if (num_blocks_ > 0) {
    const uint64_t v = read_vint(p, e, kWhat);
    if (v > kMaxDocId) corrupt("first doc id out of range");
    first_doc_ = static_cast<uint32_t>(v);
    if (opt_ != IndexRecordOption::kBasic) imp_total = read_vint(p, e, kWhat);
  }
  if (tail_len_ > 0) {
    if (p == e) corrupt("header past the end");
    if (opt_ == IndexRecordOption::kBasic) {
      tail_min_norm_ = *p++;
    } else {
      tail_imp_len_ = *p++;
      if (tail_imp_len_ == 0 || tail_imp_len_ > e - p) corrupt("bad impacts record of the tail");
      tail_imp_off_ = static_cast<size_t>(p - p_);
      p += tail_imp_len_;
    }
  }
  if (opt_ == IndexRecordOption::kPosition) {
    num_positions_ = read_vint(p, e, kWhat);
    // A packed sub-block of 128 positions takes at least one byte.
    if (num_positions_ / kBlockSize > pos_len_) corrupt("more positions than the range holds");
  }
  skip_start_ = static_cast<size_t>(p - p_);
  if (static_cast<uint64_t>(num_blocks_) * entry_size_ > len_ - skip_start_) {
    corrupt("skip entries past the end");
  }
  imp_start_ = skip_start_ + static_cast<size_t>(num_blocks_) * entry_size_;
  if (imp_total > len_ - imp_start_) corrupt("impacts past the end");
  imp_end_ = imp_start_ + static_cast<size_t>(imp_total);
  blocks_start_ = imp_end_;

  Cursor c;
  c.blk = 0;
  c.base = num_blocks_ > 0 ? first_doc_ : 0;
  c.offset = blocks_start_;
  c.imp_off = imp_start_;
  read_entry(c);
  if (c.blk < num_blocks_) {
    load_block(c);
  } else {
    dec_ = c;
    decode_tail();
  }
  skip_ = dec_;
  cur_ = 0;
  doc_ = docs_[0];
}

void SegmentPostings::read_entry(Cursor& c) const {
  if (c.blk < num_blocks_) {
    const uint8_t* e = p_ + skip_start_ + static_cast<size_t>(c.blk) * entry_size_;
    c.last_doc = load_u32_le(e);
    c.doc_bits = e[4];
    if (opt_ == IndexRecordOption::kBasic) {
      c.tf_bits = 0;
      c.min_norm = e[5];
    } else {
      c.tf_bits = e[5];
      c.imp_len = e[6];
      if (opt_ == IndexRecordOption::kPosition) {
        c.tf_sum = load_u32_le(e + 7);
        c.pos_bytes = load_u32_le(e + 11);
      }
    }
    if (c.doc_bits > bitpacking::kMaxBits || c.tf_bits > bitpacking::kMaxBits) {
      corrupt("bit width > 32 in a skip entry");
    }
    if (c.last_doc > kMaxDocId || (c.blk == 0 ? c.last_doc < c.base : c.last_doc <= c.base)) {
      corrupt("skip entry doc ids out of order");
    }
  } else {
    // the tail (its impacts come from the header) or past the end
    c.last_doc = kTerminated;
    c.min_norm = 0;
    c.imp_len = 0;
    c.doc_bits = c.tf_bits = 0;
    c.tf_sum = c.pos_bytes = 0;
  }
}

void SegmentPostings::step(Cursor& c) const {
  if (c.blk < num_blocks_) {
    c.offset += packed_size(c.doc_bits) + packed_size(c.tf_bits);
    c.imp_off += c.imp_len;
    c.pos_index += c.tf_sum;
    c.pos_byte += c.pos_bytes;
    c.base = c.last_doc;
  }
  if (c.blk <= num_blocks_) ++c.blk;
  read_entry(c);
}

void SegmentPostings::load_block(const Cursor& c) {
  const size_t size = packed_size(c.doc_bits) + packed_size(c.tf_bits);
  if (c.offset > len_ || size > len_ - c.offset) corrupt("block past the end");
  bitpacking::unpack_delta(p_ + c.offset, c.base, c.doc_bits, docs_);
  // 128 deltas below 2^24 add up to less than 2^31: the running sums cannot wrap, so the docs
  // never decrease. Wider deltas (only for doc ids far apart) are checked.
  if (c.doc_bits > 24) {
    for (uint32_t i = 1; i < kBlockSize; ++i) {
      if (docs_[i] < docs_[i - 1]) corrupt("block doc ids wrap around");
    }
  }
  if (docs_[kBlockSize - 1] != c.last_doc) corrupt("block does not end on its skip entry's doc");
  if (c.blk == 0 ? docs_[0] != c.base : docs_[0] <= c.base) corrupt("block doc ids out of order");
  dec_ = c;
  n_ = kBlockSize;
  tf_ready_ = opt_ == IndexRecordOption::kBasic;
  pfx_doc_ = 0;
  pfx_sum_ = 0;
}

void SegmentPostings::decode_tail() {
  // dec_ is the tail cursor.
  const Cursor& c = dec_;
  if (c.offset > len_) corrupt("tail past the end");
  const uint8_t* p = p_ + c.offset;
  const uint8_t* const e = p_ + len_;
  uint64_t prev = c.base;
  const bool with_tf = opt_ != IndexRecordOption::kBasic;
  for (uint32_t i = 0; i < tail_len_; ++i) {
    uint64_t v = read_vint(p, e, kWhat);
    uint64_t delta = v;
    if (with_tf) {
      delta = v >> 1;
      uint64_t tf = 1;
      if ((v & 1) == 0) {
        tf = read_vint(p, e, kWhat);
        if (tf == 0 || tf > UINT32_MAX) corrupt("bad term frequency in the tail");
      }
      tfs_[i] = static_cast<uint32_t>(tf);
    }
    if (delta == 0 && (i > 0 || num_blocks_ > 0)) corrupt("tail doc ids out of order");
    prev += delta;
    if (prev > kMaxDocId) corrupt("tail doc id out of range");
    docs_[i] = static_cast<uint32_t>(prev);
  }
  if (p != e) corrupt("trailing bytes after the tail");
  std::fill(docs_ + tail_len_, docs_ + kBlockSize, kTerminated);
  n_ = tail_len_;
  tf_ready_ = true;
  pfx_doc_ = 0;
  pfx_sum_ = 0;
}

void SegmentPostings::decode_tfs() const {
  const size_t off = dec_.offset + packed_size(dec_.doc_bits);  // range checked by load_block
  bitpacking::unpack_plus_one(p_ + off, dec_.tf_bits, tfs_);
  tf_ready_ = true;
}

void SegmentPostings::end() {
  doc_ = kTerminated;
  n_ = 0;
  cur_ = 0;
  tf_ready_ = true;
  dec_.blk = num_blocks_ + 1;
  read_entry(dec_);
  skip_ = dec_;
}

uint32_t SegmentPostings::advance_slow() {
  if (doc_ == kTerminated) return kTerminated;
  Cursor c = dec_;
  step(c);
  if (c.blk < num_blocks_) {
    load_block(c);
  } else if (c.blk == num_blocks_ && tail_len_ > 0 && !inlined_) {
    dec_ = c;
    decode_tail();
  } else {
    end();
    return kTerminated;
  }
  if (skip_.blk < dec_.blk) skip_ = dec_;
  cur_ = 0;
  doc_ = docs_[0];
  return doc_;
}

uint32_t SegmentPostings::seek_slow(uint32_t target) {
  if (target <= doc_ || doc_ == kTerminated) return doc_;
  uint32_t i;
  if (target <= docs_[n_ - 1]) {
    // In the decoded block, usually a few docs ahead. First count, without branches, the docs
    // below target among the next kSeekWindow (valid doc ids and target are below 2^31 here, so a
    // signed compare is right; the slots past the block hold kTerminated): if one of them is
    // >= target, that count is the answer. Else a branchless binary search over the block.
    i = cur_ + 1;
    uint32_t below = 0;
#if defined(__SSE2__)
    {
      // The first of the kSeekWindow (8) docs that is >= target: a mask of the docs below it.
      static_assert(kSeekWindow == 8);
      const __m128i t = _mm_set1_epi32(static_cast<int32_t>(target));
      const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(docs_ + i));
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(docs_ + i + 4));
      const unsigned lo = static_cast<unsigned>(_mm_movemask_ps(_mm_castsi128_ps(_mm_cmplt_epi32(a, t))));
      const unsigned hi = static_cast<unsigned>(_mm_movemask_ps(_mm_castsi128_ps(_mm_cmplt_epi32(b, t))));
      below = static_cast<uint32_t>(__builtin_ctz(~(lo | hi << 4)));  // bit 8 is always clear
    }
#else
    for (uint32_t j = 0; j < kSeekWindow; ++j) {
      below += static_cast<int32_t>(docs_[i + j]) < static_cast<int32_t>(target) ? 1 : 0;
    }
#endif
    if (below < kSeekWindow) {
      i += below;
    } else {
      // Further on: a branchless binary search over the block, as for a newly loaded block
      // (docs_[n_ - 1] >= target, the slots past n_ hold kTerminated and the docs never decrease,
      // so it lands on the first doc >= target, past the window).
      i = 0;
      for (uint32_t half = kBlockSize / 2; half > 0; half >>= 1) {
        i += docs_[i + half - 1] < target ? half : 0;
      }
    }
  } else {
    // Not in the decoded block: find the block through the skip entries.
    Cursor c;
    if (skip_.blk > dec_.blk && skip_.base < target) {
      c = skip_;
    } else {
      c = dec_;
      step(c);
    }
    skip_to(c, target);
    if (c.blk < num_blocks_) {
      load_block(c);
    } else if (c.blk == num_blocks_ && tail_len_ > 0 && !inlined_) {
      dec_ = c;
      decode_tail();
      if (target > docs_[n_ - 1]) {
        end();
        return kTerminated;
      }
    } else {
      end();
      return kTerminated;
    }
    if (skip_.blk < dec_.blk) skip_ = dec_;
    // Branchless binary search over the whole block: docs_[n_-1] >= target, the slots past n_
    // hold kTerminated and the docs never decrease (load_block, decode_tail), so the first slot
    // >= target is within [0, n_).
    i = 0;
    for (uint32_t half = kBlockSize / 2; half > 0; half >>= 1) {
      i += docs_[i + half - 1] < target ? half : 0;
    }
  }
  cur_ = i;
  doc_ = docs_[i];
  return doc_;
}

void SegmentPostings::shallow_seek(uint32_t target) {
  if (skip_.blk < dec_.blk) skip_ = dec_;
  skip_to(skip_, target);
}

// Moves c forward to the first block whose last doc is >= target (the tail or the end if none),
// reading only the last doc and the widths of the entries it passes. Entries passed are not
// validated: nothing is read through them, and the entry landed on is (read_entry, load_block).
void SegmentPostings::skip_to(Cursor& c, uint32_t target) const {
  if (c.blk >= num_blocks_ || c.last_doc >= target) return;
  uint64_t offset = c.offset + packed_size(c.doc_bits) + packed_size(c.tf_bits);
  uint64_t imp_off = c.imp_off + c.imp_len;
  uint64_t pos_index = c.pos_index + c.tf_sum;
  uint64_t pos_byte = c.pos_byte + c.pos_bytes;
  uint32_t base = c.last_doc;
  uint32_t blk = c.blk + 1;
  const uint8_t* e = p_ + skip_start_ + static_cast<size_t>(blk) * entry_size_;
  const uint32_t nb = num_blocks_;
  switch (opt_) {
    case IndexRecordOption::kBasic:
      for (; blk < nb; ++blk, e += kEntryBasic) {
        const uint32_t last = load_u32_le(e);
        if (last >= target) break;
        offset += packed_size(e[4]);
        base = last;
      }
      break;
    case IndexRecordOption::kFreq:
      for (; blk < nb; ++blk, e += kEntryFreq) {
        const uint32_t last = load_u32_le(e);
        if (last >= target) break;
        offset += packed_size(e[4]) + packed_size(e[5]);
        imp_off += e[6];
        base = last;
      }
      break;
    case IndexRecordOption::kPosition:
      for (; blk < nb; ++blk, e += kEntryPosition) {
        const uint32_t last = load_u32_le(e);
        if (last >= target) break;
        offset += packed_size(e[4]) + packed_size(e[5]);
        imp_off += e[6];
        pos_index += load_u32_le(e + 7);
        pos_byte += load_u32_le(e + 11);
        base = last;
      }
      break;
  }
  c.blk = blk;
  c.offset = offset;
  c.imp_off = imp_off;
  c.pos_index = pos_index;
  c.pos_byte = pos_byte;
  c.base = base;
  read_entry(c);
}

std::span<const Impact> SegmentPostings::block_impacts() const {
  const Cursor& c = skip_;
  if (c.blk > num_blocks_ || (c.blk == num_blocks_ && tail_len_ == 0)) return {};
  if (imp_blk_ != c.blk) {
    imp_blk_ = UINT32_MAX;  // until decoded
    if (c.blk == num_blocks_ && inlined_) {
      imp_[0] = Impact{tail_max_tf_, tail_min_norm_};
      imp_n_ = 1;
    } else if (opt_ == IndexRecordOption::kBasic) {
      imp_[0] = Impact{1, c.blk == num_blocks_ ? tail_min_norm_ : c.min_norm};
      imp_n_ = 1;
    } else if (c.blk == num_blocks_) {
      decode_impacts(tail_imp_off_, tail_imp_len_);
    } else {
      if (c.imp_off < imp_start_ || c.imp_off > imp_end_ || c.imp_len > imp_end_ - c.imp_off) {
        corrupt("impacts record outside the impacts");
      }
      decode_impacts(c.imp_off, c.imp_len);
    }
    imp_blk_ = c.blk;
  }
  return {imp_, imp_n_};
}

// Decodes the impacts record at [off, off + len) of the term (range already checked).
void SegmentPostings::decode_impacts(uint64_t off, uint32_t len) const {
  if (len == 0) corrupt("empty impacts record");
  const uint8_t* p = p_ + off;
  const uint8_t* const e = p + len;
  uint32_t n = 0, norm = 0;
  uint64_t tf = 0;
  while (p < e) {
    if (n == kMaxImpacts) corrupt("more than 32 impacts in a block");
    const uint32_t dn = *p++;
    const uint64_t dt = read_vint(p, e, kWhat);
    if (n > 0 && (dn == 0 || dt == 0)) corrupt("impacts not increasing");
    norm += dn;
    tf += dt;
    if (tf == 0 || tf > UINT32_MAX || norm > 255) corrupt("impact out of range");
    imp_[n++] = Impact{static_cast<uint32_t>(tf), static_cast<uint8_t>(norm)};
  }
  imp_n_ = n;
}

void SegmentPostings::load_positions_subblock(uint64_t sub) const {
  const uint64_t packed_subs = num_positions_ / kBlockSize;
  const uint64_t anchor = dec_.pos_index / kBlockSize;
  uint64_t num, byte;
  if (psub_ != UINT64_MAX && psub_ >= anchor && psub_ < sub) {
    num = psub_ + 1;
    byte = psub_next_byte_;
  } else {
    num = anchor;
    byte = dec_.pos_byte;
  }
  if (sub < num) throw_corrupt(kPosWhat, "position index before its block");
  // Skip whole sub-blocks by their one-byte headers.
  while (num < sub) {
    if (num >= packed_subs) throw_corrupt(kPosWhat, "sub-block past the packed ones");
    if (byte >= pos_len_) throw_corrupt(kPosWhat, "sub-block header past the end");
    // A chain of dependent loads, one per sub-block (a cache miss each for common terms, whose
    // docs' positions span many sub-blocks): fetch ahead of it.
    if (pos_len_ - byte > 1024) __builtin_prefetch(pp_ + byte + 1024);
    const uint8_t bits = pp_[byte];
    if (bits > bitpacking::kMaxBits) throw_corrupt(kPosWhat, "bit width > 32");
    const uint64_t size = 1 + packed_size(bits);
    if (size > pos_len_ - byte) throw_corrupt(kPosWhat, "sub-block past the end");
    byte += size;
    ++num;
  }
  // pos_buf_ receives the running sums of the sub-block's deltas (mod 2^32): one SIMD pass, and
  // a doc's positions are then differences of two entries.
  uint64_t next;
  if (sub < packed_subs) {
    if (byte >= pos_len_) throw_corrupt(kPosWhat, "sub-block header past the end");
    const uint8_t bits = pp_[byte];
    if (bits > bitpacking::kMaxBits) throw_corrupt(kPosWhat, "bit width > 32");
    const uint64_t size = 1 + packed_size(bits);
    if (size > pos_len_ - byte) throw_corrupt(kPosWhat, "sub-block past the end");
    bitpacking::unpack_delta(pp_ + byte + 1, 0, bits, pos_buf_);
    next = byte + size;
  } else {
    if (byte > pos_len_) throw_corrupt(kPosWhat, "tail past the end");
    const uint8_t* p = pp_ + byte;
    const uint8_t* const e = pp_ + pos_len_;
    const uint32_t count = static_cast<uint32_t>(num_positions_ % kBlockSize);
    uint32_t acc = 0;
    for (uint32_t i = 0; i < count; ++i) {
      const uint64_t v = read_vint(p, e, kPosWhat);
      if (v > UINT32_MAX) throw_corrupt(kPosWhat, "position delta out of range");
      acc += static_cast<uint32_t>(v);
      pos_buf_[i] = acc;
    }
    next = static_cast<uint64_t>(p - pp_);
  }
  psub_ = sub;
  psub_byte_ = byte;
  psub_next_byte_ = next;
}

uint64_t SegmentPostings::first_position_index(uint32_t tf) const {
  if (cur_ < pfx_doc_) {
    pfx_doc_ = 0;
    pfx_sum_ = 0;
  }
  uint64_t sum = 0;  // a plain loop the compiler vectorizes
  for (uint32_t i = pfx_doc_; i < cur_; ++i) sum += tfs_[i];
  pfx_sum_ += sum;
  pfx_doc_ = cur_;
  const uint64_t g = dec_.pos_index + pfx_sum_;
  if (g > num_positions_ || tf > num_positions_ - g) {
    throw_corrupt(kPosWhat, "positions of a doc past the term's position count");
  }
  return g;
}

uint32_t SegmentPostings::filter_positions(uint32_t* c, uint32_t n, uint64_t add, bool first_only) const {
  if (opt_ != IndexRecordOption::kPosition || doc_ == kTerminated || n == 0) return 0;
  const uint32_t tf = term_freq();
  const uint64_t g = first_position_index(tf);
  const uint64_t packed_subs = num_positions_ / kBlockSize;
  uint32_t w = 0, a = 0;
  uint64_t target = c[0] + add;
  uint64_t done = 0;
  uint32_t last = 0;  // the doc's last position before the current chunk
  while (done < tf) {
    const uint64_t idx = g + done;
    const uint64_t sub = idx / kBlockSize;
    const uint32_t in = static_cast<uint32_t>(idx % kBlockSize);
    if (sub != psub_) load_positions_subblock(sub);
    const uint32_t in_sub = sub < packed_subs ? static_cast<uint32_t>(kBlockSize)
                                              : static_cast<uint32_t>(num_positions_ % kBlockSize);
    const uint32_t take = static_cast<uint32_t>(std::min<uint64_t>(in_sub - in, tf - done));
    // The chunk's positions are v[j] - bias (see positions()), non-decreasing for valid data.
    const uint32_t bias = done == 0 ? (in > 0 ? pos_buf_[in - 1] : 0) : 0u - last;
    const uint32_t* v = pos_buf_ + in;
    const uint32_t chunk_last = v[take - 1] - bias;
    uint32_t j = 0;
    while (target <= chunk_last) {
      // Gallop to the first j with v[j] - bias >= target; j == take - 1 qualifies, so j stays
      // in the chunk even if damaged data is out of order.
      if (v[j] - bias < target) {
        uint32_t lo = j, step = 1, hi = j + 1;  // v[lo] - bias < target
        while (hi < take - 1 && v[hi] - bias < target) {
          lo = hi;
          step <<= 1;
          hi = lo + step;
        }
        if (hi > take - 1) hi = take - 1;
        while (hi - lo > 1) {
          const uint32_t mid = lo + (hi - lo) / 2;
          if (v[mid] - bias < target) {
            lo = mid;
          } else {
            hi = mid;
          }
        }
        j = hi;
      }
      if (v[j] - bias == target) {
        if (first_only) return 1;
        c[w++] = c[a];
      }
      if (++a == n) return w;
      target = c[a] + add;
    }
    last = chunk_last;
    done += take;
  }
  return w;
}

void SegmentPostings::positions(std::vector<uint32_t>& out) const {
  if (opt_ != IndexRecordOption::kPosition || doc_ == kTerminated) {
    out.clear();
    return;
  }
  const uint32_t tf = term_freq();
  if (out.size() < tf) out.resize(tf);
  out.resize(positions(out.data()));
}

uint32_t SegmentPostings::positions(uint32_t* out) const {
  if (opt_ != IndexRecordOption::kPosition || doc_ == kTerminated) return 0;
  const uint32_t tf = term_freq();
  const uint64_t g = first_position_index(tf);
  const uint64_t packed_subs = num_positions_ / kBlockSize;
  uint32_t* o = out;
  uint64_t done = 0;
  // Positions are pos_buf_[i] - bias (mod 2^32): in the doc's first sub-block the bias is the
  // running sum before its first entry; in a later one, minus the doc's last position so far.
  uint32_t bias = 0;
  while (done < tf) {
    const uint64_t idx = g + done;
    const uint64_t sub = idx / kBlockSize;
    const uint32_t in = static_cast<uint32_t>(idx % kBlockSize);
    if (sub != psub_) load_positions_subblock(sub);
    const uint32_t in_sub = sub < packed_subs ? static_cast<uint32_t>(kBlockSize)
                                              : static_cast<uint32_t>(num_positions_ % kBlockSize);
    const uint32_t avail = in_sub - in;
    const uint32_t take = static_cast<uint32_t>(std::min<uint64_t>(avail, tf - done));
    if (done == 0) {
      bias = in > 0 ? pos_buf_[in - 1] : 0;
    } else {
      bias = 0u - o[-1];
    }
    const uint32_t* src = pos_buf_ + in;
    for (uint32_t j = 0; j < take; ++j) o[j] = src[j] - bias;
    o += take;
    done += take;
  }
  return tf;
}

}  // namespace needle

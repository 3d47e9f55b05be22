// Postings lists: doc ids, term frequencies and positions of each term
// (byte-exact format: docs/format/postings.md).
//
// PostingsSerializer appends one term after another to two byte streams, the postings stream and
// the positions stream, and returns a TermInfo per term (stored by the term dictionary).
// SegmentPostings iterates one term's postings straight from those bytes: blocks of 128 doc ids
// and term frequencies are bit-packed, skip entries in front of the blocks let seek() jump whole
// blocks, and the per-block maxima support block-max WAND/MaxScore.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "needle/codec/bitpacking.h"
#include "needle/common/bytes.h"
#include "needle/schema/schema.h"
#include "needle/store/file_slice.h"

namespace needle {

inline constexpr uint32_t kTerminated = 0x7fffffff;  // doc() after exhaustion
inline constexpr uint32_t kMaxDocId = kTerminated - 1;  // largest doc id a postings list may hold

// One (term frequency, field norm id) pair of a block's impacts: some doc of the block has at
// least this tf and at most this norm id (docs/format/postings.md "Impacts").
struct Impact {
  uint32_t tf = 0;
  uint8_t norm = 0;
  bool operator==(const Impact&) const = default;
};
// A block stores at most this many impacts.
inline constexpr uint32_t kMaxImpacts = 32;

// Where a term's postings live. Terms with doc_freq == 1 are inlined: their one posting is kept
// here (single_*) and nothing is written to the postings stream (postings_len == 0).
// A segment's term dictionary stores them with encode_stored() (offsets implicit within a block)
// and hands them out in the standalone form of encode()/decode().
struct TermInfo {
  uint32_t doc_freq = 0;
  uint64_t postings_offset = 0, postings_len = 0;    // byte range in the postings body
  uint64_t positions_offset = 0, positions_len = 0;  // range in the positions body (0: none)
  // doc_freq == 1 only: the single posting.
  uint32_t single_doc = 0;
  uint32_t single_tf = 0;
  uint8_t single_fieldnorm_id = 0;

  // Standalone form (vints, absolute offsets; docs/format/postings.md "TermInfo"): what a term
  // dictionary hands out. Not stored in files.
  void encode(ByteWriter& out) const;
  // Throws Error(kCorrupt) on bad bytes.
  static TermInfo decode(ByteReader& in);

  // Stored form (docs/format/postings.md "TermInfo"): within a block of the term dictionary the
  // terms' ranges follow one another, so only a block's first entry stores offsets (the bases);
  // a later entry's offsets are the ends of the ranges before it, kept in a Chain.
  struct Chain {
    uint64_t postings_end = 0;   // where the next term's postings start (body offset)
    uint64_t positions_end = 0;  // where its positions start
  };
  // `first`: a block's first entry, which stores the bases (for a range the term lacks: the
  // chain's end). Else the offsets must equal the chain's ends: returns false (writing nothing)
  // when one does not. Updates `chain` to the ends of this term's ranges.
  bool encode_stored(ByteWriter& out, bool first, Chain& chain) const;
  // Throws Error(kCorrupt) on bad bytes (also a range end above 2^64 - 1); updates `chain`.
  static TermInfo decode_stored(ByteReader& in, bool first, Chain& chain);
  // Only follows the chain over the stored entry [p, end) (reads its lengths and bases, not the
  // singleton): the fast path of a dictionary lookup passing over entries. Returns false on bad
  // bytes (as decode_stored would throw), leaving `chain` unspecified.
  static bool skip_stored(const uint8_t* p, const uint8_t* end, bool first, Chain& chain) noexcept {
    Vint df = next_vint(p, end);
    if (df.p == nullptr || df.v > UINT32_MAX) return false;
    uint64_t post_len = 0;
    p = df.p;
    if (df.v >= 2) {
      Vint l = next_vint(p, end);
      if (l.p == nullptr) return false;
      post_len = l.v;
      p = l.p;
    }
    Vint pos_len = next_vint(p, end);
    if (pos_len.p == nullptr) return false;
    uint64_t post_end = chain.postings_end, pos_end = chain.positions_end;
    if (first) {
      Vint a = next_vint(pos_len.p, end);
      if (a.p == nullptr) return false;
      Vint b = next_vint(a.p, end);
      if (b.p == nullptr) return false;
      post_end = a.v;
      pos_end = b.v;
    }
    if (post_len > UINT64_MAX - post_end || pos_len.v > UINT64_MAX - pos_end) return false;
    chain.postings_end = post_end + post_len;
    chain.positions_end = pos_end + pos_len.v;
    return true;
  }

  bool operator==(const TermInfo&) const = default;

 private:
  struct Vint {
    const uint8_t* p;  // just after the vint; null on bad bytes
    uint64_t v;
  };
  static Vint next_vint(const uint8_t* p, const uint8_t* end) noexcept {
    if (p < end && *p < 0x80) [[likely]] return {p + 1, *p};
    return next_vint_slow(p, end);
  }
  static Vint next_vint_slow(const uint8_t* p, const uint8_t* end) noexcept;
};

// Writes the postings of one term after another into two growing byte buffers. Offsets in the
// returned TermInfos are relative to the size each writer had when the serializer was
// constructed (so the caller may already have written an envelope header into them).
class PostingsSerializer {
 public:
  // `positions` is only written when opt == kPosition (may be null otherwise).
  PostingsSerializer(IndexRecordOption opt, ByteWriter* postings, ByteWriter* positions);

  void new_term();
  // Docs strictly increasing within a term and <= kMaxDocId; term_freq >= 1 (ignored for
  // kBasic); `positions` (absolute, non-decreasing, size == term_freq) only read when
  // opt == kPosition; fieldnorm_id of this doc's field (0 if the field has no norms).
  // Violations throw Error(kInvalidArgument).
  void write_doc(uint32_t doc, uint32_t term_freq, std::span<const uint32_t> positions,
                 uint8_t fieldnorm_id);
  TermInfo close_term();

  IndexRecordOption record_option() const { return opt_; }

 private:
  void flush_block();
  void flush_positions_block();

  IndexRecordOption opt_;
  ByteWriter* postings_;
  ByteWriter* positions_;
  size_t postings_base_ = 0;
  size_t positions_base_ = 0;

  // Current term.
  bool in_term_ = false;
  uint32_t doc_freq_ = 0;
  uint32_t first_doc_ = 0;
  uint32_t last_doc_ = 0;       // last doc written (any block)
  uint32_t prev_block_last_ = 0;
  uint64_t term_positions_start_ = 0;   // absolute offset in positions_ of the term
  uint64_t num_positions_ = 0;          // positions written so far in the term
  uint64_t block_pos_start_count_ = 0;  // num_positions_ at the start of the current block
  uint64_t block_pos_start_byte_ = 0;   // byte offset (in term) of the sub-block holding it
  uint32_t n_ = 0;  // docs buffered in the current block
  uint32_t docs_[bitpacking::kBlockSize];
  uint32_t tfs_[bitpacking::kBlockSize];
  uint8_t norms_[bitpacking::kBlockSize];
  uint32_t pos_buf_[bitpacking::kBlockSize];  // position deltas not yet flushed
  uint32_t pos_n_ = 0;
  std::vector<uint8_t> skip_;    // skip entries of the term
  std::vector<uint8_t> impacts_; // impacts records of the term's full blocks
  std::vector<uint8_t> blocks_;  // packed blocks of the term
  uint8_t scratch_[bitpacking::kBlockSize * 4];
};

// Reads one term's postings. Every length, offset and bit width read from the bytes is checked:
// bad input throws Error(kCorrupt) and never reads out of bounds. Construction decodes only the
// first block. Keeps shared references to the two Bytes. An iterator: one thread at a time
// (even the const accessors decode lazily); copies are independent.
class SegmentPostings {
 public:
  SegmentPostings();  // an empty list (doc() == kTerminated)
  SegmentPostings(Bytes postings_body, Bytes positions_body, const TermInfo& ti,
                  IndexRecordOption opt);

  uint32_t doc() const { return doc_; }
  // Next doc (kTerminated at the end; stays there).
  uint32_t advance() {
    if (cur_ + 1 < n_) {
      doc_ = docs_[++cur_];
      return doc_;
    }
    return advance_slow();
  }
  // First doc >= target (returns doc() if target <= doc()). Jumps whole blocks via skip entries.
  uint32_t seek(uint32_t target) {
    if (target <= doc_) return doc_;
    // The next doc of the block (often the answer when lists are dense), else the general case.
    if (cur_ + 1 < n_ && target <= docs_[cur_ + 1]) {
      doc_ = docs_[++cur_];
      return doc_;
    }
    return seek_slow(target);
  }
  // Term frequency of the current doc; 1 when opt == kBasic.
  uint32_t term_freq() const {
    if (!tf_ready_) decode_tfs();
    return tfs_[cur_];
  }
  // Absolute positions of the current doc (opt == kPosition; empty otherwise). Decodes only the
  // position blocks holding this doc's positions.
  void positions(std::vector<uint32_t>& out) const;
  // The same into out[0..term_freq()); returns their number (term_freq(); 0 without positions).
  uint32_t positions(uint32_t* out) const;
  // Keeps, of the increasing values c[0..n), those v for which v + add is a position of the
  // current doc, in order at the front of c; returns how many. With first_only, returns 1 as
  // soon as one is found (c is then unspecified). Decodes the doc's positions only as far as the
  // last value needs.
  uint32_t filter_positions(uint32_t* c, uint32_t n, uint64_t add, bool first_only) const;
  uint32_t doc_freq() const { return doc_freq_; }
  IndexRecordOption record_option() const { return opt_; }

  // Bulk iteration (collectors that take every doc): the current doc and the rest of the decoded
  // block, doc() first; empty when terminated. Valid until the next call that moves the cursor.
  // The docs never decrease (also in damaged data: a block whose doc ids wrap around is rejected).
  std::span<const uint32_t> block_docs() const {
    if (doc_ == kTerminated) return {};
    return {docs_ + cur_, n_ - cur_};
  }
  // Term frequencies aligned with block_docs() (all 1 when opt == kBasic).
  std::span<const uint32_t> block_term_freqs() const {
    if (doc_ == kTerminated) return {};
    if (!tf_ready_) decode_tfs();
    return {tfs_ + cur_, n_ - cur_};
  }
  // Moves to the first doc of the next block (kTerminated at the end).
  uint32_t next_block() {
    if (doc_ == kTerminated) return kTerminated;
    cur_ = n_ - 1;
    return advance_slow();
  }

  // Block-max support. The block cursor starts on the block of the current doc and follows it
  // when seek()/advance() enter a new block; shallow_seek moves it ahead without decoding.
  // The final partial block (fewer than 128 docs; a whole term of fewer than 128 docs) extends to
  // the end of the list: its block_last_doc() is kTerminated. Past the end: block_last_doc() ==
  // kTerminated, block_max_term_freq() == 0, block_min_fieldnorm_id() == 0, no impacts.
  void shallow_seek(uint32_t target);
  uint32_t block_last_doc() const { return skip_.last_doc; }
  // The block's impacts: norm ids and tfs both strictly increasing; every doc of the block has a
  // tf <= and a norm id >= those of one of them (so the score of one of them, for a score that
  // rises with tf and falls with the norm, bounds the block's). Valid until the cursor moves.
  std::span<const Impact> block_impacts() const;
  uint32_t block_max_term_freq() const {
    auto imp = block_impacts();
    return imp.empty() ? 0 : imp.back().tf;
  }
  uint8_t block_min_fieldnorm_id() const {
    auto imp = block_impacts();
    return imp.empty() ? 0 : imp.front().norm;
  }

 private:
  // State of the block cursor at one block.
  struct Cursor {
    uint32_t blk = 0;        // 0..num_blocks_-1 full blocks, num_blocks_ = tail, then end
    uint32_t base = 0;       // last doc of the previous block (first doc of the term for block 0)
    uint32_t last_doc = kTerminated;
    uint8_t doc_bits = 0, tf_bits = 0;
    uint8_t min_norm = 0;    // kBasic full blocks
    uint8_t imp_len = 0;     // bytes of the block's impacts record (kFreq, kPosition full blocks)
    uint64_t imp_off = 0;    // byte offset of that record within the term's postings
    uint64_t offset = 0;     // byte offset of the block's data within the term's postings
    uint64_t pos_index = 0;  // index (in the term) of the block's first position
    uint64_t pos_byte = 0;   // byte offset (in the term's positions) of the sub-block holding it
    uint32_t tf_sum = 0;     // positions in this block (full blocks, kPosition)
    uint32_t pos_bytes = 0;  // pos_byte of the next block minus pos_byte (full blocks, kPosition)
  };

  uint32_t advance_slow();
  uint32_t seek_slow(uint32_t target);
  void read_entry(Cursor& c) const;  // fills c from the skip entry (or tail/end) of c.blk
  void step(Cursor& c) const;        // moves c to the next block
  void skip_to(Cursor& c, uint32_t target) const;  // moves c to the block that may hold target
  void load_block(const Cursor& c);  // decodes doc ids of c.blk into docs_
  void decode_tail();
  void decode_tfs() const;
  void end();
  void load_positions_subblock(uint64_t sub) const;
  uint64_t first_position_index(uint32_t tf) const;  // of the current doc, range-checked
  void decode_impacts(uint64_t off, uint32_t len) const;
  [[noreturn]] void corrupt(const char* detail) const;

  Bytes postings_owner_, positions_owner_;
  const uint8_t* p_ = nullptr;  // the term's postings bytes
  size_t len_ = 0;
  const uint8_t* pp_ = nullptr;  // the term's positions bytes
  size_t pos_len_ = 0;
  IndexRecordOption opt_ = IndexRecordOption::kBasic;
  uint32_t doc_freq_ = 0;
  uint32_t num_blocks_ = 0;
  uint32_t tail_len_ = 0;
  uint32_t entry_size_ = 0;
  uint32_t first_doc_ = 0;
  uint32_t tail_max_tf_ = 0;     // inlined singleton: its tf
  uint8_t tail_min_norm_ = 0;    // kBasic tail, inlined singleton: min norm id
  uint8_t tail_imp_len_ = 0;     // kFreq/kPosition tail: impacts record
  size_t tail_imp_off_ = 0;
  size_t imp_start_ = 0;    // byte range of the full blocks' impacts records within the term
  size_t imp_end_ = 0;
  uint64_t num_positions_ = 0;
  size_t skip_start_ = 0;   // byte offset of the skip entries within the term
  size_t blocks_start_ = 0; // byte offset of block 0
  bool inlined_ = false;

  Cursor dec_;   // the block whose doc ids are in docs_
  Cursor skip_;  // the block cursor (never behind dec_)
  // doc_ and cur_ are kept apart: when adjacent, GCC merges their stores in advance() into one
  // 8-byte vector store, and the next 4-byte load of cur_ stalls on store forwarding.
  uint32_t doc_ = kTerminated;
  uint32_t n_ = 0;    // docs in docs_
  uint32_t cur_ = 0;  // index of the current doc in docs_
  // seek() compares a window of kSeekWindow docs after the current one; the slots past the
  // block hold kTerminated (as do those of a tail after its last doc).
  static constexpr uint32_t kSeekWindow = 8;
  alignas(64) uint32_t docs_[bitpacking::kBlockSize + kSeekWindow];
  mutable bool tf_ready_ = true;
  alignas(64) mutable uint32_t tfs_[bitpacking::kBlockSize];

  // Lazily decoded positions.
  mutable uint32_t pfx_doc_ = 0;      // tf prefix cache: positions before doc pfx_doc_ of block
  mutable uint64_t pfx_sum_ = 0;
  mutable uint64_t psub_ = UINT64_MAX;  // number of the position sub-block in pos_buf_ (running sums)
  mutable uint64_t psub_byte_ = 0;      // its byte offset
  mutable uint64_t psub_next_byte_ = 0; // byte offset just after it
  mutable uint32_t pos_buf_[bitpacking::kBlockSize];

  // Lazily decoded impacts of the block cursor's block.
  mutable uint32_t imp_blk_ = UINT32_MAX;
  mutable uint32_t imp_n_ = 0;
  mutable Impact imp_[kMaxImpacts];
};

}  // namespace needle

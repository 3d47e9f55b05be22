// Term dictionary writer and reader. The byte layout is specified in docs/format/termdict.md.
#include "needle/termdict/termdict.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "needle/common/checksum.h"
#include "needle/common/envelope.h"

namespace needle {

namespace {

constexpr uint32_t kTrailerMagic = 0x52544454;  // "TDTR"
// Trailer: header copy (16) | index offset u64 | index length u64 | term count u64 |
//          block count u32 | magic u32.
constexpr size_t kTrailerSize = 48;
constexpr uint64_t kMinFileSize = kEnvelopeHeaderSize + kTrailerSize + kEnvelopeFooterSize;
// How many bytes of the tail open() reads first, hoping the whole index is inside.
constexpr uint64_t kOpenReadSize = 64 * 1024;
// Blocks are read in pieces of this size by verify_checksum().
constexpr uint64_t kChecksumChunk = 1 << 20;

size_t common_prefix(std::string_view a, std::string_view b) {
  size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

size_t vint_len(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

int compare_bytes(std::string_view a, std::string_view b) {
  size_t n = std::min(a.size(), b.size());
  int c = n == 0 ? 0 : std::memcmp(a.data(), b.data(), n);
  if (c != 0) return c;
  return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
}

// The shortest string s with last <= s < next (last < next).
std::string separator(std::string_view last, std::string_view next) {
  size_t p = common_prefix(last, next);
  if (p + 1 < next.size() && p + 1 < last.size()) return std::string(next.substr(0, p + 1));
  return std::string(last);
}

}  // namespace

std::optional<std::string> prefix_successor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty() && static_cast<uint8_t>(s.back()) == 0xff) s.pop_back();
  if (s.empty()) return std::nullopt;
  s.back() = static_cast<char>(static_cast<uint8_t>(s.back()) + 1);
  return s;
}

// ---------------------------------------------------------------------------------------------
// Builder

TermDictBuilder::TermDictBuilder(size_t block_size, const ValueChain* chain)
    : block_size_(block_size == 0 ? 1 : block_size), chain_(chain) {
  write_envelope_header(out_, kTermDictKind, kTermDictVersion);
}

void TermDictBuilder::insert(std::string_view key, std::span<const uint8_t> value) {
  if (finished_) throw_error(ErrorCode::kInternal, "TermDictBuilder: insert after finish");
  if (num_terms_ > 0 && compare_bytes(key, last_key_) <= 0) {
    throw_error(ErrorCode::kInternal, "TermDictBuilder: keys must increase strictly (key of " +
                                          std::to_string(key.size()) + " bytes after term " +
                                          std::to_string(num_terms_) + ")");
  }
  if (key.size() > UINT32_MAX / 2 || value.size() > UINT32_MAX / 2) {
    throw_error(ErrorCode::kInvalidArgument, "TermDictBuilder: key or value too long");
  }
  size_t shared = block_count_ > 0 ? common_prefix(last_key_, key) : 0;
  // The stored form of the value: as it is without a chain; with one, chained to the previous
  // entry when the block has one and the chain can follow it, else a block's first entry.
  std::span<const uint8_t> stored = value;
  ValueChain::State next = state_;
  bool can_follow = true;
  if (chain_ != nullptr) {
    stored_.buf().clear();
    can_follow = block_count_ > 0 && chain_->encode(value, false, next, stored_);
    stored = stored_.span();
  }
  auto entry_size = [&](size_t sh) {
    return vint_len(sh) + vint_len(key.size() - sh) + (key.size() - sh) + vint_len(stored.size()) +
           stored.size();
  };
  if (block_count_ > 0 && (!can_follow || block_.size() + entry_size(shared) > block_size_)) {
    flush_block();
    shared = 0;
  }
  if (chain_ != nullptr && block_count_ == 0) {
    stored_.buf().clear();
    next = state_;
    if (!chain_->encode(value, true, next, stored_)) {
      throw_error(ErrorCode::kInternal, "TermDictBuilder: the value chain refused a block's first value");
    }
    stored = stored_.span();
  }
  if (stored.size() > UINT32_MAX / 2) {
    throw_error(ErrorCode::kInvalidArgument, "TermDictBuilder: value too long");
  }
  if (block_count_ == 0 && has_pending_) {
    // The previous block's separator can be chosen now that its successor key is known.
    std::string sep = separator(pending_last_, key);
    size_t sh = common_prefix(last_sep_, sep);
    if (num_blocks_ == 1) sh = 0;
    index_.vint(sh);
    index_.vint(sep.size() - sh);
    index_.bytes(std::string_view(sep).substr(sh));
    index_.vint(pending_len_);
    index_.vint(pending_count_);
    last_sep_ = std::move(sep);
    has_pending_ = false;
  }
  if (block_.size() + entry_size(shared) > UINT32_MAX) {
    throw_error(ErrorCode::kInvalidArgument, "TermDictBuilder: entry too large");
  }
  block_.vint(shared);
  block_.vint(key.size() - shared);
  block_.bytes(key.substr(shared));
  block_.vint(stored.size());
  block_.bytes(stored);
  last_key_.assign(key);
  state_ = next;
  ++block_count_;
  ++num_terms_;
}

void TermDictBuilder::flush_block() {
  out_.bytes(block_.span());
  pending_last_ = last_key_;
  pending_len_ = static_cast<uint32_t>(block_.size());
  pending_count_ = block_count_;
  has_pending_ = true;
  block_.buf().clear();
  block_count_ = 0;
  ++num_blocks_;
}

std::vector<uint8_t> TermDictBuilder::finish() {
  if (finished_) throw_error(ErrorCode::kInternal, "TermDictBuilder: finish called twice");
  finished_ = true;
  if (block_count_ > 0) flush_block();
  if (has_pending_) {
    // The last block's separator is its last key.
    size_t sh = num_blocks_ == 1 ? 0 : common_prefix(last_sep_, pending_last_);
    index_.vint(sh);
    index_.vint(pending_last_.size() - sh);
    index_.bytes(std::string_view(pending_last_).substr(sh));
    index_.vint(pending_len_);
    index_.vint(pending_count_);
    has_pending_ = false;
  }
  uint64_t index_offset = out_.size();
  out_.bytes(index_.span());
  std::array<uint8_t, kEnvelopeHeaderSize> header;
  std::memcpy(header.data(), out_.data().data(), kEnvelopeHeaderSize);
  out_.bytes(std::span<const uint8_t>(header));
  out_.u64(index_offset);
  out_.u64(index_.size());
  out_.u64(num_terms_);
  out_.u32(static_cast<uint32_t>(num_blocks_));
  out_.u32(kTrailerMagic);
  write_envelope_footer(out_);
  return out_.take();
}

// ---------------------------------------------------------------------------------------------
// Reader state

struct BlockMeta {
  uint64_t offset;     // in the file
  uint64_t first_ord;  // ordinal of the block's first term
  uint32_t len;
  uint32_t count;
  size_t sep_off;      // in TermDictData::seps
  size_t sep_len;
};

struct TermDictData {
  FileSlice file;
  const ValueChain* chain = nullptr;
  std::string name;
  uint64_t num_terms = 0;
  uint64_t checksum = 0;
  std::array<uint8_t, kEnvelopeHeaderSize> header{};
  std::vector<BlockMeta> blocks;
  std::string seps;

  std::string_view sep(size_t i) const {
    return std::string_view(seps).substr(blocks[i].sep_off, blocks[i].sep_len);
  }
  // The first block at or after `from` whose separator is >= key; blocks.size() if none.
  size_t find_block(std::string_view key, size_t from = 0) const {
    auto it = std::partition_point(blocks.begin() + static_cast<ptrdiff_t>(from), blocks.end(),
                                   [&](const BlockMeta& b) {
                                     return compare_bytes(
                                                std::string_view(seps).substr(b.sep_off, b.sep_len),
                                                key) < 0;
                                   });
    return static_cast<size_t>(it - blocks.begin());
  }
  Bytes read_block(size_t i) const { return file.read(blocks[i].offset, blocks[i].len); }
  [[noreturn]] void fail_block(size_t block, const std::string& what) const {
    throw_corrupt(name, "block " + std::to_string(block) + ": " + what);
  }
};

namespace {

// Walks the entries of one block, checking every length against the block's end.
class BlockCursor {
 public:
  void reset(const TermDictData* d, size_t block, const uint8_t* data) {
    d_ = d;
    block_ = block;
    p_ = data;
    end_ = data + d->blocks[block].len;
    remaining_ = d->blocks[block].count;
    first_ = true;
    prev_len_ = 0;
    state_ = ValueChain::State{};
    skip_fn_ = d->chain != nullptr ? d->chain->skip_fn() : nullptr;
  }
  void clear() { remaining_ = 0; }
  uint32_t remaining() const { return remaining_; }
  bool first() const { return first_; }
  ValueChain::State& state() { return state_; }
  size_t prev_len() const { return prev_len_; }

  void head(uint32_t& shared, const uint8_t*& suffix, uint32_t& suffix_len) {
    shared = vint();
    suffix_len = vint();
    if (first_ ? shared != 0 : shared > prev_len_) {
      d_->fail_block(block_, "shared prefix length " + std::to_string(shared) +
                                 " longer than the previous key");
    }
    if (suffix_len > static_cast<size_t>(end_ - p_)) d_->fail_block(block_, "key past the block's end");
    suffix = p_;
    p_ += suffix_len;
  }
  void value(const uint8_t*& v, uint32_t& len) {
    len = vint();
    if (len > static_cast<size_t>(end_ - p_)) d_->fail_block(block_, "value past the block's end");
    v = p_;
    p_ += len;
  }
  // The entry's value as inserted: the stored bytes, or their decoding by the dictionary's chain
  // into `buf`.
  void value(const uint8_t*& v, uint32_t& len, std::vector<uint8_t>& buf) {
    value(v, len);
    if (d_->chain != nullptr) {
      d_->chain->decode(std::span<const uint8_t>(v, len), first_, state_, &buf);
      v = buf.data();
      len = static_cast<uint32_t>(buf.size());
    }
  }
  // Passes over the entry's value (a chain still follows it).
  void skip_value() {
    uint32_t len = vint();
    if (len > static_cast<size_t>(end_ - p_)) d_->fail_block(block_, "value past the block's end");
    if (skip_fn_ != nullptr) {
      if (!skip_fn_(p_, p_ + len, first_, state_)) d_->fail_block(block_, "bad value");
    } else if (d_->chain != nullptr) {
      d_->chain->decode(std::span<const uint8_t>(p_, len), first_, state_, nullptr);
    }
    p_ += len;
  }
  void done_entry(size_t key_len) {
    prev_len_ = key_len;
    first_ = false;
    if (--remaining_ == 0 && p_ != end_) d_->fail_block(block_, "bytes after the last entry");
  }

 private:
  uint32_t vint() {
    if (p_ < end_ && *p_ < 0x80) [[likely]] return *p_++;
    return vint_slow();
  }
  [[gnu::noinline]] uint32_t vint_slow() {
    uint64_t v = 0;
    for (int shift = 0; shift < 35; shift += 7) {
      if (p_ >= end_) d_->fail_block(block_, "entry past the block's end");
      uint8_t b = *p_++;
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        if (v > UINT32_MAX) break;
        return static_cast<uint32_t>(v);
      }
    }
    d_->fail_block(block_, "bad length");
  }

  const TermDictData* d_ = nullptr;
  size_t block_ = 0;
  const uint8_t* p_ = nullptr;
  const uint8_t* end_ = nullptr;
  uint32_t remaining_ = 0;
  bool first_ = true;
  size_t prev_len_ = 0;
  ValueChain::State state_;  // the chain's state after the entries read
  ValueChain::SkipFn skip_fn_ = nullptr;
};

// Decodes a whole block, calling fn(key, value) for each entry; stops when fn returns false.
template <typename Fn>
void scan_block(const TermDictData& d, size_t block, std::string& key, Fn&& fn) {
  Bytes data = d.read_block(block);
  BlockCursor cur;
  cur.reset(&d, block, data.data());
  key.clear();
  std::vector<uint8_t> buf;
  while (cur.remaining() > 0) {
    uint32_t shared, slen, vlen;
    const uint8_t* suf;
    const uint8_t* val;
    cur.head(shared, suf, slen);
    key.resize(shared);
    key.append(reinterpret_cast<const char*>(suf), slen);
    cur.value(val, vlen, buf);
    cur.done_entry(key.size());
    if (!fn(std::string_view(key), std::span<const uint8_t>(val, vlen))) return;
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Streams

struct TermStream::Impl {
  std::shared_ptr<const TermDictData> d;
  size_t block = 0;        // the loaded block
  size_t next_block = 0;   // the block loaded when the current one runs out
  size_t end_block = 0;    // no block at or after this one is read
  Bytes data;              // the loaded block's bytes
  BlockCursor cur;
  std::string key;
  const uint8_t* val = nullptr;
  uint32_t val_len = 0;
  std::vector<uint8_t> val_buf;  // the current value, decoded by the dictionary's chain
  uint64_t next_ord = 0;
  uint64_t ord = 0;
  bool done = false;

  // Lower bound: keys below it are skipped in block lower_block (later blocks are all above it).
  bool check_lower = false;
  size_t lower_block = SIZE_MAX;
  std::string lower;
  bool lower_inclusive = true;
  // Upper bound: compared only in block upper_block (earlier blocks are all below it).
  bool has_upper = false;
  size_t upper_block = SIZE_MAX;
  std::string upper;
  bool upper_inclusive = true;

  // Automaton search.
  std::shared_ptr<const Automaton> aut;
  std::string prefix;
  std::vector<Automaton::State> states;  // states[i]: after i bytes of the remainder
  size_t valid = 0;                      // states[0..valid] are right for the current key
  size_t dead_len = 0;                   // > 0: keys starting with key[0..dead_len) cannot match

  bool advance();
  bool run_automaton(size_t shared);
  bool skip_dead_prefix();
  void load(size_t b) {
    data = d->read_block(b);
    block = b;
    cur.reset(d.get(), b, data.data());
    next_ord = d->blocks[b].first_ord;
    check_lower = (b == lower_block);
    dead_len = 0;
  }
};

bool TermStream::Impl::advance() {
  for (;;) {
    if (cur.remaining() == 0) {
      if (next_block >= end_block) {
        done = true;
        data = Bytes();
        return false;
      }
      load(next_block++);
    }
    uint32_t shared, slen;
    const uint8_t* suf;
    cur.head(shared, suf, slen);
    if (dead_len > 0) {
      if (shared >= dead_len) {
        // Shares the dead prefix: skip without decoding. key[0..dead_len) stays right for the
        // entries that follow.
        cur.skip_value();
        cur.done_entry(shared + static_cast<size_t>(slen));
        ++next_ord;
        continue;
      }
      dead_len = 0;
    }
    // The bytes this key shares with the previous one decoded (the automaton states for them are
    // still right). A block's first key is stored whole: compare it with the previous block's last.
    size_t common = shared;
    if (!cur.first()) {
      // Keys increase strictly, and `shared` is the whole common prefix with the previous key.
      bool ok = slen > 0 && (shared == cur.prev_len() ||
                             suf[0] > static_cast<uint8_t>(key[shared]));
      if (!ok) d->fail_block(block, "keys out of order");
    } else if (aut) {
      size_t n = std::min<size_t>(key.size(), slen);
      common = 0;
      while (common < n && static_cast<uint8_t>(key[common]) == suf[common]) ++common;
    }
    key.resize(shared);
    key.append(reinterpret_cast<const char*>(suf), slen);
    cur.value(val, val_len, val_buf);
    cur.done_entry(key.size());
    ord = next_ord++;
    if (has_upper && block == upper_block) {
      int c = compare_bytes(key, upper);
      if (c > 0 || (c == 0 && !upper_inclusive)) {
        done = true;
        data = Bytes();
        return false;
      }
    }
    if (check_lower) {
      int c = compare_bytes(key, lower);
      if (c < 0 || (c == 0 && !lower_inclusive)) {
        valid = 0;  // the automaton states no longer follow the key buffer
        continue;
      }
      check_lower = false;
    }
    if (!aut) return true;
    if (run_automaton(common)) return true;
    if (done) return false;
  }
}

// Feeds the key's remainder (after `prefix`) to the automaton, from the first byte the key does not
// share with the previous one. Returns whether the key matches.
bool TermStream::Impl::run_automaton(size_t shared) {
  size_t plen = prefix.size();
  if (shared < plen) {
    if (key.size() < plen || std::memcmp(key.data(), prefix.data(), plen) != 0) {
      d->fail_block(block, "keys out of order");
    }
  }
  size_t rlen = key.size() - plen;
  size_t sd = shared > plen ? shared - plen : 0;
  if (valid > sd) valid = sd;
  if (states.size() < rlen + 1) states.resize(rlen + 1);
  const uint8_t* r = reinterpret_cast<const uint8_t*>(key.data()) + plen;
  const Automaton& a = *aut;
  for (size_t i = valid; i < rlen; ++i) {
    Automaton::State s = a.step(states[i], r[i]);
    if (!a.can_match(s)) {
      valid = i;
      dead_len = plen + i + 1;
      skip_dead_prefix();
      return false;
    }
    states[i + 1] = s;
  }
  valid = rlen;
  return a.is_match(states[rlen]);
}

// Every key starting with key[0..dead_len) is a non-match. When such keys may run past the loaded
// block, jump through the block index to the first key after them; otherwise they are skipped
// cheaply by advance() (by their shared-prefix length).
bool TermStream::Impl::skip_dead_prefix() {
  // `lower` is free once the first key in range was seen: reuse it for the seek target.
  lower.assign(key, 0, dead_len);
  while (!lower.empty() && static_cast<uint8_t>(lower.back()) == 0xff) lower.pop_back();
  if (lower.empty()) {
    done = true;
    data = Bytes();
    return false;
  }
  lower.back() = static_cast<char>(static_cast<uint8_t>(lower.back()) + 1);
  if (compare_bytes(lower, d->sep(block)) <= 0) return true;  // ends inside this block
  size_t target = d->find_block(lower, block + 1);
  if (target >= end_block) {
    done = true;
    data = Bytes();
    return false;
  }
  lower_inclusive = true;
  lower_block = target;
  next_block = target;
  cur.clear();
  dead_len = 0;
  return true;
}

TermStream::TermStream() = default;
TermStream::TermStream(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TermStream::TermStream(TermStream&&) noexcept = default;
TermStream& TermStream::operator=(TermStream&&) noexcept = default;
TermStream::~TermStream() = default;

bool TermStream::next() {
  if (!impl_ || impl_->done) return false;
  return impl_->advance();
}

std::string_view TermStream::key() const { return impl_ ? std::string_view(impl_->key) : std::string_view(); }

std::span<const uint8_t> TermStream::value() const {
  if (!impl_) return {};
  return {impl_->val, impl_->val_len};
}

uint64_t TermStream::ordinal() const { return impl_ ? impl_->ord : 0; }

// ---------------------------------------------------------------------------------------------
// Reader

TermDict::TermDict() = default;

TermDict TermDict::open(FileSlice file, const ValueChain* chain) {
  auto d = std::make_shared<TermDictData>();
  d->chain = chain;
  d->name = file.name().empty() ? std::string("term dictionary") : file.name();
  d->file = file;
  const std::string& name = d->name;
  uint64_t len = file.size();
  if (len < kMinFileSize) {
    throw_corrupt(name, "file of " + std::to_string(len) +
                            " bytes is shorter than the smallest term dictionary");
  }
  uint64_t tail_len = std::min(len, kOpenReadSize);
  uint64_t tail_start = len - tail_len;
  Bytes tail = file.read(tail_start, tail_len);
  if (tail.size() != tail_len) throw_corrupt(name, "short read");
  std::span<const uint8_t> t = tail.span();
  d->checksum = check_envelope_footer(t.last(kEnvelopeFooterSize), len, name);
  ByteReader tr(t.subspan(tail_len - kEnvelopeFooterSize - kTrailerSize, kTrailerSize), name);
  auto header_copy = tr.bytes(kEnvelopeHeaderSize);
  std::memcpy(d->header.data(), header_copy.data(), kEnvelopeHeaderSize);
  uint64_t index_offset = tr.u64();
  uint64_t index_len = tr.u64();
  uint64_t num_terms = tr.u64();
  uint32_t num_blocks = tr.u32();
  if (tr.u32() != kTrailerMagic) throw_corrupt(name, "bad trailer magic");
  check_envelope_header(header_copy, kTermDictKind, kTermDictVersion, kTermDictVersion, name);
  if (tail_start == 0 && std::memcmp(t.data(), d->header.data(), kEnvelopeHeaderSize) != 0) {
    check_envelope_header(t.first(kEnvelopeHeaderSize), kTermDictKind, kTermDictVersion,
                          kTermDictVersion, name);
    throw_corrupt(name, "envelope header differs from its copy in the trailer");
  }
  uint64_t index_end = len - kEnvelopeFooterSize - kTrailerSize;
  if (index_offset < kEnvelopeHeaderSize || index_offset > index_end ||
      index_len != index_end - index_offset) {
    throw_corrupt(name, "block index at [" + std::to_string(index_offset) + ", +" +
                            std::to_string(index_len) + ") does not end at the trailer (" +
                            std::to_string(index_end) + ")");
  }
  if (num_blocks > index_len / 4) {
    throw_corrupt(name, std::to_string(num_blocks) + " blocks cannot fit an index of " +
                            std::to_string(index_len) + " bytes");
  }
  if ((num_terms == 0) != (num_blocks == 0)) {
    throw_corrupt(name, std::to_string(num_terms) + " terms in " + std::to_string(num_blocks) +
                            " blocks");
  }
  // The index bytes: inside the first read, or a second read plus the start of the first.
  std::span<const uint8_t> index;
  std::vector<uint8_t> joined;
  if (index_offset >= tail_start) {
    index = t.subspan(index_offset - tail_start, index_len);
  } else {
    Bytes head = file.read(index_offset, tail_start - index_offset);
    joined.reserve(index_len);
    joined.insert(joined.end(), head.data(), head.data() + head.size());
    joined.insert(joined.end(), t.data(), t.data() + (index_end - tail_start));
    if (joined.size() != index_len) throw_corrupt(name, "short read");
    index = joined;
  }

  ByteReader r(index, name);
  uint64_t off = kEnvelopeHeaderSize;
  uint64_t ord = 0;
  d->blocks.reserve(num_blocks);
  for (uint32_t i = 0; i < num_blocks; ++i) {
    uint32_t shared = r.vint32();
    size_t prev_off = i == 0 ? 0 : d->blocks.back().sep_off;
    size_t prev_len = i == 0 ? 0 : d->blocks.back().sep_len;
    if (shared > prev_len) r.fail("block index: shared prefix longer than the previous separator");
    uint32_t slen = r.vint32();
    auto suffix = r.bytes(slen);
    uint64_t blen = r.vint();
    uint64_t count = r.vint();
    if (count == 0 || blen < 3 * count || blen > UINT32_MAX || count > UINT32_MAX ||
        blen > index_offset - off || count > num_terms - ord) {
      r.fail("block index: block " + std::to_string(i) + " of " + std::to_string(blen) +
             " bytes and " + std::to_string(count) + " terms does not fit");
    }
    // A separator is no longer than the last key of its block or the first key of the next one,
    // and no key is longer than the block holding it.
    if (i > 0 && prev_len > blen + d->blocks.back().len) {
      r.fail("block index: separator longer than its blocks");
    }
    if (i + 1 == num_blocks && shared + static_cast<uint64_t>(slen) > blen) {
      r.fail("block index: last separator longer than its block");
    }
    BlockMeta m;
    m.offset = off;
    m.first_ord = ord;
    m.len = static_cast<uint32_t>(blen);
    m.count = static_cast<uint32_t>(count);
    m.sep_off = d->seps.size();
    m.sep_len = shared + static_cast<size_t>(slen);
    d->seps.resize(m.sep_off + m.sep_len);
    char* dst = d->seps.data() + m.sep_off;
    std::memcpy(dst, d->seps.data() + prev_off, shared);
    if (slen > 0) std::memcpy(dst + shared, suffix.data(), slen);
    if (i > 0 && compare_bytes(std::string_view(dst, m.sep_len),
                               std::string_view(d->seps.data() + prev_off, prev_len)) <= 0) {
      r.fail("block index: separators out of order");
    }
    d->blocks.push_back(m);
    off += blen;
    ord += count;
  }
  if (!r.done()) r.fail("block index: bytes after the last block");
  if (off != index_offset) {
    throw_corrupt(name, "blocks end at " + std::to_string(off) + " but the index starts at " +
                            std::to_string(index_offset));
  }
  if (ord != num_terms) {
    throw_corrupt(name, "blocks hold " + std::to_string(ord) + " terms but the trailer says " +
                            std::to_string(num_terms));
  }
  d->num_terms = num_terms;
  TermDict dict;
  dict.d_ = std::move(d);
  return dict;
}

void TermDict::verify_checksum() const {
  if (!d_) return;
  const FileSlice& f = d_->file;
  uint64_t end = f.size() - kEnvelopeFooterSize;
  Checksummer sum;
  for (uint64_t off = 0; off < end; off += kChecksumChunk) {
    Bytes b = f.read(off, std::min(kChecksumChunk, end - off));
    if (off == 0 && (b.size() < kEnvelopeHeaderSize ||
                     std::memcmp(b.data(), d_->header.data(), kEnvelopeHeaderSize) != 0)) {
      throw_corrupt(d_->name, "envelope header differs from its copy in the trailer");
    }
    sum.update(b.span());
  }
  if (sum.digest() != d_->checksum) throw_corrupt(d_->name, "checksum mismatch");
}

uint64_t TermDict::num_terms() const { return d_ ? d_->num_terms : 0; }
uint64_t TermDict::num_blocks() const { return d_ ? d_->blocks.size() : 0; }

bool TermDict::get(std::string_view key, std::vector<uint8_t>& value_out) const {
  if (!d_ || d_->blocks.empty()) return false;
  size_t b = d_->find_block(key);
  if (b >= d_->blocks.size()) return false;
  Bytes data = d_->read_block(b);
  BlockCursor cur;
  cur.reset(d_.get(), b, data.data());
  // matched: the length of the common prefix of `key` and the previous entry (which is < key).
  size_t matched = 0;
  const auto* k = reinterpret_cast<const uint8_t*>(key.data());
  while (cur.remaining() > 0) {
    uint32_t shared, slen;
    const uint8_t* suf;
    cur.head(shared, suf, slen);
    if (!cur.first()) {
      if (shared < matched) return false;  // differs from key where the previous one agreed: >
      if (shared > matched) {              // agrees with the previous one where it was < key
        cur.skip_value();
        cur.done_entry(shared + static_cast<size_t>(slen));
        continue;
      }
    }
    size_t rest = key.size() - matched;
    size_t n = std::min<size_t>(slen, rest);
    size_t i = 0;
    while (i < n && suf[i] == k[matched + i]) ++i;
    if (i == slen && i == rest) {
      const uint8_t* v;
      uint32_t vlen;
      cur.value(v, vlen);
      if (d_->chain != nullptr) {
        d_->chain->decode(std::span<const uint8_t>(v, vlen), cur.first(), cur.state(), &value_out);
      } else {
        value_out.assign(v, v + vlen);
      }
      return true;
    }
    if (i < slen && (i == rest || suf[i] > k[matched + i])) return false;  // entry > key
    matched += i;
    cur.skip_value();
    cur.done_entry(shared + static_cast<size_t>(slen));
  }
  return false;
}

namespace {

std::unique_ptr<TermStream::Impl> make_stream(const std::shared_ptr<const TermDictData>& d,
                                              const std::optional<TermBound>& lower,
                                              const std::optional<TermBound>& upper) {
  auto s = std::make_unique<TermStream::Impl>();
  if (!d || d->blocks.empty()) {
    s->done = true;
    return s;
  }
  s->d = d;
  size_t nb = d->blocks.size();
  s->end_block = nb;
  if (upper) {
    size_t ub = d->find_block(upper->key);
    if (ub < nb) {  // else every key is below the bound
      s->has_upper = true;
      s->upper = upper->key;
      s->upper_inclusive = upper->inclusive;
      s->upper_block = ub;
      s->end_block = ub + 1;
    }
  }
  size_t lb = 0;
  if (lower) {
    lb = d->find_block(lower->key);
    s->lower = lower->key;
    s->lower_inclusive = lower->inclusive;
    s->lower_block = lb;
  }
  s->next_block = lb;
  if (lb >= s->end_block) s->done = true;
  return s;
}

std::optional<TermBound> prefix_upper(std::string_view prefix) {
  auto succ = prefix_successor(prefix);
  if (!succ) return std::nullopt;
  return TermBound{std::move(*succ), false};
}

}  // namespace

TermStream TermDict::range(std::optional<TermBound> lower, std::optional<TermBound> upper) const {
  return TermStream(make_stream(d_, lower, upper));
}

TermStream TermDict::prefix(std::string_view key_prefix) const {
  std::optional<TermBound> lower;
  if (!key_prefix.empty()) lower = TermBound{std::string(key_prefix), true};
  return TermStream(make_stream(d_, lower, prefix_upper(key_prefix)));
}

TermStream TermDict::search(std::shared_ptr<const Automaton> automaton,
                            std::string_view key_prefix) const {
  if (!automaton) throw_error(ErrorCode::kInvalidArgument, "TermDict::search: no automaton");
  std::optional<TermBound> lower;
  if (!key_prefix.empty()) lower = TermBound{std::string(key_prefix), true};
  auto s = make_stream(d_, lower, prefix_upper(key_prefix));
  Automaton::State start = automaton->start();
  if (!automaton->can_match(start)) s->done = true;
  s->states.assign(1, start);
  s->prefix.assign(key_prefix);
  s->aut = std::move(automaton);
  return TermStream(std::move(s));
}

std::optional<std::string> TermDict::first_key(std::string_view key_prefix) const {
  TermStream s = prefix(key_prefix);
  if (!s.next()) return std::nullopt;
  return std::string(s.key());
}

std::optional<std::string> TermDict::last_key(std::string_view key_prefix) const {
  if (!d_ || d_->blocks.empty()) return std::nullopt;
  size_t nb = d_->blocks.size();
  auto succ = prefix_successor(key_prefix);
  size_t b = succ ? d_->find_block(*succ) : nb;
  if (b >= nb) b = nb - 1;
  std::string key, best;
  bool found = false;
  auto take_below = [&](std::string_view k, std::span<const uint8_t>) {
    if (succ && compare_bytes(k, *succ) >= 0) return false;
    best.assign(k);
    found = true;
    return true;
  };
  scan_block(*d_, b, key, take_below);
  if (!found && b > 0) scan_block(*d_, b - 1, key, take_below);
  if (!found || best.size() < key_prefix.size() ||
      std::string_view(best).substr(0, key_prefix.size()) != key_prefix) {
    return std::nullopt;
  }
  return best;
}

}  // namespace needle

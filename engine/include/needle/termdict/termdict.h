// The term dictionary: a sorted map from term keys (arbitrary bytes, memcmp order) to short opaque
// values, stored as prefix-compressed blocks plus a block index at the tail (docs/format/termdict.md).
//
// Reading is built for remote storage: TermDict::open reads only the tail (at most two reads), an
// exact lookup reads one block, and streams read one block at a time as they advance.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "needle/common/bytes.h"
#include "needle/common/envelope.h"
#include "needle/store/file_slice.h"
#include "needle/termdict/automaton.h"

namespace needle {

constexpr uint32_t kTermDictKind = fourcc("TDIC");
constexpr uint32_t kTermDictVersion = 2;

// Chained values (docs/format/termdict.md "Chained values"): a dictionary may store each value
// relative to the values before it in its block (a reader always decodes a block from its first
// entry). The chain turns a value into its stored form and back; the dictionary hands it every
// value of a block in order, and only ever shows callers the values as they were inserted. A
// dictionary without a chain stores values as they are. Implementations are stateless (the state
// lives in `State`, whose meaning is the chain's) and thread-safe.
class ValueChain {
 public:
  struct State {
    uint64_t a = 0, b = 0;
  };
  virtual ~ValueChain() = default;
  // Writer. `state` is the state after the previous value of the dictionary (all zero before the
  // first). Appends the stored form of `value` to `out` and updates `state`: as the first entry of
  // a block when `first`, else relative to `state`; returns false (and writes nothing) when the
  // value cannot follow `state`, so that the builder starts a new block with it.
  virtual bool encode(std::span<const uint8_t> value, bool first, State& state,
                      ByteWriter& out) const = 0;
  // Reader. `stored`: the stored form of an entry; `state`: after the earlier entries of its block
  // (ignored when `first`). Updates `state`; when `out` is not null, replaces its contents with the
  // value as inserted. Throws Error(kCorrupt) on bad bytes.
  virtual void decode(std::span<const uint8_t> stored, bool first, State& state,
                      std::vector<uint8_t>* out) const = 0;

  // An optional fast path for decode(stored, first, state, nullptr) on the entries a lookup passes
  // over (most of a block): a plain function over [p, end) that returns false on bad bytes.
  using SkipFn = bool (*)(const uint8_t* p, const uint8_t* end, bool first, State& state);
  SkipFn skip_fn() const { return skip_fn_; }

 protected:
  explicit ValueChain(SkipFn skip_fn = nullptr) : skip_fn_(skip_fn) {}

 private:
  SkipFn skip_fn_;
};

class TermDictBuilder {
 public:
  // `chain` (optional) must outlive the builder; a reader of the file must use the same chain.
  explicit TermDictBuilder(size_t block_size = 4096, const ValueChain* chain = nullptr);
  // Keys must increase strictly (memcmp order; the empty key may come first): else Error(kInternal).
  void insert(std::string_view key, std::span<const uint8_t> value);
  uint64_t num_terms() const { return num_terms_; }
  // The whole file, inside the needle envelope. The builder is spent afterwards.
  std::vector<uint8_t> finish();

 private:
  void flush_block();

  size_t block_size_;
  const ValueChain* chain_;
  ValueChain::State state_;  // chain state after the last value inserted
  ByteWriter stored_;        // scratch: a value's stored form
  ByteWriter out_;           // envelope header + finished blocks
  ByteWriter block_;         // the block being filled
  ByteWriter index_;         // index entries of finished blocks, except the pending separator
  std::string last_key_;     // the last key inserted
  std::string last_sep_;     // the previous separator written to the index
  std::string pending_last_; // last key of the most recent flushed block, separator not yet written
  bool has_pending_ = false;
  uint32_t pending_len_ = 0, pending_count_ = 0;
  uint32_t block_count_ = 0;  // terms in block_
  uint64_t num_terms_ = 0;
  uint64_t num_blocks_ = 0;
  bool finished_ = false;
};

struct TermBound {
  std::string key;
  bool inclusive = true;
};

struct TermDictData;  // the opened dictionary's shared, immutable state

// A forward iterator over (key, value) in key order. Owns its buffers (the current block and the
// current key), so key() and value() stay valid until the next call to next(). Reads lazily: a
// stream that is never advanced reads nothing.
class TermStream {
 public:
  TermStream();  // an empty stream
  TermStream(TermStream&&) noexcept;
  TermStream& operator=(TermStream&&) noexcept;
  ~TermStream();

  bool next();  // false at the end (and every time after)
  std::string_view key() const;  // full key
  std::span<const uint8_t> value() const;
  uint64_t ordinal() const;  // the current key's position in the whole dictionary (0-based)

  struct Impl;

 private:
  friend class TermDict;
  explicit TermStream(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Copyable and cheap to share; thread-safe for concurrent const use.
class TermDict {
 public:
  TermDict();  // an empty dictionary that reads nothing
  // Reads only the tail (envelope footer, trailer, block index): at most two reads of `file`.
  // Checks the envelope (kind, version, length) and every offset of the index; Error(kCorrupt),
  // kVersionTooOld or kVersionTooNew otherwise. The whole-file checksum: verify_checksum().
  // `chain`: the one the file was written with (must outlive every copy of the dictionary and its
  // streams); values read are the values as inserted.
  static TermDict open(FileSlice file, const ValueChain* chain = nullptr);
  void verify_checksum() const;  // reads everything; Error(kCorrupt) on a mismatch

  uint64_t num_terms() const;
  uint64_t num_blocks() const;
  // Exact lookup; binary-searches the block index and reads at most one block.
  bool get(std::string_view key, std::vector<uint8_t>& value_out) const;
  // Absent bound: unbounded on that side.
  TermStream range(std::optional<TermBound> lower, std::optional<TermBound> upper) const;
  TermStream prefix(std::string_view key_prefix) const;
  // Every key that starts with key_prefix and whose remainder after the prefix the automaton
  // matches, in key order. Skips whole key ranges once the automaton is dead on a byte prefix of the
  // remainder; each key costs only the automaton steps for the bytes it does not share with the
  // previous key.
  TermStream search(std::shared_ptr<const Automaton> automaton, std::string_view key_prefix) const;
  // Smallest and largest key that starts with key_prefix, if any.
  std::optional<std::string> first_key(std::string_view key_prefix) const;
  std::optional<std::string> last_key(std::string_view key_prefix) const;

 private:
  std::shared_ptr<const TermDictData> d_;
};

// The smallest key greater than every key that starts with `prefix`, or nullopt when there is none
// (the prefix is empty or all 0xff bytes).
std::optional<std::string> prefix_successor(std::string_view prefix);

}  // namespace needle

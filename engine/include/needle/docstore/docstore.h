// The document store: the stored bytes of every document of a segment, in blocks compressed
// with zstd or lz4 (or not at all), found by a block index read when the store is opened.
// Byte format: docs/format/docstore.md.
//
// Opening reads the fixed prolog and the block index (two range reads). get() reads one block,
// checks its own checksum (remote reads never see the whole file) and decompresses it, bounding
// the output by the block's stated raw size; a few recently decoded blocks are cached, so
// consecutive gets within one block decompress it once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "needle/common/bytes.h"
#include "needle/store/file_slice.h"

namespace needle {

enum class Compression : uint8_t { kNone = 0, kZstd = 1, kLz4 = 2 };

// "none", "zstd", "lz4" (exact, lower case); anything else: nullopt.
std::optional<Compression> parse_compression(std::string_view name);
std::string_view compression_name(Compression c);

// The largest raw (uncompressed) block a reader accepts, and so the largest document a writer
// accepts (kInvalidArgument beyond). A block index entry that states more is kCorrupt.
constexpr uint32_t kDocStoreMaxRawBlock = 64u << 20;

class DocStoreReader;

class DocStoreWriter {
 public:
  // block_size: a block is closed and compressed once its raw bytes reach this many (>= 1).
  // zstd_level: any level zstd accepts. Bad arguments: kInvalidArgument.
  explicit DocStoreWriter(Compression c = Compression::kZstd, size_t block_size = 16384,
                          int zstd_level = 3);
  ~DocStoreWriter();
  DocStoreWriter(DocStoreWriter&&) noexcept;
  DocStoreWriter& operator=(DocStoreWriter&&) noexcept;

  // Doc ids are 0, 1, 2, ... in order of add. A document larger than kDocStoreMaxRawBlock minus
  // its length prefix, or the 2^32-1'th document: kInvalidArgument / kResourceExhausted.
  void add(std::span<const uint8_t> doc);
  uint32_t num_docs() const;
  // Bytes held in memory (compressed blocks, the open block, the index).
  size_t memory_usage() const;

  // Appends every document of `other`, re-basing its doc ids after this writer's. When the
  // compression matches, other's compressed blocks are copied wholesale (each block's checksum is
  // checked on the way); otherwise its documents are decompressed and recompressed. The current
  // partial block, if any, is closed first.
  void append_store(const DocStoreReader& other);

  // The whole file (envelope kind "DSTO", version 1). The writer is spent afterwards: any
  // further call throws kInvalidArgument.
  std::vector<uint8_t> finish();
  // Streams the file to `sink` as it is written (in pieces of about 1 MiB), so the writer holds
  // only the open block and the block index; finish() then hands the last bytes to the sink and
  // returns nothing. Call before the first add().
  void set_sink(std::function<void(std::span<const uint8_t>)> sink);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Cheap to copy (shared state); copies share the block cache. All methods are thread-safe.
class DocStoreReader {
 public:
  DocStoreReader() = default;

  // Reads and checks the envelope header, the prolog and the block index (2 range reads); a bad
  // envelope, prolog or index entry (offsets outside the file, doc counts not increasing, sizes
  // beyond limits, index checksum) is kCorrupt; a newer format is kVersionTooNew.
  static DocStoreReader open(FileSlice file);

  // Reads the whole file (in 1 MiB pieces) and checks the envelope checksum (kCorrupt).
  void verify_checksum() const;

  uint32_t num_docs() const;
  Compression compression() const;
  size_t num_blocks() const;

  // The stored bytes of `doc`. doc >= num_docs(): kInvalidArgument. A bad block: kCorrupt.
  std::vector<uint8_t> get(uint32_t doc) const;

  // Used by DocStoreWriter::append_store: the index entry of block `i` and its compressed bytes
  // (checksum verified).
  struct BlockInfo {
    uint64_t offset = 0;      // of the compressed bytes, from the start of the file
    uint32_t first_doc = 0;
    uint32_t num_docs = 0;
    uint32_t compressed_len = 0;
    uint32_t raw_len = 0;
    uint64_t checksum = 0;    // XXH3-64 of the compressed bytes
  };
  BlockInfo block_info(size_t i) const;
  Bytes read_compressed_block(size_t i) const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace needle

// Document store: see docstore.h and docs/format/docstore.md.
#include "needle/docstore/docstore.h"

#include <functional>

#include <lz4.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <mutex>
#include <string>
#include <utility>

#include "needle/common/checksum.h"
#include "needle/common/envelope.h"
#include "needle/common/error.h"

namespace needle {

namespace {

constexpr uint32_t kDocStoreKind = fourcc("DSTO");
constexpr uint32_t kDocStoreVersion = 1;
// Prolog: compression u8 | reserved 3 bytes | num_docs u32 | num_blocks u32 | reserved u32 |
// index_offset u64 | meta checksum u64.
constexpr size_t kTrailerSize = 32;       // before the envelope footer
constexpr size_t kTrailerChecksummed = 24;  // the trailer bytes the meta checksum covers
constexpr size_t kBlocksOffset = kEnvelopeHeaderSize;  // 16
constexpr size_t kTailSize = kTrailerSize + kEnvelopeFooterSize;  // 52
constexpr size_t kSpillBytes = 1 << 20;     // a streaming writer hands over bytes in ~1 MiB pieces
// Index entry: offset u64 | first_doc u32 | compressed_len u32 | raw_len u32 | checksum u64.
constexpr size_t kIndexEntrySize = 28;
constexpr size_t kCacheBlocks = 4;
constexpr size_t kVerifyChunk = 1 << 20;

size_t vint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

bool valid_compression(uint8_t c) { return c <= static_cast<uint8_t>(Compression::kLz4); }

// The most compressed bytes a codec can produce for `raw` bytes.
uint64_t compress_bound(Compression c, uint32_t raw) {
  switch (c) {
    case Compression::kNone:
      return raw;
    case Compression::kZstd:
      return ZSTD_COMPRESSBOUND(static_cast<uint64_t>(raw));
    case Compression::kLz4:
      return static_cast<uint64_t>(LZ4_COMPRESSBOUND(static_cast<int64_t>(raw)));
  }
  return 0;
}

struct Decoded {
  std::vector<uint8_t> raw;
  std::vector<std::pair<uint32_t, uint32_t>> docs;  // (start, length) in raw
};

}  // namespace

std::optional<Compression> parse_compression(std::string_view name) {
  if (name == "none") return Compression::kNone;
  if (name == "zstd") return Compression::kZstd;
  if (name == "lz4") return Compression::kLz4;
  return std::nullopt;
}

std::string_view compression_name(Compression c) {
  switch (c) {
    case Compression::kNone:
      return "none";
    case Compression::kZstd:
      return "zstd";
    case Compression::kLz4:
      return "lz4";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------------------------
// Reader

struct DocStoreReader::State {
  FileSlice file;
  Compression compression = Compression::kNone;
  uint32_t num_docs = 0;
  std::vector<BlockInfo> blocks;

  mutable std::mutex mu;
  // Most recently used first.
  mutable std::vector<std::pair<size_t, std::shared_ptr<const Decoded>>> cache;

  std::string what() const { return "doc store '" + file.name() + "'"; }
  [[noreturn]] void corrupt(const std::string& detail) const { throw_corrupt(what(), detail); }

  Bytes read_block(size_t i) const {
    const BlockInfo& b = blocks[i];
    Bytes bytes = file.read(b.offset, b.compressed_len);
    if (checksum64(bytes.span()) != b.checksum) {
      corrupt("checksum mismatch in block " + std::to_string(i) + " (docs " +
              std::to_string(b.first_doc) + ".." +
              std::to_string(b.first_doc + b.num_docs - 1) + ")");
    }
    return bytes;
  }

  std::shared_ptr<const Decoded> decode(size_t i) const {
    const BlockInfo& b = blocks[i];
    Bytes src = read_block(i);
    auto d = std::make_shared<Decoded>();
    d->raw.resize(b.raw_len);
    std::string block_name = "block " + std::to_string(i);
    switch (compression) {
      case Compression::kNone:
        if (src.size() != b.raw_len) corrupt(block_name + ": stored size differs from raw size");
        std::memcpy(d->raw.data(), src.data(), src.size());
        break;
      case Compression::kZstd: {
        size_t n = ZSTD_decompress(d->raw.data(), d->raw.size(), src.data(), src.size());
        if (ZSTD_isError(n)) {
          corrupt(block_name + ": zstd: " + ZSTD_getErrorName(n));
        }
        if (n != b.raw_len) {
          corrupt(block_name + ": decompressed to " + std::to_string(n) + " bytes, expected " +
                  std::to_string(b.raw_len));
        }
        break;
      }
      case Compression::kLz4: {
        int n = LZ4_decompress_safe(reinterpret_cast<const char*>(src.data()),
                                    reinterpret_cast<char*>(d->raw.data()),
                                    static_cast<int>(src.size()), static_cast<int>(b.raw_len));
        if (n < 0 || static_cast<uint32_t>(n) != b.raw_len) {
          corrupt(block_name + ": lz4 data does not decompress to " + std::to_string(b.raw_len) +
                  " bytes");
        }
        break;
      }
    }
    std::string rows_name = what() + " " + block_name;
    ByteReader r(d->raw, rows_name);
    d->docs.reserve(b.num_docs);
    for (uint32_t k = 0; k < b.num_docs; ++k) {
      uint64_t len = r.vint();
      if (len > r.remaining()) {
        r.fail("document of " + std::to_string(len) + " bytes past the end of the block");
      }
      d->docs.emplace_back(static_cast<uint32_t>(r.pos()), static_cast<uint32_t>(len));
      r.skip(static_cast<size_t>(len));
    }
    if (!r.done()) r.fail("bytes left over after the block's last document");
    return d;
  }

  std::shared_ptr<const Decoded> block(size_t i) const {
    {
      std::lock_guard<std::mutex> lock(mu);
      for (size_t k = 0; k < cache.size(); ++k) {
        if (cache[k].first == i) {
          auto hit = cache[k];
          cache.erase(cache.begin() + static_cast<ptrdiff_t>(k));
          cache.insert(cache.begin(), hit);
          return hit.second;
        }
      }
    }
    // Decode outside the lock; two threads may both decode one block, which is harmless.
    auto d = decode(i);
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& e : cache) {
      if (e.first == i) return e.second;
    }
    cache.insert(cache.begin(), {i, d});
    if (cache.size() > kCacheBlocks) cache.pop_back();
    return d;
  }
};

DocStoreReader DocStoreReader::open(FileSlice file) {
  auto st = std::make_shared<State>();
  st->file = std::move(file);
  const std::string what = st->what();
  const uint64_t size = st->file.size();
  if (size < kBlocksOffset + kTailSize) {
    throw_corrupt(what, "file of " + std::to_string(size) + " bytes is shorter than the " +
                            std::to_string(kBlocksOffset + kTailSize) + " bytes of an empty store");
  }

  // Read 1: envelope header. Read 2: trailer and envelope footer. Read 3: block index.
  Bytes head = st->file.read(0, kEnvelopeHeaderSize);
  check_envelope_header(head.span(), kDocStoreKind, kDocStoreVersion, kDocStoreVersion, what);
  Bytes tail = st->file.read(size - kTailSize, kTailSize);
  check_envelope_footer(tail.span().last(kEnvelopeFooterSize), size, what);
  const std::string trailer_name = what + " trailer";  // ByteReader keeps a view of the name
  ByteReader p(tail.span().first(kTrailerSize), trailer_name);
  uint8_t comp = p.u8();
  if (!valid_compression(comp)) p.fail("unknown compression " + std::to_string(comp));
  st->compression = static_cast<Compression>(comp);
  if (p.u8() != 0 || p.u8() != 0 || p.u8() != 0) p.fail("reserved bytes are not zero");
  st->num_docs = p.u32();
  uint32_t num_blocks = p.u32();
  if (p.u32() != 0) p.fail("reserved field is not zero");
  uint64_t index_offset = p.u64();
  uint64_t meta_checksum = p.u64();
  if (num_blocks > st->num_docs) {
    p.fail(std::to_string(num_blocks) + " blocks for " + std::to_string(st->num_docs) + " documents");
  }
  if ((num_blocks == 0) != (st->num_docs == 0)) {
    p.fail(std::to_string(st->num_docs) + " documents in " + std::to_string(num_blocks) + " blocks");
  }
  const uint64_t index_end = size - kTailSize;
  if (index_offset < kBlocksOffset || index_offset > index_end ||
      index_end - index_offset != static_cast<uint64_t>(num_blocks) * kIndexEntrySize) {
    p.fail("block index at offset " + std::to_string(index_offset) + " for " +
           std::to_string(num_blocks) + " blocks does not end at the trailer (file of " +
           std::to_string(size) + " bytes)");
  }
  Bytes index_bytes = st->file.read(index_offset, index_end - index_offset);
  std::span<const uint8_t> index = index_bytes.span();
  {
    Checksummer sum;
    sum.update(tail.span().first(kTrailerChecksummed));
    sum.update(index);
    if (sum.digest() != meta_checksum) throw_corrupt(what, "trailer/block index checksum mismatch");
  }
  const std::string index_name = what + " block index";
  ByteReader r(index, index_name);
  st->blocks.resize(num_blocks);
  uint64_t expect_offset = kBlocksOffset;
  for (uint32_t i = 0; i < num_blocks; ++i) {
    BlockInfo& b = st->blocks[i];
    b.offset = r.u64();
    b.first_doc = r.u32();
    b.compressed_len = r.u32();
    b.raw_len = r.u32();
    b.checksum = r.u64();
    std::string entry = "block " + std::to_string(i) + ": ";
    if (b.offset != expect_offset) {
      r.fail(entry + "starts at " + std::to_string(b.offset) + ", expected " +
             std::to_string(expect_offset));
    }
    if (b.compressed_len == 0 || b.compressed_len > index_offset - b.offset) {
      r.fail(entry + std::to_string(b.compressed_len) + " compressed bytes do not fit before the index");
    }
    expect_offset = b.offset + b.compressed_len;
    if (i == 0 ? b.first_doc != 0 : b.first_doc <= st->blocks[i - 1].first_doc) {
      r.fail(entry + "first document " + std::to_string(b.first_doc) + " out of order");
    }
    if (b.first_doc >= st->num_docs) {
      r.fail(entry + "first document " + std::to_string(b.first_doc) + " beyond the " +
             std::to_string(st->num_docs) + " documents");
    }
    if (b.raw_len == 0 || b.raw_len > kDocStoreMaxRawBlock) {
      r.fail(entry + "raw size " + std::to_string(b.raw_len) + " outside 1.." +
             std::to_string(kDocStoreMaxRawBlock));
    }
    if (b.compressed_len > compress_bound(st->compression, b.raw_len)) {
      r.fail(entry + std::to_string(b.compressed_len) + " compressed bytes for " +
             std::to_string(b.raw_len) + " raw bytes");
    }
    if (i > 0) {
      BlockInfo& prev = st->blocks[i - 1];
      prev.num_docs = b.first_doc - prev.first_doc;
      if (prev.num_docs > prev.raw_len) r.fail("block " + std::to_string(i - 1) + ": too many documents");
    }
  }
  if (num_blocks > 0) {
    BlockInfo& last = st->blocks.back();
    last.num_docs = st->num_docs - last.first_doc;
    if (last.num_docs > last.raw_len) r.fail("last block: too many documents");
  }
  if (expect_offset != index_offset) {
    r.fail("blocks end at " + std::to_string(expect_offset) + " but the index starts at " +
           std::to_string(index_offset));
  }
  DocStoreReader reader;
  reader.state_ = std::move(st);
  return reader;
}

void DocStoreReader::verify_checksum() const {
  if (!state_) throw_error(ErrorCode::kInvalidArgument, "doc store: reader not opened");
  const State& st = *state_;
  const uint64_t size = st.file.size();
  Bytes footer = st.file.read(size - kEnvelopeFooterSize, kEnvelopeFooterSize);
  uint64_t stored = check_envelope_footer(footer.span(), size, st.what());
  Checksummer sum;
  const uint64_t covered = size - kEnvelopeFooterSize;
  for (uint64_t off = 0; off < covered; off += kVerifyChunk) {
    uint64_t n = std::min<uint64_t>(kVerifyChunk, covered - off);
    sum.update(st.file.read(off, n).span());
  }
  if (sum.digest() != stored) throw_corrupt(st.what(), "checksum mismatch");
}

uint32_t DocStoreReader::num_docs() const { return state_ ? state_->num_docs : 0; }
Compression DocStoreReader::compression() const {
  return state_ ? state_->compression : Compression::kNone;
}
size_t DocStoreReader::num_blocks() const { return state_ ? state_->blocks.size() : 0; }

DocStoreReader::BlockInfo DocStoreReader::block_info(size_t i) const {
  if (!state_ || i >= state_->blocks.size()) {
    throw_error(ErrorCode::kInvalidArgument, "doc store: block " + std::to_string(i) + " out of range");
  }
  return state_->blocks[i];
}

Bytes DocStoreReader::read_compressed_block(size_t i) const {
  block_info(i);  // range check
  return state_->read_block(i);
}

std::vector<uint8_t> DocStoreReader::get(uint32_t doc) const {
  if (doc >= num_docs()) {
    throw_error(ErrorCode::kInvalidArgument,
                (state_ ? state_->what() : std::string("doc store")) + ": document " +
                    std::to_string(doc) + " out of range (" + std::to_string(num_docs()) +
                    " documents)");
  }
  const auto& blocks = state_->blocks;
  auto it = std::upper_bound(blocks.begin(), blocks.end(), doc,
                             [](uint32_t d, const BlockInfo& b) { return d < b.first_doc; });
  size_t i = static_cast<size_t>(it - blocks.begin()) - 1;  // blocks[0].first_doc == 0
  auto d = state_->block(i);
  auto [start, len] = d->docs[doc - blocks[i].first_doc];
  return std::vector<uint8_t>(d->raw.begin() + start, d->raw.begin() + start + len);
}

// ---------------------------------------------------------------------------------------------
// Writer

struct DocStoreWriter::Impl {
  Compression compression;
  size_t block_size;
  int zstd_level;
  ZSTD_CCtx* zctx = nullptr;
  ByteWriter out;
  std::vector<DocStoreReader::BlockInfo> blocks;
  std::vector<uint8_t> cur;  // raw rows of the open block
  uint32_t cur_first = 0;
  uint32_t num_docs = 0;
  bool finished = false;
  std::vector<uint8_t> scratch;
  std::function<void(std::span<const uint8_t>)> sink;  // set: the file streams out as it grows
  Checksummer file_sum;                                 // of the bytes already streamed

  ~Impl() {
    if (zctx != nullptr) ZSTD_freeCCtx(zctx);
  }

  void check_open() const {
    if (finished) throw_error(ErrorCode::kInvalidArgument, "doc store writer: already finished");
  }

  void push_block(std::span<const uint8_t> compressed, uint32_t first_doc, uint32_t raw_len) {
    DocStoreReader::BlockInfo b;
    b.offset = out.size();
    b.first_doc = first_doc;
    b.compressed_len = static_cast<uint32_t>(compressed.size());
    b.raw_len = raw_len;
    b.checksum = checksum64(compressed);
    out.bytes(compressed);
    blocks.push_back(b);
    if (sink && out.buffered() >= kSpillBytes) spill();
  }

  // Streams the buffered bytes to the sink.
  void spill() {
    file_sum.update(out.span());
    std::vector<uint8_t> bytes = out.drain();
    sink(bytes);
  }

  void flush() {
    if (cur.empty()) return;
    const uint32_t raw_len = static_cast<uint32_t>(cur.size());
    switch (compression) {
      case Compression::kNone:
        push_block(cur, cur_first, raw_len);
        break;
      case Compression::kZstd: {
        if (zctx == nullptr) {
          zctx = ZSTD_createCCtx();
          if (zctx == nullptr) throw std::bad_alloc();
        }
        scratch.resize(ZSTD_compressBound(cur.size()));
        size_t n = ZSTD_compressCCtx(zctx, scratch.data(), scratch.size(), cur.data(), cur.size(),
                                     zstd_level);
        if (ZSTD_isError(n)) {
          throw_error(ErrorCode::kInternal,
                      std::string("doc store: zstd compression failed: ") + ZSTD_getErrorName(n));
        }
        push_block(std::span<const uint8_t>(scratch.data(), n), cur_first, raw_len);
        break;
      }
      case Compression::kLz4: {
        scratch.resize(static_cast<size_t>(LZ4_compressBound(static_cast<int>(cur.size()))));
        int n = LZ4_compress_default(reinterpret_cast<const char*>(cur.data()),
                                     reinterpret_cast<char*>(scratch.data()),
                                     static_cast<int>(cur.size()), static_cast<int>(scratch.size()));
        if (n <= 0) throw_error(ErrorCode::kInternal, "doc store: lz4 compression failed");
        push_block(std::span<const uint8_t>(scratch.data(), static_cast<size_t>(n)), cur_first,
                   raw_len);
        break;
      }
    }
    cur.clear();
    cur_first = num_docs;
  }

  void add(std::span<const uint8_t> doc) {
    check_open();
    if (num_docs == std::numeric_limits<uint32_t>::max()) {
      throw_error(ErrorCode::kResourceExhausted, "doc store: too many documents");
    }
    const size_t row = vint_size(doc.size()) + doc.size();
    if (doc.size() > kDocStoreMaxRawBlock || row > kDocStoreMaxRawBlock) {
      throw_error(ErrorCode::kInvalidArgument,
                  "doc store: document of " + std::to_string(doc.size()) +
                      " bytes is larger than the limit of " +
                      std::to_string(kDocStoreMaxRawBlock - vint_size(kDocStoreMaxRawBlock)) +
                      " bytes");
    }
    if (cur.size() + row > kDocStoreMaxRawBlock) flush();
    if (cur.empty()) cur_first = num_docs;
    ByteWriter w(&cur);
    w.vint(doc.size());
    w.bytes(doc);
    ++num_docs;
    if (cur.size() >= block_size) flush();
  }
};

DocStoreWriter::DocStoreWriter(Compression c, size_t block_size, int zstd_level)
    : impl_(std::make_unique<Impl>()) {
  if (!valid_compression(static_cast<uint8_t>(c))) {
    throw_error(ErrorCode::kInvalidArgument,
                "doc store: unknown compression " + std::to_string(static_cast<int>(c)));
  }
  if (block_size == 0) {
    throw_error(ErrorCode::kInvalidArgument, "doc store: block size must be at least 1 byte");
  }
  if (c == Compression::kZstd && (zstd_level < ZSTD_minCLevel() || zstd_level > ZSTD_maxCLevel())) {
    throw_error(ErrorCode::kInvalidArgument,
                "doc store: zstd level " + std::to_string(zstd_level) + " outside " +
                    std::to_string(ZSTD_minCLevel()) + ".." + std::to_string(ZSTD_maxCLevel()));
  }
  impl_->compression = c;
  impl_->block_size = std::min<size_t>(block_size, kDocStoreMaxRawBlock);
  impl_->zstd_level = zstd_level;
  write_envelope_header(impl_->out, kDocStoreKind, kDocStoreVersion);
}

void DocStoreWriter::set_sink(std::function<void(std::span<const uint8_t>)> sink) {
  if (impl_->sink) throw_error(ErrorCode::kInvalidArgument, "doc store writer: sink already set");
  impl_->sink = std::move(sink);
}

DocStoreWriter::~DocStoreWriter() = default;
DocStoreWriter::DocStoreWriter(DocStoreWriter&&) noexcept = default;
DocStoreWriter& DocStoreWriter::operator=(DocStoreWriter&&) noexcept = default;

void DocStoreWriter::add(std::span<const uint8_t> doc) { impl_->add(doc); }

size_t DocStoreWriter::memory_usage() const {
  return impl_->out.buf().capacity() + impl_->cur.capacity() + impl_->scratch.capacity() +
         impl_->blocks.capacity() * sizeof(DocStoreReader::BlockInfo);
}

uint32_t DocStoreWriter::num_docs() const { return impl_->num_docs; }

void DocStoreWriter::append_store(const DocStoreReader& other) {
  Impl& w = *impl_;
  w.check_open();
  const uint32_t n = other.num_docs();
  if (n == 0) return;
  if (n > std::numeric_limits<uint32_t>::max() - w.num_docs) {
    throw_error(ErrorCode::kResourceExhausted, "doc store: too many documents");
  }
  if (other.compression() != w.compression) {
    for (uint32_t d = 0; d < n; ++d) w.add(other.get(d));
    return;
  }
  w.flush();
  const uint32_t base = w.num_docs;
  for (size_t i = 0; i < other.num_blocks(); ++i) {
    DocStoreReader::BlockInfo b = other.block_info(i);
    Bytes bytes = other.read_compressed_block(i);
    w.push_block(bytes.span(), base + b.first_doc, b.raw_len);
  }
  w.num_docs = base + n;
  w.cur_first = w.num_docs;
}

std::vector<uint8_t> DocStoreWriter::finish() {
  Impl& w = *impl_;
  w.check_open();
  w.flush();
  w.finished = true;
  const uint64_t index_offset = w.out.size();
  const size_t index_start = w.out.buffered();  // where the index begins in the buffer
  for (const auto& b : w.blocks) {
    w.out.u64(b.offset);
    w.out.u32(b.first_doc);
    w.out.u32(b.compressed_len);
    w.out.u32(b.raw_len);
    w.out.u64(b.checksum);
  }
  // Trailer: what open() needs, then a checksum of its first 24 bytes and the index.
  std::vector<uint8_t> trailer;
  ByteWriter t(&trailer);
  t.u8(static_cast<uint8_t>(w.compression));
  t.u8(0);
  t.u8(0);
  t.u8(0);
  t.u32(w.num_docs);
  t.u32(static_cast<uint32_t>(w.blocks.size()));
  t.u32(0);
  t.u64(index_offset);
  Checksummer sum;
  sum.update(trailer);
  sum.update(w.out.span().subspan(index_start));
  t.u64(sum.digest());
  w.out.bytes(trailer);
  std::vector<uint8_t> file;
  if (w.sink) {
    write_streamed_envelope_footer(w.out, w.file_sum);
    std::vector<uint8_t> rest = w.out.drain();
    w.sink(rest);
  } else {
    write_envelope_footer(w.out);
    file = w.out.take();
  }
  w.blocks.clear();
  w.blocks.shrink_to_fit();
  return file;
}

}  // namespace needle

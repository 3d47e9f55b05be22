#include <gtest/gtest.h>
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "needle/common/bytes.h"
#include "needle/common/checksum.h"
#include "needle/docstore/docstore.h"
#include "needle/store/file_slice.h"

namespace needle {
namespace {

using Doc = std::vector<uint8_t>;

Doc make_doc(size_t size, uint32_t seed) {
  Doc d(size);
  std::mt19937 rng(seed);
  // Compressible but not trivial: a small alphabet with runs.
  for (size_t i = 0; i < size; ++i) d[i] = static_cast<uint8_t>('a' + (rng() % 7));
  return d;
}

FileSlice slice_of(std::vector<uint8_t> file, std::string name = "docs") {
  return FileSlice::from_bytes(Bytes::from_vector(std::move(file)), std::move(name));
}

std::vector<uint8_t> build(Compression c, const std::vector<Doc>& docs, size_t block_size = 16384) {
  DocStoreWriter w(c, block_size);
  for (const auto& d : docs) w.add(d);
  EXPECT_EQ(w.num_docs(), docs.size());
  return w.finish();
}

void expect_all(const DocStoreReader& r, const std::vector<Doc>& docs) {
  ASSERT_EQ(r.num_docs(), docs.size());
  for (uint32_t i = 0; i < docs.size(); ++i) ASSERT_EQ(r.get(i), docs[i]) << "doc " << i;
}

const Compression kAll[] = {Compression::kNone, Compression::kZstd, Compression::kLz4};

class DocStoreCompression : public ::testing::TestWithParam<Compression> {};

TEST_P(DocStoreCompression, EmptyStore) {
  auto file = build(GetParam(), {});
  auto r = DocStoreReader::open(slice_of(file));
  EXPECT_EQ(r.num_docs(), 0u);
  EXPECT_EQ(r.num_blocks(), 0u);
  EXPECT_EQ(r.compression(), GetParam());
  r.verify_checksum();
  try {
    r.get(0);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  }
}

TEST_P(DocStoreCompression, OneDocAndOneEmptyDoc) {
  for (const Doc& d : {Doc{}, Doc{'x'}, make_doc(1000, 1)}) {
    auto file = build(GetParam(), {d});
    auto r = DocStoreReader::open(slice_of(file));
    r.verify_checksum();
    expect_all(r, {d});
    EXPECT_THROW(r.get(1), Error);
  }
}

TEST_P(DocStoreCompression, ManyDocsMixedSizes) {
  std::vector<Doc> docs;
  std::mt19937 rng(42);
  for (uint32_t i = 0; i < 3000; ++i) {
    size_t size = (i % 10 == 0) ? 0 : (rng() % 400);
    if (i % 500 == 7) size = 20000;  // larger than a block
    docs.push_back(make_doc(size, i));
  }
  auto file = build(GetParam(), docs, 4096);
  auto r = DocStoreReader::open(slice_of(file));
  EXPECT_GT(r.num_blocks(), 10u);
  r.verify_checksum();
  expect_all(r, docs);
  // Random access order.
  std::vector<uint32_t> order(docs.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  for (uint32_t i : order) ASSERT_EQ(r.get(i), docs[i]) << "doc " << i;
  // Copies share state and work the same.
  DocStoreReader copy = r;
  EXPECT_EQ(copy.get(1234), docs[1234]);
}

TEST_P(DocStoreCompression, MegabyteDocs) {
  std::vector<Doc> docs = {make_doc(1 << 20, 1), Doc{}, make_doc((1 << 20) + 1, 2), make_doc(5, 3)};
  auto file = build(GetParam(), docs);
  auto r = DocStoreReader::open(slice_of(file));
  EXPECT_EQ(r.num_blocks(), 3u);  // each big doc closes its block
  expect_all(r, docs);
}

TEST_P(DocStoreCompression, DocsExactlyAtBlockBoundaries) {
  // A 99-byte doc is a 100-byte row (1-byte length prefix): with block_size 100 every block holds
  // exactly one doc; with 49-byte docs (50-byte rows) exactly two.
  for (size_t doc_size : {99u, 49u, 98u, 100u}) {
    std::vector<Doc> docs;
    for (uint32_t i = 0; i < 21; ++i) docs.push_back(make_doc(doc_size, i));
    auto file = build(GetParam(), docs, 100);
    auto r = DocStoreReader::open(slice_of(file));
    size_t row = doc_size + 1;
    size_t per_block = (100 + row - 1) / row;
    EXPECT_EQ(r.num_blocks(), (docs.size() + per_block - 1) / per_block) << doc_size;
    for (size_t b = 0; b < r.num_blocks(); ++b) {
      auto info = r.block_info(b);
      EXPECT_EQ(info.first_doc, b * per_block);
    }
    expect_all(r, docs);
  }
}

TEST_P(DocStoreCompression, OpenTakesTwoReadsAndOneBlockIsReadOnce) {
  std::vector<Doc> docs;
  for (uint32_t i = 0; i < 500; ++i) docs.push_back(make_doc(100, i));
  auto file = build(GetParam(), docs, 2000);
  auto bytes = std::make_shared<std::vector<uint8_t>>(file);
  auto reads = std::make_shared<std::atomic<int>>(0);
  auto reader = callback_reader(
      file.size(),
      [bytes, reads](uint64_t off, std::span<uint8_t> out) {
        ++*reads;
        std::memcpy(out.data(), bytes->data() + off, out.size());
      },
      "remote");
  auto r = DocStoreReader::open(FileSlice(reader));
  EXPECT_LE(reads->load(), 3);  // header, trailer, block index
  reads->store(0);
  // Docs 0..18 share block 0 (19 rows of 101 bytes reach 2000 at the 20th): one read.
  for (uint32_t i = 0; i < 19; ++i) ASSERT_EQ(r.get(i), docs[i]);
  EXPECT_EQ(reads->load(), 1);
  // Alternating between a few blocks stays in the cache.
  reads->store(0);
  for (int round = 0; round < 3; ++round) {
    for (uint32_t i : {0u, 100u, 200u}) ASSERT_EQ(r.get(i), docs[i]);
  }
  EXPECT_EQ(reads->load(), 2);  // blocks of 100 and 200 are new
}

TEST_P(DocStoreCompression, ConcurrentGets) {
  std::vector<Doc> docs;
  for (uint32_t i = 0; i < 2000; ++i) docs.push_back(make_doc(i % 300, i));
  auto file = build(GetParam(), docs, 1024);
  auto r = DocStoreReader::open(slice_of(file));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      DocStoreReader mine = r;  // copies share the cache
      for (int k = 0; k < 3000; ++k) {
        uint32_t d = (k % 2 == 0) ? rng() % docs.size() : static_cast<uint32_t>((k * 7 + t) % docs.size());
        if (mine.get(d) != docs[d]) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(All, DocStoreCompression, ::testing::ValuesIn(kAll),
                         [](const auto& info) { return std::string(compression_name(info.param)); });

TEST(DocStore, ParseCompression) {
  EXPECT_EQ(parse_compression("none"), Compression::kNone);
  EXPECT_EQ(parse_compression("zstd"), Compression::kZstd);
  EXPECT_EQ(parse_compression("lz4"), Compression::kLz4);
  EXPECT_EQ(parse_compression("ZSTD"), std::nullopt);
  EXPECT_EQ(parse_compression(""), std::nullopt);
  EXPECT_EQ(parse_compression("gzip"), std::nullopt);
}

TEST(DocStore, BadWriterArguments) {
  auto code = [](auto fn) {
    try {
      fn();
    } catch (const Error& e) {
      return e.code();
    }
    return ErrorCode::kOk;
  };
  EXPECT_EQ(code([] { DocStoreWriter w(Compression::kZstd, 0); }), ErrorCode::kInvalidArgument);
  EXPECT_EQ(code([] { DocStoreWriter w(Compression::kZstd, 100, 1000); }), ErrorCode::kInvalidArgument);
  EXPECT_EQ(code([] { DocStoreWriter w(static_cast<Compression>(7)); }), ErrorCode::kInvalidArgument);
  EXPECT_EQ(code([] {
              DocStoreWriter w(Compression::kNone);
              w.finish();
              w.add(Doc{});
            }),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(code([] {
              DocStoreWriter w(Compression::kNone);
              Doc huge(kDocStoreMaxRawBlock);
              w.add(huge);
            }),
            ErrorCode::kInvalidArgument);
}

TEST(DocStore, AppendStore) {
  std::vector<Doc> a, b;
  for (uint32_t i = 0; i < 300; ++i) a.push_back(make_doc(i % 50, i));
  for (uint32_t i = 0; i < 250; ++i) b.push_back(make_doc((i * 3) % 70, 1000 + i));
  for (Compression ca : kAll) {
    for (Compression cb : kAll) {
      auto rb = DocStoreReader::open(slice_of(build(cb, b, 512)));
      auto empty = DocStoreReader::open(slice_of(build(cb, {})));
      DocStoreWriter w(ca, 700);
      for (size_t i = 0; i < 100; ++i) w.add(a[i]);  // leaves a partial block open
      w.append_store(rb);
      w.append_store(empty);
      for (size_t i = 100; i < a.size(); ++i) w.add(a[i]);
      w.append_store(rb);
      EXPECT_EQ(w.num_docs(), a.size() + 2 * b.size());
      auto r = DocStoreReader::open(slice_of(w.finish()));
      r.verify_checksum();
      std::vector<Doc> want(a.begin(), a.begin() + 100);
      want.insert(want.end(), b.begin(), b.end());
      want.insert(want.end(), a.begin() + 100, a.end());
      want.insert(want.end(), b.begin(), b.end());
      expect_all(r, want);
      if (ca == cb) {
        // The blocks were copied: every block of b appears with the same compressed bytes.
        size_t same = 0;
        for (size_t i = 0; i < r.num_blocks(); ++i) {
          for (size_t k = 0; k < rb.num_blocks(); ++k) {
            if (r.block_info(i).checksum == rb.block_info(k).checksum) ++same;
          }
        }
        EXPECT_GE(same, 2 * rb.num_blocks());
      }
    }
  }
}

TEST(DocStore, AppendStoreOfAppendedStore) {
  std::vector<Doc> docs;
  for (uint32_t i = 0; i < 100; ++i) docs.push_back(make_doc(i, i));
  auto r1 = DocStoreReader::open(slice_of(build(Compression::kLz4, docs, 256)));
  DocStoreWriter w2(Compression::kLz4, 256);
  w2.append_store(r1);
  w2.append_store(r1);
  auto r2 = DocStoreReader::open(slice_of(w2.finish()));
  DocStoreWriter w3(Compression::kLz4, 256);
  w3.add(docs[5]);
  w3.append_store(r2);
  auto r3 = DocStoreReader::open(slice_of(w3.finish()));
  ASSERT_EQ(r3.num_docs(), 201u);
  EXPECT_EQ(r3.get(0), docs[5]);
  for (uint32_t i = 0; i < 200; ++i) ASSERT_EQ(r3.get(1 + i), docs[i % 100]);
}

// --- corruption -------------------------------------------------------------------------------

bool is_file_error(ErrorCode c) {
  return c == ErrorCode::kCorrupt || c == ErrorCode::kVersionTooNew ||
         c == ErrorCode::kVersionTooOld;
}

// Opens and reads everything; returns the error code, or kOk.
ErrorCode try_everything(std::vector<uint8_t> file, bool verify) {
  try {
    auto r = DocStoreReader::open(slice_of(std::move(file)));
    for (uint32_t i = 0; i < r.num_docs(); ++i) r.get(i);
    if (verify) r.verify_checksum();
  } catch (const Error& e) {
    return e.code();
  }
  return ErrorCode::kOk;
}

std::vector<Doc> small_docs() {
  std::vector<Doc> docs;
  for (uint32_t i = 0; i < 12; ++i) docs.push_back(make_doc(i * 5, i));
  docs.push_back(Doc{});
  return docs;
}

TEST(DocStoreCorruption, EveryTruncationThrows) {
  for (Compression c : kAll) {
    auto file = build(c, small_docs(), 40);
    for (size_t n = 0; n < file.size(); ++n) {
      std::vector<uint8_t> cut(file.begin(), file.begin() + static_cast<ptrdiff_t>(n));
      ErrorCode code = try_everything(cut, false);
      EXPECT_TRUE(is_file_error(code)) << "length " << n << " code " << static_cast<int>(code);
    }
  }
}

TEST(DocStoreCorruption, EveryByteFlipIsDetectedByVerifyAndNeverCrashes) {
  for (Compression c : kAll) {
    auto file = build(c, small_docs(), 40);
    for (size_t i = 0; i < file.size(); ++i) {
      for (uint8_t mask : {0x01, 0x80, 0xff}) {
        auto bad = file;
        bad[i] ^= mask;
        // Without the whole-file checksum: either an error or a successful read, never UB.
        ErrorCode code = try_everything(bad, false);
        EXPECT_TRUE(code == ErrorCode::kOk || is_file_error(code)) << i;
        // With it: always an error.
        code = try_everything(bad, true);
        EXPECT_TRUE(is_file_error(code)) << "byte " << i << " mask " << int(mask);
      }
    }
  }
}

TEST(DocStoreCorruption, RandomMultiByteDamage) {
  std::mt19937 rng(7);
  for (Compression c : kAll) {
    auto file = build(c, small_docs(), 40);
    for (int trial = 0; trial < 2000; ++trial) {
      auto bad = file;
      int flips = 1 + static_cast<int>(rng() % 8);
      for (int k = 0; k < flips; ++k) bad[rng() % bad.size()] = static_cast<uint8_t>(rng());
      ErrorCode code = try_everything(bad, trial % 2 == 0);
      EXPECT_TRUE(code == ErrorCode::kOk || is_file_error(code));
    }
  }
}

// Offset of the 32-byte trailer (before the 20-byte envelope footer).
size_t trailer_at(const std::vector<uint8_t>& f) { return f.size() - 52; }

// Rewrites the checksums the way a malicious (not merely damaged) file would: the block checksums,
// the trailer/index checksum and the envelope checksum, so only structural checks remain.
void reseal(std::vector<uint8_t>& f) {
  const size_t size = f.size();
  const size_t t = trailer_at(f);
  uint64_t index_offset = load_u64_le(f.data() + t + 16);
  uint32_t num_blocks = load_u32_le(f.data() + t + 8);
  for (uint32_t i = 0; i < num_blocks; ++i) {
    uint8_t* e = f.data() + index_offset + 28 * i;
    uint64_t off = load_u64_le(e);
    uint32_t clen = load_u32_le(e + 12);
    if (off <= size && clen <= size - off) {
      store_u64_le(e + 20, checksum64(std::span<const uint8_t>(f.data() + off, clen)));
    }
  }
  Checksummer meta;
  meta.update(std::span<const uint8_t>(f.data() + t, 24));
  if (index_offset <= t) meta.update(std::span<const uint8_t>(f.data() + index_offset, t - index_offset));
  store_u64_le(f.data() + t + 24, meta.digest());
  store_u64_le(f.data() + size - 12, checksum64(std::span<const uint8_t>(f.data(), size - 20)));
}

ErrorCode code_of(const std::vector<uint8_t>& f) { return try_everything(f, true); }

TEST(DocStoreCorruption, ResealedStructuralDamage) {
  std::vector<Doc> docs = {make_doc(10, 1), make_doc(20, 2), make_doc(30, 3)};
  for (Compression c : kAll) {
    auto file = build(c, docs, 10);  // three blocks
    ASSERT_EQ(DocStoreReader::open(slice_of(file)).num_blocks(), 3u);
    const uint64_t index_offset = load_u64_le(file.data() + trailer_at(file) + 16);
    auto entry = [&](std::vector<uint8_t>& f, int i) { return f.data() + index_offset + 28 * i; };
    {
      auto f = file;  // raw size beyond the cap
      store_u32_le(entry(f, 1) + 16, kDocStoreMaxRawBlock + 1);
      reseal(f);
      EXPECT_EQ(code_of(f), ErrorCode::kCorrupt);
    }
    {
      auto f = file;  // raw size too small / too large for what the block decompresses to
      for (uint32_t raw : {5u, 22u, 1000u}) {
        store_u32_le(entry(f, 1) + 16, raw);
        reseal(f);
        EXPECT_EQ(code_of(f), ErrorCode::kCorrupt) << raw;
      }
    }
    {
      auto f = file;  // first docs out of order
      store_u32_le(entry(f, 2) + 8, 1);
      reseal(f);
      EXPECT_EQ(code_of(f), ErrorCode::kCorrupt);
    }
    {
      auto f = file;  // more docs than the trailer says
      store_u32_le(f.data() + trailer_at(f) + 4, 2);
      reseal(f);
      EXPECT_EQ(code_of(f), ErrorCode::kCorrupt);
    }
    {
      auto f = file;  // a block offset that overlaps the previous one
      store_u64_le(entry(f, 1), load_u64_le(entry(f, 1)) - 1);
      reseal(f);
      EXPECT_EQ(code_of(f), ErrorCode::kCorrupt);
    }
    {
      auto f = file;  // unknown compression
      f[trailer_at(f)] = 9;
      reseal(f);
      EXPECT_EQ(code_of(f), ErrorCode::kCorrupt);
    }
    {
      auto f = file;  // index offset pointing into the footer
      store_u64_le(f.data() + trailer_at(f) + 16, f.size() - 10);
      EXPECT_EQ(code_of(f), ErrorCode::kCorrupt);
    }
    {
      auto f = file;  // newer format version
      store_u32_le(f.data() + 8, 2);
      EXPECT_EQ(code_of(f), ErrorCode::kVersionTooNew);
    }
  }
}

TEST(DocStoreCorruption, DecompressionIsBoundedByTheStatedRawSize) {
  // A zstd block whose frame expands to 4 MiB, in a store whose index says 30 bytes.
  auto file = build(Compression::kZstd, {make_doc(29, 1)});
  std::vector<uint8_t> zeros(4 << 20, 0);
  std::vector<uint8_t> bomb(ZSTD_compressBound(zeros.size()));
  bomb.resize(ZSTD_compress(bomb.data(), bomb.size(), zeros.data(), zeros.size(), 1));
  ASSERT_LT(bomb.size(), 500u);
  const uint64_t index_offset = load_u64_le(file.data() + trailer_at(file) + 16);
  uint32_t old_clen = load_u32_le(file.data() + index_offset + 12);
  // Rebuild: header, bomb, index, trailer, footer.
  std::vector<uint8_t> f(file.begin(), file.begin() + 16);
  f.insert(f.end(), bomb.begin(), bomb.end());
  uint64_t new_index = f.size();
  f.insert(f.end(), file.begin() + static_cast<ptrdiff_t>(index_offset), file.end());
  store_u64_le(f.data() + trailer_at(f) + 16, new_index);
  store_u32_le(f.data() + new_index + 12, static_cast<uint32_t>(bomb.size()));
  store_u64_le(f.data() + f.size() - 20, f.size() - 36);
  ASSERT_NE(old_clen, bomb.size());
  reseal(f);
  try {
    auto r = DocStoreReader::open(slice_of(f));
    r.get(0);
    FAIL() << "bomb decompressed";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorrupt);
    EXPECT_NE(std::string(e.what()).find("docs"), std::string::npos) << e.what();
  }
}

TEST(DocStoreCorruption, BlockChecksumCatchesDamageWithoutVerify) {
  std::vector<Doc> docs;
  for (uint32_t i = 0; i < 50; ++i) docs.push_back(make_doc(40, i));
  auto file = build(Compression::kNone, docs, 1 << 20);
  // Change one byte of a document: uncompressed, so only the block checksum can notice.
  file[16 + 5] ^= 1;
  auto r = DocStoreReader::open(slice_of(file));
  try {
    r.get(0);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorrupt);
    EXPECT_NE(std::string(e.what()).find("checksum"), std::string::npos);
  }
}

}  // namespace
}  // namespace needle

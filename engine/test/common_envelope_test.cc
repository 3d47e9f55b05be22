#include <gtest/gtest.h>

#include "needle/common/bytes.h"
#include "needle/common/envelope.h"
#include "needle/store/directory.h"
#include "needle/store/file_slice.h"

namespace needle {
namespace {

TEST(Bytes, VintRoundTripAndBounds) {
  ByteWriter w;
  std::vector<uint64_t> vals = {0, 1, 127, 128, 300, UINT32_MAX, UINT64_MAX};
  for (auto v : vals) w.vint(v);
  w.svint(-5);
  w.svint(INT64_MIN);
  ByteReader r(w.span(), "test");
  for (auto v : vals) EXPECT_EQ(r.vint(), v);
  EXPECT_EQ(r.svint(), -5);
  EXPECT_EQ(r.svint(), INT64_MIN);
  EXPECT_TRUE(r.done());
  EXPECT_THROW(r.u8(), Error);
}

TEST(Bytes, TruncatedVintIsCorrupt) {
  std::vector<uint8_t> b = {0x80, 0x80};
  ByteReader r(b, "trunc");
  try {
    r.vint();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorrupt);
    EXPECT_NE(std::string(e.what()).find("trunc"), std::string::npos);
  }
}

TEST(Envelope, RoundTripAndEveryFlippedByteIsDetected) {
  ByteWriter w;
  write_envelope_header(w, fourcc("TEST"), 3);
  w.bytes(std::string_view("hello body"));
  write_envelope_footer(w);
  auto file = w.take();
  auto info = open_envelope(file, fourcc("TEST"), 1, 3, "t", true);
  EXPECT_EQ(info.version, 3u);
  EXPECT_EQ(as_chars(info.body), "hello body");
  for (size_t i = 0; i < file.size(); ++i) {
    auto bad = file;
    bad[i] ^= 0x10;
    EXPECT_THROW(open_envelope(bad, fourcc("TEST"), 1, 3, "t", true), Error) << "byte " << i;
  }
  for (size_t n = 0; n < file.size(); ++n) {
    std::span<const uint8_t> cut(file.data(), n);
    EXPECT_THROW(open_envelope(cut, fourcc("TEST"), 1, 3, "t", true), Error) << "length " << n;
  }
}

TEST(Envelope, VersionErrorsAreDistinct) {
  ByteWriter w;
  write_envelope_header(w, fourcc("TEST"), 5);
  write_envelope_footer(w);
  try {
    open_envelope(w.span(), fourcc("TEST"), 1, 4, "t", true);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kVersionTooNew);
  }
  try {
    open_envelope(w.span(), fourcc("TEST"), 6, 9, "t", true);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kVersionTooOld);
  }
  try {
    open_envelope(w.span(), fourcc("OTHR"), 1, 9, "t", true);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorrupt);
  }
}

TEST(Store, FileSliceBoundsAndCaching) {
  std::vector<uint8_t> data(1000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i);
  auto reader = memory_reader(Bytes::from_vector(data), "mem");
  FileSlice all(reader);
  auto s = all.slice(100, 200, "part");
  EXPECT_EQ(s.read(0, 1)[0], 100);
  EXPECT_THROW(s.read(150, 51), Error);
  EXPECT_THROW(all.slice(900, 101), Error);

  auto rec = std::make_shared<RecordingRangeReader>(reader);
  rec->read(10, 5);
  rec->read(12, 10);
  rec->read(500, 4);
  auto ranges = rec->ranges();
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0], (std::pair<uint64_t, uint64_t>(10, 12)));

  std::map<uint64_t, Bytes> cache;
  cache[10] = reader->read(10, 12);
  CachingRangeReader caching(reader, cache);
  EXPECT_EQ(caching.read(11, 5)[0], 11);
  EXPECT_EQ(caching.passthrough_reads(), 0u);
  EXPECT_EQ(caching.read(20, 5)[0], 20);
  EXPECT_EQ(caching.passthrough_reads(), 1u);
}

TEST(Store, CallbackReaderWrapsForeignExceptions) {
  auto r = callback_reader(100, [](uint64_t, std::span<uint8_t>) { throw std::runtime_error("boom"); }, "cb");
  try {
    r->read(0, 10);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIo);
  }
}

TEST(Store, DirectoriesWriteAtomically) {
  auto ram = new_ram_directory();
  ram->write_file("a", as_bytes("xyz"));
  EXPECT_TRUE(ram->exists("a"));
  EXPECT_EQ(ram->open_read("a")->size(), 3u);
  {
    auto f = ram->create("b");
    f->write(as_bytes("123"));
    // not finished: not visible
    EXPECT_FALSE(ram->exists("b"));
  }
  EXPECT_FALSE(ram->exists("b"));

  char tmpl[] = "/tmp/needle-dir-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  auto fs = open_fs_directory(dir, false);
  {
    auto f = fs->create("c");
    f->write(as_bytes("abc"));
  }
  EXPECT_FALSE(fs->exists("c"));
  EXPECT_TRUE(fs->list().empty()) << "an unfinished file left a temporary behind";
  fs->write_file("c", as_bytes("abcd"));
  EXPECT_EQ(fs->open_read("c")->read(0, 4)[3], 'd');
  fs->remove("c");
  EXPECT_TRUE(fs->list().empty());
  rmdir(dir.c_str());
}

}  // namespace
}  // namespace needle

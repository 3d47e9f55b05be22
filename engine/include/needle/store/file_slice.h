// How needle reads bytes: every reader of a format takes a FileSlice, a window on a RangeReader.
// RangeReader implementations: a memory-mapped local file, bytes in memory, and a callback that
// fetches ranges (object storage plugs in there). A CachingRangeReader serves a split's hot cache.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "needle/common/error.h"

namespace needle {

// Immutable bytes with shared ownership; slices share the owner.
class Bytes {
 public:
  Bytes() = default;
  Bytes(std::shared_ptr<const void> owner, const uint8_t* data, size_t size)
      : owner_(std::move(owner)), data_(data), size_(size) {}
  static Bytes from_vector(std::vector<uint8_t> v);
  static Bytes copy_of(std::span<const uint8_t> s);

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::span<const uint8_t> span() const { return {data_, size_}; }
  operator std::span<const uint8_t>() const { return span(); }
  uint8_t operator[](size_t i) const { return data_[i]; }
  // Throws kCorrupt naming `what` when the range does not lie inside.
  Bytes slice(size_t offset, size_t len, std::string_view what = "bytes") const;

 private:
  std::shared_ptr<const void> owner_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

class RangeReader {
 public:
  virtual ~RangeReader() = default;
  virtual uint64_t size() const = 0;
  // Returns exactly `len` bytes at `offset`; throws kCorrupt for a range past the end and kIo when
  // the underlying storage fails. Must be safe to call from several threads at once.
  virtual Bytes read(uint64_t offset, uint64_t len) const = 0;
  virtual const std::string& name() const = 0;

 protected:
  void check_range(uint64_t offset, uint64_t len) const;
};

std::shared_ptr<const RangeReader> open_mmap(const std::string& path);
std::shared_ptr<const RangeReader> memory_reader(Bytes bytes, std::string name = "<memory>");

// Fetches ranges through a user callback (object storage, JNI, tests). The callback fills `out`
// with the bytes at `offset`, or throws.
using FetchFn = std::function<void(uint64_t offset, std::span<uint8_t> out)>;
std::shared_ptr<const RangeReader> callback_reader(uint64_t size, FetchFn fetch, std::string name);

// Serves reads that fall inside cached ranges from memory and passes the rest through.
class CachingRangeReader final : public RangeReader {
 public:
  CachingRangeReader(std::shared_ptr<const RangeReader> inner,
                     std::map<uint64_t, Bytes> cached_ranges);
  uint64_t size() const override { return inner_->size(); }
  Bytes read(uint64_t offset, uint64_t len) const override;
  const std::string& name() const override { return inner_->name(); }
  uint64_t passthrough_reads() const;  // how many reads went to the inner reader

 private:
  std::shared_ptr<const RangeReader> inner_;
  std::map<uint64_t, Bytes> cached_;
  mutable std::mutex mu_;
  mutable uint64_t passthrough_ = 0;
};

// Records every range read, so the ranges needed to open an index can be put in a hot cache.
class RecordingRangeReader final : public RangeReader {
 public:
  explicit RecordingRangeReader(std::shared_ptr<const RangeReader> inner) : inner_(std::move(inner)) {}
  uint64_t size() const override { return inner_->size(); }
  Bytes read(uint64_t offset, uint64_t len) const override;
  const std::string& name() const override { return inner_->name(); }
  // The recorded ranges, merged where they overlap or touch, as (offset, length).
  std::vector<std::pair<uint64_t, uint64_t>> ranges() const;

 private:
  std::shared_ptr<const RangeReader> inner_;
  mutable std::mutex mu_;
  mutable std::vector<std::pair<uint64_t, uint64_t>> ranges_;
};

// A window [offset, offset+length) of a RangeReader. Cheap to copy.
class FileSlice {
 public:
  FileSlice() = default;
  explicit FileSlice(std::shared_ptr<const RangeReader> reader);
  FileSlice(std::shared_ptr<const RangeReader> reader, uint64_t offset, uint64_t length,
            std::string name);
  static FileSlice from_bytes(Bytes b, std::string name);

  uint64_t size() const { return length_; }
  const std::string& name() const { return name_; }
  // Reads [off, off+len) of this slice; throws kCorrupt naming the slice if out of range.
  Bytes read(uint64_t off, uint64_t len) const;
  Bytes read_all() const { return read(0, length_); }
  FileSlice slice(uint64_t off, uint64_t len, std::string name = {}) const;
  uint64_t offset_in_reader() const { return offset_; }
  const std::shared_ptr<const RangeReader>& reader() const { return reader_; }

 private:
  std::shared_ptr<const RangeReader> reader_;
  uint64_t offset_ = 0;
  uint64_t length_ = 0;
  std::string name_;
};

}  // namespace needle

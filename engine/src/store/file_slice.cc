#include "needle/store/file_slice.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace needle {

Bytes Bytes::from_vector(std::vector<uint8_t> v) {
  auto owner = std::make_shared<std::vector<uint8_t>>(std::move(v));
  return Bytes(owner, owner->data(), owner->size());
}

Bytes Bytes::copy_of(std::span<const uint8_t> s) {
  return from_vector(std::vector<uint8_t>(s.begin(), s.end()));
}

Bytes Bytes::slice(size_t offset, size_t len, std::string_view what) const {
  if (offset > size_ || len > size_ - offset) {
    throw_corrupt(what, "range [" + std::to_string(offset) + ", +" + std::to_string(len) +
                            ") outside " + std::to_string(size_) + " bytes");
  }
  return Bytes(owner_, data_ + offset, len);
}

void RangeReader::check_range(uint64_t offset, uint64_t len) const {
  if (offset > size() || len > size() - offset) {
    throw_corrupt(name(), "read of [" + std::to_string(offset) + ", +" + std::to_string(len) +
                              ") past the end of " + std::to_string(size()) + " bytes");
  }
}

namespace {

struct Mapping {
  void* addr = nullptr;
  size_t len = 0;
  ~Mapping() {
    if (addr != nullptr && addr != MAP_FAILED) munmap(addr, len);
  }
};

class MmapReader final : public RangeReader {
 public:
  MmapReader(std::shared_ptr<Mapping> m, std::string name) : map_(std::move(m)), name_(std::move(name)) {}
  uint64_t size() const override { return map_->len; }
  Bytes read(uint64_t offset, uint64_t len) const override {
    check_range(offset, len);
    return Bytes(map_, static_cast<const uint8_t*>(map_->addr) + offset, len);
  }
  const std::string& name() const override { return name_; }

 private:
  std::shared_ptr<Mapping> map_;
  std::string name_;
};

class MemoryReader final : public RangeReader {
 public:
  MemoryReader(Bytes b, std::string name) : bytes_(std::move(b)), name_(std::move(name)) {}
  uint64_t size() const override { return bytes_.size(); }
  Bytes read(uint64_t offset, uint64_t len) const override {
    check_range(offset, len);
    return bytes_.slice(offset, len, name_);
  }
  const std::string& name() const override { return name_; }

 private:
  Bytes bytes_;
  std::string name_;
};

class CallbackReader final : public RangeReader {
 public:
  CallbackReader(uint64_t size, FetchFn fn, std::string name)
      : size_(size), fn_(std::move(fn)), name_(std::move(name)) {}
  uint64_t size() const override { return size_; }
  Bytes read(uint64_t offset, uint64_t len) const override {
    check_range(offset, len);
    std::vector<uint8_t> buf(len);
    try {
      fn_(offset, buf);
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      throw_error(ErrorCode::kIo, name_ + ": range read failed: " + e.what());
    }
    return Bytes::from_vector(std::move(buf));
  }
  const std::string& name() const override { return name_; }

 private:
  uint64_t size_;
  FetchFn fn_;
  std::string name_;
};

}  // namespace

std::shared_ptr<const RangeReader> open_mmap(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    throw_error(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                path + ": cannot open: " + std::strerror(err));
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    throw_error(ErrorCode::kIo, path + ": cannot stat: " + std::strerror(err));
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw_error(ErrorCode::kInvalidArgument, path + ": is a directory, not a file");
  }
  auto m = std::make_shared<Mapping>();
  m->len = static_cast<size_t>(st.st_size);
  if (m->len > 0) {
    m->addr = mmap(nullptr, m->len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m->addr == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      throw_error(ErrorCode::kIo, path + ": cannot map: " + std::strerror(err));
    }
  }
  ::close(fd);
  return std::make_shared<MmapReader>(std::move(m), path);
}

std::shared_ptr<const RangeReader> memory_reader(Bytes bytes, std::string name) {
  return std::make_shared<MemoryReader>(std::move(bytes), std::move(name));
}

std::shared_ptr<const RangeReader> callback_reader(uint64_t size, FetchFn fetch, std::string name) {
  return std::make_shared<CallbackReader>(size, std::move(fetch), std::move(name));
}

CachingRangeReader::CachingRangeReader(std::shared_ptr<const RangeReader> inner,
                                       std::map<uint64_t, Bytes> cached_ranges)
    : inner_(std::move(inner)), cached_(std::move(cached_ranges)) {}

Bytes CachingRangeReader::read(uint64_t offset, uint64_t len) const {
  auto it = cached_.upper_bound(offset);
  if (it != cached_.begin()) {
    --it;
    uint64_t start = it->first;
    const Bytes& b = it->second;
    if (offset - start <= b.size() && len <= b.size() - (offset - start)) {
      return b.slice(offset - start, len, inner_->name());
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++passthrough_;
  }
  return inner_->read(offset, len);
}

uint64_t CachingRangeReader::passthrough_reads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return passthrough_;
}

Bytes RecordingRangeReader::read(uint64_t offset, uint64_t len) const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ranges_.emplace_back(offset, len);
  }
  return inner_->read(offset, len);
}

std::vector<std::pair<uint64_t, uint64_t>> RecordingRangeReader::ranges() const {
  std::vector<std::pair<uint64_t, uint64_t>> r;
  {
    std::lock_guard<std::mutex> lock(mu_);
    r = ranges_;
  }
  std::sort(r.begin(), r.end());
  std::vector<std::pair<uint64_t, uint64_t>> merged;
  for (auto [off, len] : r) {
    if (!merged.empty() && off <= merged.back().first + merged.back().second) {
      uint64_t end = std::max(merged.back().first + merged.back().second, off + len);
      merged.back().second = end - merged.back().first;
    } else {
      merged.emplace_back(off, len);
    }
  }
  return merged;
}

FileSlice::FileSlice(std::shared_ptr<const RangeReader> reader)
    : reader_(std::move(reader)), offset_(0), length_(reader_->size()), name_(reader_->name()) {}

FileSlice::FileSlice(std::shared_ptr<const RangeReader> reader, uint64_t offset, uint64_t length,
                     std::string name)
    : reader_(std::move(reader)), offset_(offset), length_(length), name_(std::move(name)) {
  if (offset_ > reader_->size() || length_ > reader_->size() - offset_) {
    throw_corrupt(name_, "slice [" + std::to_string(offset_) + ", +" + std::to_string(length_) +
                             ") outside its file of " + std::to_string(reader_->size()) + " bytes");
  }
}

FileSlice FileSlice::from_bytes(Bytes b, std::string name) {
  return FileSlice(memory_reader(std::move(b), name));
}

Bytes FileSlice::read(uint64_t off, uint64_t len) const {
  if (off > length_ || len > length_ - off) {
    throw_corrupt(name_, "read of [" + std::to_string(off) + ", +" + std::to_string(len) +
                             ") outside " + std::to_string(length_) + " bytes");
  }
  return reader_->read(offset_ + off, len);
}

FileSlice FileSlice::slice(uint64_t off, uint64_t len, std::string name) const {
  if (off > length_ || len > length_ - off) {
    throw_corrupt(name_, "slice [" + std::to_string(off) + ", +" + std::to_string(len) +
                             ") outside " + std::to_string(length_) + " bytes");
  }
  return FileSlice(reader_, offset_ + off, len, name.empty() ? name_ : std::move(name));
}

}  // namespace needle

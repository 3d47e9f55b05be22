// Where an index being written keeps its files. A Directory writes whole files atomically (a
// reader never sees half a file) and opens them for reading as RangeReaders.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "needle/store/file_slice.h"

namespace needle {

// A file being written; nothing is visible under its name until finish() returns.
class OutputFile {
 public:
  virtual ~OutputFile() = default;
  virtual void write(std::span<const uint8_t> data) = 0;
  virtual uint64_t written() const = 0;
  // Makes the file durable and visible under its name.
  virtual void finish() = 0;
};

class Directory {
 public:
  virtual ~Directory() = default;
  virtual std::unique_ptr<OutputFile> create(const std::string& name) = 0;
  virtual std::shared_ptr<const RangeReader> open_read(const std::string& name) const = 0;
  virtual bool exists(const std::string& name) const = 0;
  virtual void remove(const std::string& name) = 0;
  virtual std::vector<std::string> list() const = 0;
  virtual std::string describe() const = 0;

  // Writes a whole file atomically.
  void write_file(const std::string& name, std::span<const uint8_t> data);
};

// Files in a local folder; writes go to a temporary name, are fsynced, then renamed.
std::unique_ptr<Directory> open_fs_directory(const std::string& path, bool create);
std::unique_ptr<Directory> new_ram_directory();

// Writes `data` to `path` atomically (temp file in the same folder, fsync, rename).
void write_file_atomic(const std::string& path, std::span<const uint8_t> data);
// Streams to `path` atomically: the returned file appears under `path` only on finish().
std::unique_ptr<OutputFile> create_file_atomic(const std::string& path);

}  // namespace needle

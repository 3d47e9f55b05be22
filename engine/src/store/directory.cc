#include "needle/store/directory.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace needle {

namespace {

[[noreturn]] void throw_errno(const std::string& what, int err) {
  throw_error(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
              what + ": " + std::strerror(err));
}

std::string parent_of(const std::string& path) {
  auto pos = path.rfind('/');
  if (pos == std::string::npos) return ".";
  if (pos == 0) return "/";
  return path.substr(0, pos);
}

void fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

std::atomic<uint64_t> g_temp_counter{0};

class AtomicFile final : public OutputFile {
 public:
  explicit AtomicFile(std::string path) : path_(std::move(path)) {
    tmp_ = path_ + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(g_temp_counter++);
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) throw_errno(path_ + ": cannot create", errno);
  }
  ~AtomicFile() override {
    if (fd_ >= 0) {
      ::close(fd_);
      ::unlink(tmp_.c_str());  // never finished: leave nothing behind
    }
  }
  void write(std::span<const uint8_t> data) override {
    const uint8_t* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      ssize_t n = ::write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw_errno(path_ + ": write failed", errno);
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    written_ += data.size();
  }
  uint64_t written() const override { return written_; }
  void finish() override {
    if (::fsync(fd_) != 0) throw_errno(path_ + ": fsync failed", errno);
    if (::close(fd_) != 0) {
      fd_ = -1;
      ::unlink(tmp_.c_str());
      throw_errno(path_ + ": close failed", errno);
    }
    fd_ = -1;
    if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
      int err = errno;
      ::unlink(tmp_.c_str());
      throw_errno(path_ + ": rename failed", err);
    }
    fsync_dir(parent_of(path_));
  }

 private:
  std::string path_, tmp_;
  int fd_ = -1;
  uint64_t written_ = 0;
};

class FsDirectory final : public Directory {
 public:
  explicit FsDirectory(std::string root) : root_(std::move(root)) {}
  std::unique_ptr<OutputFile> create(const std::string& name) override {
    return std::make_unique<AtomicFile>(path(name));
  }
  std::shared_ptr<const RangeReader> open_read(const std::string& name) const override {
    return open_mmap(path(name));
  }
  bool exists(const std::string& name) const override {
    struct stat st;
    return ::stat(path(name).c_str(), &st) == 0;
  }
  void remove(const std::string& name) override {
    if (::unlink(path(name).c_str()) != 0 && errno != ENOENT) {
      throw_errno(path(name) + ": cannot remove", errno);
    }
  }
  std::vector<std::string> list() const override {
    std::vector<std::string> out;
    DIR* d = ::opendir(root_.c_str());
    if (d == nullptr) throw_errno(root_ + ": cannot list", errno);
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") out.push_back(n);
    }
    ::closedir(d);
    return out;
  }
  std::string describe() const override { return root_; }

 private:
  std::string path(const std::string& name) const { return root_ + "/" + name; }
  std::string root_;
};

class RamDirectory final : public Directory {
  class RamFile final : public OutputFile {
   public:
    RamFile(RamDirectory* dir, std::string name) : dir_(dir), name_(std::move(name)) {}
    void write(std::span<const uint8_t> data) override { buf_.insert(buf_.end(), data.begin(), data.end()); }
    uint64_t written() const override { return buf_.size(); }
    void finish() override {
      std::lock_guard<std::mutex> lock(dir_->mu_);
      dir_->files_[name_] = Bytes::from_vector(std::move(buf_));
    }

   private:
    RamDirectory* dir_;
    std::string name_;
    std::vector<uint8_t> buf_;
  };

 public:
  std::unique_ptr<OutputFile> create(const std::string& name) override {
    return std::make_unique<RamFile>(this, name);
  }
  std::shared_ptr<const RangeReader> open_read(const std::string& name) const override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = files_.find(name);
    if (it == files_.end()) throw_error(ErrorCode::kNotFound, "ram:" + name + ": no such file");
    return memory_reader(it->second, "ram:" + name);
  }
  bool exists(const std::string& name) const override {
    std::lock_guard<std::mutex> lock(mu_);
    return files_.count(name) > 0;
  }
  void remove(const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    files_.erase(name);
  }
  std::vector<std::string> list() const override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    for (auto& [k, v] : files_) out.push_back(k);
    return out;
  }
  std::string describe() const override { return "<ram>"; }

 private:
  mutable std::mutex mu_;
  std::map<std::string, Bytes> files_;
};

}  // namespace

void Directory::write_file(const std::string& name, std::span<const uint8_t> data) {
  auto f = create(name);
  f->write(data);
  f->finish();
}

std::unique_ptr<Directory> open_fs_directory(const std::string& path, bool create) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (!create) throw_errno(path + ": cannot open index folder", errno);
    if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
      throw_errno(path + ": cannot create folder", errno);
    }
  } else if (!S_ISDIR(st.st_mode)) {
    throw_error(ErrorCode::kInvalidArgument, path + ": not a folder");
  }
  return std::make_unique<FsDirectory>(path);
}

std::unique_ptr<Directory> new_ram_directory() { return std::make_unique<RamDirectory>(); }

void write_file_atomic(const std::string& path, std::span<const uint8_t> data) {
  AtomicFile f(path);
  f.write(data);
  f.finish();
}

std::unique_ptr<OutputFile> create_file_atomic(const std::string& path) {
  return std::make_unique<AtomicFile>(path);
}

}  // namespace needle

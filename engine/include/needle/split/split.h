// A .split: one immutable file holding a finished index (docs/format/split.md):
//   split header (16 bytes, envelope header of kind "SPLT")
//   component files of every segment, each 8-byte aligned
//   footer envelope (kind "SFTR"): metadata JSON, file table, hot cache
//   trailer (16 bytes): footer offset u64 | footer length u32 | magic "NDLS"
// The hot cache holds every byte range that opening the split reads (dictionary indexes, file
// headers and footers, statistics), so opening a split on remote storage costs one read of its
// tail (two when the footer is larger than the first read).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "needle/index/index.h"
#include "needle/index/segment.h"
#include "needle/store/directory.h"
#include "needle/store/file_slice.h"

namespace needle {

inline constexpr uint32_t kSplitFormatVersion = 1;
inline constexpr size_t kSplitTrailerSize = 16;

struct SplitFileEntry {
  uint64_t offset = 0;
  uint64_t length = 0;
};

// Where the footer is, for callers that stored it (one read to open).
struct SplitFooterHint {
  uint64_t offset = 0;
  uint64_t length = 0;
};

// Bundles the committed index in `dir` into a split at `path` (written atomically: nothing is at
// `path` unless the whole split is). Returns the split's metadata JSON.
std::string write_split(const Directory& dir, const std::string& path);

class Split {
 public:
  static std::shared_ptr<Split> open(std::shared_ptr<const RangeReader> reader, OpenOptions options = {},
                                     std::optional<SplitFooterHint> hint = std::nullopt);
  static std::shared_ptr<Split> open_file(const std::string& path, OpenOptions options = {});

  const Schema& schema() const { return meta_.schema; }
  const IndexMeta& index_meta() const { return meta_; }
  const std::vector<std::shared_ptr<SegmentReader>>& segments() const { return segments_; }
  // The metadata JSON stored in the footer (what `needle inspect` prints).
  const std::string& metadata_json() const { return metadata_json_; }
  const std::map<std::string, SplitFileEntry>& files() const { return files_; }
  SplitFooterHint footer() const { return footer_; }
  uint64_t num_docs() const { return meta_.num_docs(); }
  FileLookup lookup() const;
  // How many reads passed the hot cache since open (tests of remote opening).
  uint64_t uncached_reads() const;

 private:
  IndexMeta meta_;
  std::string metadata_json_;
  std::map<std::string, SplitFileEntry> files_;
  std::shared_ptr<const RangeReader> raw_;
  std::shared_ptr<CachingRangeReader> cached_;
  std::vector<std::shared_ptr<SegmentReader>> segments_;
  SplitFooterHint footer_;
};

// Merges several splits (identical schemas) into one new split at `path`; `work_dir` is a folder
// for temporary files (created and removed). Returns the new split's metadata JSON.
std::string merge_splits(const std::vector<std::string>& inputs, const std::string& path,
                         const std::string& work_dir, const WriterOptions& options = {});

// The metadata JSON of an index: counts, per-field statistics and the schema.
std::string index_metadata_json(const IndexMeta& meta,
                                const std::vector<std::shared_ptr<SegmentReader>>& segments);

}  // namespace needle

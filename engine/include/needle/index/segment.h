// A segment: an immutable set of component files holding a contiguous range of documents
// (docs/format/segment.md). Written from memory by SegmentWriter or by merging other segments;
// read by SegmentReader through a FileLookup, so the same code reads a folder or a .split.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "needle/analysis/analyzer.h"
#include "needle/codec/postings.h"
#include "needle/docstore/docstore.h"
#include "needle/schema/document.h"
#include "needle/schema/schema.h"
#include "needle/store/directory.h"
#include "needle/store/file_slice.h"
#include "needle/termdict/termdict.h"

namespace needle {

// Component files of a segment, by extension. `<segment id>.<ext>`.
inline constexpr const char* kTermExt = "term";      // term dictionary: key -> TermInfo
inline constexpr const char* kPostingsExt = "post";  // doc ids and term frequencies
inline constexpr const char* kPositionsExt = "pos";  // positions
inline constexpr const char* kNormsExt = "norm";     // one-byte field norms per text field
inline constexpr const char* kStoreExt = "store";    // document store
inline constexpr const char* kInfoExt = "info";      // per-field statistics
inline constexpr const char* kDeletesExt = "del";    // `<id>.<gen>.del`: deleted-documents bitset
// Version written in the envelope of every segment file, and the oldest one read. Version 2
// changed the postings (per-block impacts, docs/format/postings.md); version 3 the TermInfos in
// the term dictionary (offsets implicit after a block's first entry). Older segments are
// rejected as kVersionTooOld.
inline constexpr uint32_t kSegmentFormatVersion = 3;
inline constexpr uint32_t kMinSegmentFormatVersion = 3;

// Positions of the next value of a multi-valued text field start this far after the last token
// of the previous value, so a phrase never matches across two values.
inline constexpr uint32_t kValuePositionGap = 1;
// An untokenized term (string, bytes) longer than this cannot be indexed.
inline constexpr size_t kMaxTermBytes = 32768;

struct FieldStats {
  uint64_t total_norm = 0;       // sum over documents of id_to_fieldnorm(norm id) (text, with norms)
  uint32_t docs_with_value = 0;  // documents with at least one value
  bool has_minmax = false;       // non-text fields: smallest and largest encoded term (bounds)
  std::string min_term, max_term;
};

struct SegmentMeta {
  std::string id;
  uint32_t max_doc = 0;
  uint32_t num_deleted = 0;
  uint32_t del_gen = 0;  // 0: no deletes file
  std::vector<FieldStats> fields;  // written to <id>.info; not part of the index meta.json

  std::string file(std::string_view ext) const { return id + "." + std::string(ext); }
  std::string deletes_file() const { return id + "." + std::to_string(del_gen) + "." + kDeletesExt; }
  uint32_t num_alive() const { return max_doc - num_deleted; }
  // Every file of the segment (deletes file included when del_gen > 0).
  std::vector<std::string> files() const;
};

struct WriterOptions {
  Compression store_compression = Compression::kZstd;
  size_t store_block_size = 16384;
  int zstd_level = 3;
};

// Builds one segment in memory. Not thread-safe: one per indexing thread.
class SegmentWriter {
 public:
  SegmentWriter(const Schema& schema, const AnalyzerRegistry& analyzers, WriterOptions options);
  ~SegmentWriter();
  // Throws Error(kDocument) when a value cannot be indexed; the segment is then unchanged.
  void add_document(const Document& doc, uint64_t opstamp);
  uint32_t num_docs() const { return num_docs_; }
  // Approximate bytes held in memory.
  size_t memory_usage() const;
  const std::vector<uint64_t>& opstamps() const { return opstamps_; }
  // Writes the component files to `dir`; the writer is spent afterwards.
  SegmentMeta serialize(Directory& dir, const std::string& id);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint32_t num_docs_ = 0;
  std::vector<uint64_t> opstamps_;
};

// Throws Error(kDocument) when `doc` cannot be indexed under `schema` (a term too long).
void validate_document(const Schema& schema, const Document& doc);

// Finds a file of an index by name (a folder, a split, memory).
using FileLookup = std::function<FileSlice(const std::string& name)>;

struct OpenOptions {
  // Read every component once at open and check its checksum. Costs one full read; catches any
  // flipped byte before it can give a wrong answer.
  bool verify_checksums = true;
};

class SegmentReader {
 public:
  static std::shared_ptr<SegmentReader> open(const FileLookup& lookup, const SegmentMeta& meta,
                                             const Schema& schema, const OpenOptions& options);
  const SegmentMeta& meta() const { return meta_; }
  uint32_t max_doc() const { return meta_.max_doc; }
  uint32_t num_alive() const { return meta_.num_alive(); }
  bool is_deleted(uint32_t doc) const {
    return !deleted_.empty() && (deleted_[doc >> 3] >> (doc & 7)) & 1;
  }
  bool has_deletes() const { return meta_.num_deleted > 0; }
  const std::vector<uint8_t>& deleted_bitset() const { return deleted_; }
  const TermDict& terms() const { return terms_; }
  const FieldStats& field_stats(uint16_t field) const { return meta_.fields.at(field); }
  std::optional<TermInfo> term_info(std::string_view key) const;
  // Postings of a term (TermInfo from this segment's dictionary).
  SegmentPostings postings(const TermInfo& info, IndexRecordOption option) const;
  // The one-byte norms of a text field (empty if the field has none); read on first use.
  const std::vector<uint8_t>& norms(uint16_t field) const;
  Document stored(uint32_t doc) const;
  const DocStoreReader& store() const { return store_; }
  const Schema& schema() const { return schema_; }

 private:
  SegmentMeta meta_;
  Schema schema_;
  TermDict terms_;
  FileSlice postings_body_, positions_body_, norms_file_;
  DocStoreReader store_;
  std::vector<uint8_t> deleted_;
  std::vector<std::pair<uint16_t, uint64_t>> norm_offsets_;  // field -> offset in norms body
  mutable std::mutex norms_mu_;
  mutable std::unordered_map<uint16_t, std::shared_ptr<const std::vector<uint8_t>>> norms_cache_;
  mutable std::vector<uint8_t> empty_;
};

// Writes the merge of `sources` (alive documents only, in order) as one new segment.
SegmentMeta merge_segments(const std::vector<std::shared_ptr<SegmentReader>>& sources,
                           const Schema& schema, Directory& dir, const std::string& id,
                           const WriterOptions& options);

// Writes a deletes file for `meta` with the given bitset (bit set = deleted); returns the meta
// with the new generation and count. The old deletes file is left for the caller to remove.
SegmentMeta write_deletes(Directory& dir, SegmentMeta meta, const std::vector<uint8_t>& bitset);

// Segment info file: reads the field statistics of a segment.
std::vector<FieldStats> read_segment_info(const FileSlice& file, const Schema& schema,
                                          uint32_t* max_doc);

}  // namespace needle

// An index folder: segments plus meta.json, which lists the committed segments. A commit writes
// the new meta.json atomically (temp file + rename), so readers see the old or the new state,
// never a mix. Files no meta.json references are garbage and removed after a commit.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "needle/analysis/analyzer.h"
#include "needle/index/segment.h"
#include "needle/schema/document.h"

namespace needle {

inline constexpr const char* kIndexMetaFile = "meta.json";
// meta.json format versions (docs/format/segment.md): 2 adds json fields to the schema. A writer
// writes 1 unless the schema has a json field, so indexes without one stay readable by version-1
// readers; a version-1 meta.json that declares a json field is corrupt.
inline constexpr uint32_t kIndexMetaVersion = 2;
inline constexpr uint32_t kIndexMetaVersionNoJson = 1;

struct IndexMeta {
  Schema schema;
  std::vector<SegmentMeta> segments;  // fields stats not included (they live in <id>.info)
  uint64_t opstamp = 0;               // last operation included in this commit
  uint64_t next_segment = 1;          // segment ids are seg-<n>, allocated in order

  std::string to_json() const;
  static IndexMeta from_json(std::string_view json);
  uint64_t num_docs() const;  // alive
};

IndexMeta read_index_meta(const Directory& dir);
// The analyzers of a schema: the built-ins plus its custom ones.
std::shared_ptr<const AnalyzerRegistry> analyzers_for(const Schema& schema);
// Opens the segments of `meta` found through `lookup`.
std::vector<std::shared_ptr<SegmentReader>> open_segments(const FileLookup& lookup,
                                                         const IndexMeta& meta,
                                                         const OpenOptions& options);
FileLookup directory_lookup(const Directory& dir);

struct MergePolicy {
  bool enabled = true;
  uint32_t merge_factor = 10;         // merge this many segments of one level at once
  uint32_t min_merge_segments = 8;    // ... once a level has at least this many
  uint32_t min_level_docs = 10000;    // segments below this size all count as level 0
};

struct IndexWriterOptions {
  size_t memory_budget_bytes = 256ull << 20;  // for all indexing threads together
  unsigned num_threads = 1;
  WriterOptions segment;
  MergePolicy merge_policy;
};

// Lists the documents of a segment that a delete-by-query removes.
using DocMatcher = std::function<void(const SegmentReader&, std::vector<uint32_t>& docs)>;

class IndexWriter {
 public:
  // A new index in an empty folder (throws kInvalidArgument if it already holds an index).
  static std::unique_ptr<IndexWriter> create(std::shared_ptr<Directory> dir, const Schema& schema,
                                             IndexWriterOptions options = {});
  // An existing index.
  static std::unique_ptr<IndexWriter> open(std::shared_ptr<Directory> dir,
                                           IndexWriterOptions options = {});
  ~IndexWriter();  // discards what was not committed

  const Schema& schema() const { return meta_.schema; }
  // Adds a document; returns its opstamp. Documents reach the index at the next commit.
  uint64_t add_document(Document doc);
  // Deletes every document added before this call that has `term` in `field` (the term as
  // encoded for the field's type, see encode_term_value).
  uint64_t delete_term(uint16_t field, std::string term);
  uint64_t delete_matching(DocMatcher matcher);
  // Makes everything added and deleted so far durable and visible; runs merges the policy asks
  // for. Returns the opstamp of the commit.
  uint64_t commit();
  // Merges all segments into one (dropping deleted documents) and commits.
  void force_merge();
  // Forgets everything since the last commit.
  void rollback();
  const IndexMeta& committed() const { return meta_; }
  uint64_t flushed_segments() const { return flush_count_; }

 private:
  IndexWriter(std::shared_ptr<Directory> dir, IndexMeta meta, IndexWriterOptions options);
  struct Batch {
    std::vector<Document> docs;
    std::vector<uint64_t> opstamps;
  };
  struct Pending {  // a flushed, uncommitted segment
    SegmentMeta meta;
    std::vector<uint64_t> opstamps;
  };
  struct DeleteOp {
    uint64_t opstamp;
    uint16_t field;
    std::string term;
    DocMatcher matcher;
  };
  void start_workers();
  void stop_workers();
  void worker_loop(unsigned index);
  void flush_writer(std::unique_ptr<SegmentWriter>& w);
  void send_batch();
  void wait_idle();
  std::string new_segment_id();
  void apply_deletes(std::vector<SegmentMeta>& segments, const std::vector<Pending>& pending);
  void run_merges(bool force);
  void write_meta();
  void collect_garbage();
  void rethrow_worker_error();

  std::shared_ptr<Directory> dir_;
  IndexMeta meta_;
  IndexWriterOptions options_;
  std::shared_ptr<const AnalyzerRegistry> analyzers_;
  uint64_t opstamp_ = 0;
  uint64_t flush_count_ = 0;
  Batch current_;
  std::vector<DeleteOp> deletes_;

  std::mutex mu_;
  std::condition_variable cv_work_, cv_idle_, cv_space_;
  uint64_t flush_gen_ = 0;
  std::deque<Batch> queue_;
  unsigned busy_ = 0;
  bool stopping_ = false;
  unsigned flushed_workers_ = 0;
  std::exception_ptr worker_error_;
  std::vector<Pending> pending_;
  std::vector<std::thread> workers_;
};

}  // namespace needle

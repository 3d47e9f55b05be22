#include <simdjson.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "needle/index/index.h"
#include "needle/schema/value.h"

namespace needle {

// ---- IndexMeta --------------------------------------------------------------------------------

std::string IndexMeta::to_json() const {
  const uint32_t version = schema.has_json_field() ? kIndexMetaVersion : kIndexMetaVersionNoJson;
  std::string out = "{\"format_version\":" + std::to_string(version);
  out += ",\"opstamp\":" + std::to_string(opstamp);
  out += ",\"next_segment\":" + std::to_string(next_segment);
  out += ",\"schema\":" + schema.to_json();
  out += ",\"segments\":[";
  for (size_t i = 0; i < segments.size(); ++i) {
    const auto& s = segments[i];
    if (i) out += ',';
    out += "{\"id\":";
    append_json_string(out, s.id);
    out += ",\"max_doc\":" + std::to_string(s.max_doc) + ",\"num_deleted\":" + std::to_string(s.num_deleted) +
           ",\"del_gen\":" + std::to_string(s.del_gen) + "}";
  }
  out += "]}";
  return out;
}

IndexMeta IndexMeta::from_json(std::string_view json) {
  auto bad = [](const std::string& what) { throw_corrupt(kIndexMetaFile, what); };
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element root;
  if (parser.parse(padded).get(root)) bad("not valid JSON");
  IndexMeta m;
  uint64_t version = 0;
  if (root["format_version"].get_uint64().get(version)) bad("no format_version");
  if (version > kIndexMetaVersion) {
    throw_error(ErrorCode::kVersionTooNew, std::string(kIndexMetaFile) + ": format version " + std::to_string(version) +
                                               " is newer than this build reads; upgrade needle");
  }
  if (root["opstamp"].get_uint64().get(m.opstamp)) bad("no opstamp");
  if (root["next_segment"].get_uint64().get(m.next_segment)) bad("no next_segment");
  simdjson::dom::element schema;
  if (root["schema"].get(schema)) bad("no schema");
  m.schema = Schema::from_json(simdjson::minify(schema));
  if (version < 2 && m.schema.has_json_field()) bad("format version " + std::to_string(version) + " declares a json field");
  simdjson::dom::array segs;
  if (root["segments"].get_array().get(segs)) bad("no segments");
  for (auto s : segs) {
    SegmentMeta sm;
    std::string_view id;
    uint64_t max_doc, num_deleted, del_gen;
    if (s["id"].get_string().get(id) || s["max_doc"].get_uint64().get(max_doc) ||
        s["num_deleted"].get_uint64().get(num_deleted) || s["del_gen"].get_uint64().get(del_gen)) {
      bad("a segment entry lacks id, max_doc, num_deleted or del_gen");
    }
    if (id.empty() || id.find('/') != std::string_view::npos || max_doc > UINT32_MAX ||
        num_deleted > max_doc || del_gen > UINT32_MAX) {
      bad("bad segment entry '" + std::string(id) + "'");
    }
    sm.id = std::string(id);
    sm.max_doc = static_cast<uint32_t>(max_doc);
    sm.num_deleted = static_cast<uint32_t>(num_deleted);
    sm.del_gen = static_cast<uint32_t>(del_gen);
    m.segments.push_back(std::move(sm));
  }
  return m;
}

uint64_t IndexMeta::num_docs() const {
  uint64_t n = 0;
  for (const auto& s : segments) n += s.num_alive();
  return n;
}

IndexMeta read_index_meta(const Directory& dir) {
  if (!dir.exists(kIndexMetaFile)) {
    throw_error(ErrorCode::kNotFound, dir.describe() + ": no index here (" + kIndexMetaFile + " is missing)");
  }
  auto r = dir.open_read(kIndexMetaFile);
  Bytes b = r->read(0, r->size());
  return IndexMeta::from_json(as_chars(b.span()));
}

std::shared_ptr<const AnalyzerRegistry> analyzers_for(const Schema& schema) {
  auto reg = std::make_shared<AnalyzerRegistry>(AnalyzerRegistry::with_builtins());
  for (const auto& [name, def] : schema.analyzers()) reg->add_custom(name, def);
  for (const auto& f : schema.fields()) {
    if (is_analyzed(f.type)) reg->get(f.options.tokenizer);  // throws kSchema if unknown
  }
  return reg;
}

FileLookup directory_lookup(const Directory& dir) {
  return [&dir](const std::string& name) { return FileSlice(dir.open_read(name)); };
}

std::vector<std::shared_ptr<SegmentReader>> open_segments(const FileLookup& lookup, const IndexMeta& meta,
                                                         const OpenOptions& options) {
  std::vector<std::shared_ptr<SegmentReader>> out;
  for (const auto& s : meta.segments) out.push_back(SegmentReader::open(lookup, s, meta.schema, options));
  return out;
}

// ---- IndexWriter ------------------------------------------------------------------------------

namespace {
constexpr size_t kBatchDocs = 128;
}

IndexWriter::IndexWriter(std::shared_ptr<Directory> dir, IndexMeta meta, IndexWriterOptions options)
    : dir_(std::move(dir)), meta_(std::move(meta)), options_(options) {
  if (options_.num_threads == 0) options_.num_threads = 1;
  if (options_.num_threads > 64) throw_error(ErrorCode::kInvalidArgument, "at most 64 indexing threads");
  if (options_.memory_budget_bytes < (1u << 20) * options_.num_threads) {
    throw_error(ErrorCode::kInvalidArgument, "the indexing memory budget must be at least 1 MiB per thread");
  }
  analyzers_ = analyzers_for(meta_.schema);
  opstamp_ = meta_.opstamp;
  start_workers();
}

std::unique_ptr<IndexWriter> IndexWriter::create(std::shared_ptr<Directory> dir, const Schema& schema,
                                                 IndexWriterOptions options) {
  if (dir->exists(kIndexMetaFile)) {
    throw_error(ErrorCode::kInvalidArgument, dir->describe() + ": already holds an index");
  }
  analyzers_for(schema);  // validate analyzers before writing anything
  IndexMeta meta;
  meta.schema = schema;
  dir->write_file(kIndexMetaFile, as_bytes(meta.to_json()));
  return std::unique_ptr<IndexWriter>(new IndexWriter(std::move(dir), std::move(meta), options));
}

std::unique_ptr<IndexWriter> IndexWriter::open(std::shared_ptr<Directory> dir, IndexWriterOptions options) {
  IndexMeta meta = read_index_meta(*dir);
  return std::unique_ptr<IndexWriter>(new IndexWriter(std::move(dir), std::move(meta), options));
}

IndexWriter::~IndexWriter() {
  try {
    stop_workers();
    std::vector<Pending>().swap(pending_);
    collect_garbage();
  } catch (...) {
    // a destructor must not throw; leftover files are collected by the next commit
  }
}

void IndexWriter::start_workers() {
  stopping_ = false;
  for (unsigned i = 0; i < options_.num_threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

void IndexWriter::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    queue_.clear();
  }
  cv_work_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

std::string IndexWriter::new_segment_id() {
  // caller holds mu_ or is the only thread touching meta_
  char buf[32];
  std::snprintf(buf, sizeof(buf), "seg-%06llu", static_cast<unsigned long long>(meta_.next_segment++));
  return buf;
}

void IndexWriter::flush_writer(std::unique_ptr<SegmentWriter>& w) {
  if (!w || w->num_docs() == 0) return;
  std::string id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    id = new_segment_id();
  }
  SegmentMeta sm = w->serialize(*dir_, id);
  Pending p{std::move(sm), w->opstamps()};
  w.reset();
#ifdef __GLIBC__
  // The in-memory segment is gone; hand its pages back so the process stays near its budget.
  malloc_trim(0);
#endif
  std::lock_guard<std::mutex> lock(mu_);
  pending_.push_back(std::move(p));
  ++flush_count_;
}

void IndexWriter::worker_loop(unsigned /*index*/) {
  std::unique_ptr<SegmentWriter> writer;
  uint64_t my_flush_gen = 0;
  const size_t budget = options_.memory_budget_bytes / options_.num_threads;
  for (;;) {
    Batch batch;
    bool do_flush = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_work_.wait(lock, [&] { return stopping_ || !queue_.empty() || flush_gen_ != my_flush_gen; });
      if (stopping_) return;
      if (!queue_.empty()) {
        batch = std::move(queue_.front());
        queue_.pop_front();
        cv_space_.notify_one();
      } else {
        do_flush = true;
        my_flush_gen = flush_gen_;
      }
      ++busy_;
    }
    try {
      if (do_flush) {
        flush_writer(writer);
      } else {
        for (size_t i = 0; i < batch.docs.size(); ++i) {
          if (!writer) writer = std::make_unique<SegmentWriter>(meta_.schema, *analyzers_, options_.segment);
          writer->add_document(batch.docs[i], batch.opstamps[i]);
          if (writer->memory_usage() >= budget) flush_writer(writer);
        }
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu_);
      if (!worker_error_) worker_error_ = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      --busy_;
      if (do_flush) ++flushed_workers_;
    }
    cv_idle_.notify_all();
  }
}

void IndexWriter::send_batch() {
  if (current_.docs.empty()) return;
  std::unique_lock<std::mutex> lock(mu_);
  cv_space_.wait(lock, [&] { return queue_.size() < 2 * workers_.size() || worker_error_; });
  queue_.push_back(std::move(current_));
  current_ = Batch{};
  lock.unlock();
  cv_work_.notify_one();
}

void IndexWriter::rethrow_worker_error() {
  std::exception_ptr e;
  {
    std::lock_guard<std::mutex> lock(mu_);
    e = worker_error_;
  }
  if (e) std::rethrow_exception(e);
}

uint64_t IndexWriter::add_document(Document doc) {
  rethrow_worker_error();
  validate_document(meta_.schema, doc);
  uint64_t op = ++opstamp_;
  current_.docs.push_back(std::move(doc));
  current_.opstamps.push_back(op);
  if (current_.docs.size() >= kBatchDocs) send_batch();
  return op;
}

uint64_t IndexWriter::delete_term(uint16_t field, std::string term) {
  if (field >= meta_.schema.num_fields()) throw_error(ErrorCode::kInvalidArgument, "delete_term: no field " + std::to_string(field));
  if (!meta_.schema.field(field).options.indexed) {
    throw_error(ErrorCode::kInvalidArgument, "delete_term: field '" + meta_.schema.field(field).name + "' is not indexed");
  }
  send_batch();
  uint64_t op = ++opstamp_;
  deletes_.push_back(DeleteOp{op, field, std::move(term), nullptr});
  return op;
}

uint64_t IndexWriter::delete_matching(DocMatcher matcher) {
  send_batch();
  uint64_t op = ++opstamp_;
  deletes_.push_back(DeleteOp{op, 0, {}, std::move(matcher)});
  return op;
}

void IndexWriter::wait_idle() {
  send_batch();
  std::unique_lock<std::mutex> lock(mu_);
  ++flush_gen_;
  flushed_workers_ = 0;
  cv_work_.notify_all();
  cv_idle_.wait(lock, [&] {
    return queue_.empty() && busy_ == 0 && flushed_workers_ == workers_.size();
  });
}

void IndexWriter::apply_deletes(std::vector<SegmentMeta>& segments, const std::vector<Pending>& pending) {
  if (deletes_.empty()) return;
  std::map<std::string, const std::vector<uint64_t>*> opstamps;
  for (const auto& p : pending) opstamps[p.meta.id] = &p.opstamps;
  OpenOptions no_verify;
  no_verify.verify_checksums = false;
  FileLookup lookup = directory_lookup(*dir_);
  std::vector<uint32_t> docs;
  for (auto& sm : segments) {
    auto reader = SegmentReader::open(lookup, sm, meta_.schema, no_verify);
    std::vector<uint8_t> bits = reader->deleted_bitset();
    if (bits.empty()) bits.assign((sm.max_doc + 7) / 8, 0);
    auto it = opstamps.find(sm.id);
    const std::vector<uint64_t>* ops = it == opstamps.end() ? nullptr : it->second;
    bool changed = false;
    for (const auto& del : deletes_) {
      docs.clear();
      if (del.matcher) {
        del.matcher(*reader, docs);
      } else {
        const auto& f = meta_.schema.field(del.field);
        auto ti = reader->term_info(term_key(del.field, del.term));
        if (!ti) continue;
        auto p = reader->postings(*ti, f.options.record);
        for (uint32_t d = p.doc(); d != kTerminated; d = p.advance()) docs.push_back(d);
      }
      for (uint32_t d : docs) {
        if (d >= sm.max_doc) continue;
        if (ops != nullptr && (*ops)[d] >= del.opstamp) continue;  // added after the delete
        uint8_t mask = static_cast<uint8_t>(1u << (d & 7));
        if (!(bits[d >> 3] & mask)) {
          bits[d >> 3] |= mask;
          changed = true;
        }
      }
    }
    if (changed) sm = write_deletes(*dir_, sm, bits);
  }
}

void IndexWriter::write_meta() { dir_->write_file(kIndexMetaFile, as_bytes(meta_.to_json())); }

uint64_t IndexWriter::commit() {
  wait_idle();
  rethrow_worker_error();
  std::vector<SegmentMeta> segments = meta_.segments;
  std::vector<Pending> pending;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending.swap(pending_);
  }
  for (const auto& p : pending) segments.push_back(p.meta);
  apply_deletes(segments, pending);
  // Segments whose every document is deleted are dropped.
  segments.erase(std::remove_if(segments.begin(), segments.end(), [](const SegmentMeta& s) { return s.num_alive() == 0; }),
                 segments.end());
  meta_.segments = std::move(segments);
  meta_.opstamp = opstamp_;
  deletes_.clear();
  write_meta();
  run_merges(false);
  collect_garbage();
  return meta_.opstamp;
}

void IndexWriter::force_merge() {
  commit();
  run_merges(true);
  collect_garbage();
}

void IndexWriter::rollback() {
  stop_workers();
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_.clear();
    worker_error_ = nullptr;
    flush_gen_ = 0;
  }
  current_ = Batch{};
  deletes_.clear();
  meta_ = read_index_meta(*dir_);
  opstamp_ = meta_.opstamp;
  collect_garbage();
  start_workers();
}

void IndexWriter::run_merges(bool force) {
  const MergePolicy& policy = options_.merge_policy;
  for (;;) {
    std::vector<size_t> pick;
    if (force) {
      bool any_deletes = std::any_of(meta_.segments.begin(), meta_.segments.end(),
                                     [](const SegmentMeta& s) { return s.num_deleted > 0; });
      if (meta_.segments.size() > 1 || any_deletes) {
        for (size_t i = 0; i < meta_.segments.size(); ++i) pick.push_back(i);
      }
    } else if (policy.enabled && policy.merge_factor >= 2) {
      std::map<int, std::vector<size_t>> levels;
      for (size_t i = 0; i < meta_.segments.size(); ++i) {
        double alive = meta_.segments[i].num_alive();
        int level = alive < policy.min_level_docs
                        ? 0
                        : 1 + static_cast<int>(std::floor(std::log(alive / policy.min_level_docs) /
                                                          std::log(static_cast<double>(policy.merge_factor))));
        levels[level].push_back(i);
      }
      for (auto& [level, members] : levels) {
        if (members.size() >= std::max<uint32_t>(2, policy.min_merge_segments)) {
          pick.assign(members.begin(), members.begin() + std::min<size_t>(members.size(), policy.merge_factor));
          break;
        }
      }
    }
    if (pick.empty()) return;
    OpenOptions no_verify;
    no_verify.verify_checksums = false;
    FileLookup lookup = directory_lookup(*dir_);
    std::vector<std::shared_ptr<SegmentReader>> readers;
    for (size_t i : pick) readers.push_back(SegmentReader::open(lookup, meta_.segments[i], meta_.schema, no_verify));
    std::string id = new_segment_id();
    SegmentMeta merged = merge_segments(readers, meta_.schema, *dir_, id, options_.segment);
    std::vector<SegmentMeta> next;
    for (size_t i = 0; i < meta_.segments.size(); ++i) {
      if (i == pick.front() && merged.max_doc > 0) next.push_back(merged);
      if (std::find(pick.begin(), pick.end(), i) == pick.end()) next.push_back(meta_.segments[i]);
    }
    meta_.segments = std::move(next);
    write_meta();
    if (force) return;
  }
}

void IndexWriter::collect_garbage() {
  std::set<std::string> keep = {kIndexMetaFile};
  for (const auto& s : meta_.segments) {
    for (auto& f : s.files()) keep.insert(f);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& p : pending_) {
      for (auto& f : p.meta.files()) keep.insert(f);
    }
  }
  for (const auto& name : dir_->list()) {
    if (keep.count(name)) continue;
    bool ours = name.rfind("seg-", 0) == 0 || name.rfind(std::string(kIndexMetaFile) + ".tmp.", 0) == 0;
    if (ours) dir_->remove(name);
  }
}

}  // namespace needle

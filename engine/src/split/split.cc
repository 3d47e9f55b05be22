#include "needle/split/split.h"

#include <sys/stat.h>
#include <unistd.h>

#include "needle/common/checksum.h"
#include "needle/common/envelope.h"

#include <algorithm>
#include "needle/schema/value.h"

namespace needle {

namespace {

constexpr uint32_t kSplitKind = fourcc("SPLT");
constexpr uint32_t kFooterKind = fourcc("SFTR");
constexpr uint32_t kTrailerMagic = 0x534C444E;  // "NDLS"
constexpr uint64_t kFirstTailRead = 64 * 1024;
constexpr const char* kVersionString = "needle 0.1.0";

uint32_t exact_docs_with_value(const SegmentReader& seg, uint16_t field) {
  const FieldStats& st = seg.field_stats(field);
  if (!seg.has_deletes()) return st.docs_with_value;
  auto ti = seg.term_info(exists_key(field));
  if (!ti) return 0;
  uint32_t n = 0;
  auto p = seg.postings(*ti, IndexRecordOption::kBasic);
  for (uint32_t d = p.doc(); d != kTerminated; d = p.advance()) n += !seg.is_deleted(d);
  return n;
}

}  // namespace

std::string index_metadata_json(const IndexMeta& meta,
                                const std::vector<std::shared_ptr<SegmentReader>>& segments) {
  uint64_t max_doc = 0, deleted = 0;
  for (const auto& s : meta.segments) {
    max_doc += s.max_doc;
    deleted += s.num_deleted;
  }
  const uint64_t alive = max_doc - deleted;
  std::string out = "{\"format_version\":" + std::to_string(kSplitFormatVersion);
  out += ",\"created_by\":\"" + std::string(kVersionString) + "\"";
  out += ",\"num_docs\":" + std::to_string(alive) + ",\"num_deleted\":" + std::to_string(deleted) +
         ",\"max_doc\":" + std::to_string(max_doc);
  out += ",\"segments\":[";
  for (size_t i = 0; i < meta.segments.size(); ++i) {
    if (i) out += ',';
    out += "{\"id\":\"" + meta.segments[i].id + "\",\"max_doc\":" + std::to_string(meta.segments[i].max_doc) +
           ",\"num_deleted\":" + std::to_string(meta.segments[i].num_deleted) + "}";
  }
  out += "],\"fields\":{";
  for (const auto& f : meta.schema.fields()) {
    if (f.id) out += ',';
    append_json_string(out, f.name);
    uint64_t with_value = 0;
    bool has_mm = false;
    std::string mn, mx;
    for (const auto& seg : segments) {
      with_value += exact_docs_with_value(*seg, f.id);
      const FieldStats& st = seg->field_stats(f.id);
      if (st.has_minmax && seg->num_alive() > 0) {
        if (!has_mm || st.min_term < mn) mn = st.min_term;
        if (!has_mm || st.max_term > mx) mx = st.max_term;
        has_mm = true;
      }
    }
    out += ":{\"type\":\"" + std::string(field_type_name(f.type)) + "\"";
    out += ",\"docs_with_value\":" + std::to_string(with_value) + ",\"null_count\":" + std::to_string(alive - with_value);
    if (has_mm && f.type != FieldType::kText && f.type != FieldType::kJson) {
      out += ",\"min\":";
      append_value_json(out, decode_term_value(f.type, mn));
      out += ",\"max\":";
      append_value_json(out, decode_term_value(f.type, mx));
    }
    out += "}";
  }
  out += "},\"schema\":" + meta.schema.to_json() + "}";
  return out;
}

std::string write_split(const Directory& dir, const std::string& path) {
  IndexMeta meta = read_index_meta(dir);
  OpenOptions verify;
  verify.verify_checksums = true;
  auto readers = open_segments(directory_lookup(dir), meta, verify);

  // The byte ranges that opening reads, per file.
  std::map<std::string, std::shared_ptr<RecordingRangeReader>> recorders;
  {
    FileLookup recording = [&](const std::string& name) {
      auto& rec = recorders[name];
      if (!rec) rec = std::make_shared<RecordingRangeReader>(dir.open_read(name));
      return FileSlice(rec);
    };
    OpenOptions plain;
    plain.verify_checksums = false;
    open_segments(recording, meta, plain);
  }

  auto out = create_file_atomic(path);
  ByteWriter head;
  write_envelope_header(head, kSplitKind, kSplitFormatVersion);
  out->write(head.span());
  std::map<std::string, SplitFileEntry> table;
  static const uint8_t kZeros[8] = {0};
  for (const auto& seg : meta.segments) {
    for (const auto& name : seg.files()) {
      auto r = dir.open_read(name);
      uint64_t pad = (8 - out->written() % 8) % 8;
      out->write(std::span<const uint8_t>(kZeros, pad));
      SplitFileEntry e{out->written(), r->size()};
      const uint64_t chunk = 8 << 20;
      for (uint64_t off = 0; off < r->size(); off += chunk) {
        Bytes b = r->read(off, std::min(chunk, r->size() - off));
        out->write(b.span());
      }
      table[name] = e;
    }
  }
  uint64_t pad = (8 - out->written() % 8) % 8;
  out->write(std::span<const uint8_t>(kZeros, pad));

  std::string metadata = index_metadata_json(meta, readers);
  ByteWriter footer;
  write_envelope_header(footer, kFooterKind, kSplitFormatVersion);
  footer.str(metadata);
  footer.str(meta.to_json());
  footer.vint(table.size());
  for (const auto& [name, e] : table) {
    footer.str(name);
    footer.u64(e.offset);
    footer.u64(e.length);
  }
  // hot cache: the split header plus every recorded range, translated to split offsets
  std::vector<std::pair<uint64_t, Bytes>> cache;
  cache.emplace_back(0, Bytes::copy_of(head.span()));
  for (const auto& [name, rec] : recorders) {
    const auto& e = table.at(name);
    auto reader = dir.open_read(name);
    for (auto [off, len] : rec->ranges()) cache.emplace_back(e.offset + off, reader->read(off, len));
  }
  footer.vint(cache.size());
  for (const auto& [off, bytes] : cache) {
    footer.u64(off);
    footer.vint(bytes.size());
    footer.bytes(bytes.span());
  }
  write_envelope_footer(footer);
  uint64_t footer_offset = out->written();
  out->write(footer.span());
  ByteWriter trailer;
  trailer.u64(footer_offset);
  trailer.u32(static_cast<uint32_t>(footer.size()));
  trailer.u32(kTrailerMagic);
  out->write(trailer.span());
  out->finish();
  return metadata;
}

std::shared_ptr<Split> Split::open(std::shared_ptr<const RangeReader> reader, OpenOptions options,
                                   std::optional<SplitFooterHint> hint) {
  const std::string& name = reader->name();
  const uint64_t size = reader->size();
  if (size < kEnvelopeHeaderSize + kSplitTrailerSize + kEnvelopeHeaderSize + kEnvelopeFooterSize) {
    throw_corrupt(name, "a file of " + std::to_string(size) + " bytes is too short to be a split");
  }
  uint64_t tail_start = hint ? hint->offset : size - std::min(size, kFirstTailRead);
  if (tail_start > size - kSplitTrailerSize) throw_error(ErrorCode::kInvalidArgument, name + ": footer hint past the end");
  Bytes tail = reader->read(tail_start, size - tail_start);
  ByteReader tr(tail.span().last(kSplitTrailerSize), name);
  uint64_t footer_offset = tr.u64();
  uint32_t footer_len = tr.u32();
  if (tr.u32() != kTrailerMagic) {
    throw_corrupt(name, "not a needle split (bad trailer magic; truncated or not a split)");
  }
  if (footer_offset < kEnvelopeHeaderSize || footer_offset > size - kSplitTrailerSize ||
      footer_len != size - kSplitTrailerSize - footer_offset) {
    throw_corrupt(name, "trailer points outside the file");
  }
  Bytes footer_bytes = footer_offset >= tail_start
                           ? tail.slice(footer_offset - tail_start, footer_len, name)
                           : reader->read(footer_offset, footer_len);
  auto env = open_envelope(footer_bytes, kFooterKind, 1, kSplitFormatVersion, name + " footer", true);
  auto split = std::make_shared<Split>();
  split->raw_ = reader;
  split->footer_ = SplitFooterHint{footer_offset, footer_len};
  ByteReader r(env.body, name + " footer");
  split->metadata_json_ = std::string(r.str());
  split->meta_ = IndexMeta::from_json(r.str());
  uint64_t nfiles = r.vint();
  for (uint64_t i = 0; i < nfiles; ++i) {
    std::string fname(r.str());
    SplitFileEntry e;
    e.offset = r.u64();
    e.length = r.u64();
    if (e.offset > footer_offset || e.length > footer_offset - e.offset) r.fail("file '" + fname + "' lies outside the split");
    split->files_[fname] = e;
  }
  std::map<uint64_t, Bytes> cache;
  uint64_t nranges = r.vint();
  for (uint64_t i = 0; i < nranges; ++i) {
    uint64_t off = r.u64();
    uint64_t len = r.vint();
    if (len > r.remaining()) r.fail("hot-cache range past the end of the footer");
    if (off > footer_offset || len > footer_offset - off) r.fail("hot-cache range outside the split");
    auto b = r.bytes(static_cast<size_t>(len));
    cache[off] = footer_bytes.slice(static_cast<size_t>(b.data() - footer_bytes.data()), b.size(), name);
  }
  if (!r.done()) r.fail("trailing bytes in the footer");
  std::map<uint64_t, Bytes> cache_copy = options.verify_checksums ? cache : std::map<uint64_t, Bytes>{};
  split->cached_ = std::make_shared<CachingRangeReader>(reader, std::move(cache));
  // The split header (served from the hot cache).
  check_envelope_header(split->cached_->read(0, kEnvelopeHeaderSize).span(), kSplitKind, 1, kSplitFormatVersion, name);
  for (const auto& s : split->meta_.segments) {
    for (const auto& f : s.files()) {
      if (!split->files_.count(f)) throw_corrupt(name, "the file table lacks '" + f + "'");
    }
  }
  if (options.verify_checksums) {
    // Check the bytes on storage, not the hot cache's copies: every component's checksum and the
    // split header.
    Bytes raw_head = reader->read(0, kEnvelopeHeaderSize);
    check_envelope_header(raw_head.span(), kSplitKind, 1, kSplitFormatVersion, name);
    if (!std::equal(raw_head.data(), raw_head.data() + raw_head.size(), split->cached_->read(0, kEnvelopeHeaderSize).data())) {
      throw_corrupt(name, "the split header differs from its copy in the hot cache");
    }
    for (const auto& [fname, e] : split->files_) {
      Bytes all = reader->read(e.offset, e.length);
      if (all.size() < kEnvelopeHeaderSize + kEnvelopeFooterSize) throw_corrupt(name + ":" + fname, "shorter than its envelope");
      uint64_t sum = check_envelope_footer(all.span().last(kEnvelopeFooterSize), all.size(), name + ":" + fname);
      if (checksum64(all.span().first(all.size() - kEnvelopeFooterSize)) != sum) {
        throw_corrupt(name + ":" + fname, "checksum mismatch");
      }
    }
    for (const auto& [off, bytes] : cache_copy) {
      Bytes raw = reader->read(off, bytes.size());
      if (!std::equal(raw.data(), raw.data() + raw.size(), bytes.data())) {
        throw_corrupt(name, "bytes at offset " + std::to_string(off) + " differ from the hot cache");
      }
    }
  }
  OpenOptions plain = options;
  plain.verify_checksums = false;  // verified above, once, from storage
  split->segments_ = open_segments(split->lookup(), split->meta_, plain);
  return split;
}

std::shared_ptr<Split> Split::open_file(const std::string& path, OpenOptions options) {
  return open(open_mmap(path), options);
}

FileLookup Split::lookup() const {
  auto cached = cached_;
  auto files = files_;
  std::string split_name = raw_->name();
  return [cached, files, split_name](const std::string& name) {
    auto it = files.find(name);
    if (it == files.end()) throw_corrupt(split_name, "no file '" + name + "' in the split");
    return FileSlice(cached, it->second.offset, it->second.length, split_name + ":" + name);
  };
}

uint64_t Split::uncached_reads() const { return cached_->passthrough_reads(); }

std::string merge_splits(const std::vector<std::string>& inputs, const std::string& path,
                         const std::string& work_dir, const WriterOptions& options) {
  if (inputs.empty()) throw_error(ErrorCode::kInvalidArgument, "merge: no input splits");
  std::vector<std::shared_ptr<Split>> splits;
  for (const auto& in : inputs) splits.push_back(Split::open_file(in));
  const Schema& schema = splits[0]->schema();
  std::vector<std::shared_ptr<SegmentReader>> segments;
  for (size_t i = 0; i < splits.size(); ++i) {
    if (!(splits[i]->schema() == schema)) {
      throw_error(ErrorCode::kInvalidArgument, "merge: " + inputs[i] + " has a different schema from " + inputs[0]);
    }
    for (const auto& s : splits[i]->segments()) segments.push_back(s);
  }
  std::shared_ptr<Directory> dir = open_fs_directory(work_dir, true);
  struct Cleanup {
    Directory* dir;
    std::string path;
    ~Cleanup() {
      try {
        for (const auto& f : dir->list()) dir->remove(f);
      } catch (...) {
      }
      ::rmdir(path.c_str());
    }
  } cleanup{dir.get(), work_dir};
  IndexMeta meta;
  meta.schema = schema;
  meta.next_segment = 2;
  SegmentMeta merged = merge_segments(segments, schema, *dir, "seg-000001", options);
  if (merged.max_doc > 0) meta.segments.push_back(merged);
  dir->write_file(kIndexMetaFile, as_bytes(meta.to_json()));
  return write_split(*dir, path);
}

}  // namespace needle

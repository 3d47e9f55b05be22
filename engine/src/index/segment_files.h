// Private helpers shared by the segment writer, reader and merger: envelope kinds and the small
// component files (norms, info, deletes). docs/format/segment.md is the specification.
#pragma once

#include <string>
#include <vector>

#include "needle/common/bytes.h"
#include "needle/common/checksum.h"
#include "needle/common/envelope.h"
#include "needle/index/segment.h"
#include "needle/termdict/termdict.h"

namespace needle::segment_files {

inline constexpr uint32_t kPostingsKind = fourcc("POST");
inline constexpr uint32_t kPositionsKind = fourcc("POSN");
inline constexpr uint32_t kNormsKind = fourcc("NORM");
inline constexpr uint32_t kInfoKind = fourcc("INFO");
inline constexpr uint32_t kDeletesKind = fourcc("DELS");

// A ByteWriter that already holds the envelope header.
inline ByteWriter start_file(uint32_t kind) {
  ByteWriter w;
  write_envelope_header(w, kind, kSegmentFormatVersion);
  return w;
}

// Adds the envelope footer and writes the file.
inline void finish_file(Directory& dir, const std::string& name, ByteWriter& w) {
  write_envelope_footer(w);
  dir.write_file(name, w.span());
}

// The field id a term-dictionary key belongs to (its first two bytes, big-endian).
inline uint16_t key_field(std::string_view key) {
  return static_cast<uint16_t>(static_cast<uint8_t>(key[0]) << 8 | static_cast<uint8_t>(key[1]));
}

// Text and json fields that carry norms (json: one norm per field, counting the tokens of all its
// string leaves).
inline bool has_norms(const FieldEntry& f) {
  return is_analyzed(f.type) && f.options.indexed && f.options.fieldnorms;
}

// The chain of a segment's term dictionary: values are TermInfos in their standalone form
// (TermInfo::encode), stored in their chained form (TermInfo::encode_stored; docs/format/postings.md
// "TermInfo"). Every reader and writer of a segment's term dictionary uses it.
const ValueChain* term_info_chain();

// A component file written as it grows: its bytes go to the directory in pieces of about 1 MiB,
// with the envelope checksum kept incrementally, so memory does not grow with the file.
class StreamedFile {
 public:
  StreamedFile(Directory& dir, const std::string& name, uint32_t kind);
  ByteWriter& writer() { return w_; }
  void maybe_spill();
  void finish();

 private:
  void spill();
  std::unique_ptr<OutputFile> out_;
  ByteWriter w_;
  Checksummer sum_;
};

// Writes the component files of one segment but the document store. Terms are added in key
// order:  PostingsSerializer& s = w.start_term(option); s.write_doc(...)...; w.finish_term(key);
// then finish() completes every file.
class SegmentFilesWriter {
 public:
  SegmentFilesWriter(Directory& dir, const std::string& segment_id);
  PostingsSerializer& start_term(IndexRecordOption option);
  void finish_term(std::string_view key);
  // `norms[field]` holds one byte per document for each field with norms.
  void finish(const SegmentMeta& meta, const Schema& schema, const std::vector<std::vector<uint8_t>>& norms);

 private:
  Directory& dir_;
  StreamedFile post_, pos_;
  std::vector<PostingsSerializer> serializers_;
  PostingsSerializer* current_ = nullptr;
  TermDictBuilder dict_{384, term_info_chain()};  // small blocks: a lookup scans fewer entries (docs/format/termdict.md)
  ByteWriter value_;
};

}  // namespace needle::segment_files

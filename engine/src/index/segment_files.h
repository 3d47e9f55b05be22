// Private helpers shared by the segment writer, reader and merger: envelope kinds and the small
// component files (norms, info, deletes). docs/format/segment.md is the specification.
#pragma once

#include <string>
#include <vector>

#include "needle/common/bytes.h"
#include "needle/common/envelope.h"
#include "needle/index/segment.h"

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

void write_norms(Directory& dir, const std::string& name, uint32_t max_doc,
                 const std::vector<std::pair<uint16_t, const std::vector<uint8_t>*>>& fields);
void write_info(Directory& dir, const std::string& name, uint32_t max_doc,
                const std::vector<FieldStats>& fields);

}  // namespace needle::segment_files

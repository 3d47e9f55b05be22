// The envelope every needle file carries (docs/format/envelope.md):
//   header (16 bytes): magic "NDLF" | kind (4 ASCII bytes) | format version u32 | reserved u32 = 0
//   body
//   footer (20 bytes): body length u64 | XXH3-64 of header+body u64 | magic "NDLE"
// A reader checks magic, kind and version from the header, the length from the footer, and, when
// asked, the checksum. Mismatches give distinct errors: corrupt, too old, too new.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "needle/common/bytes.h"

namespace needle {

constexpr size_t kEnvelopeHeaderSize = 16;
constexpr size_t kEnvelopeFooterSize = 20;
constexpr uint32_t kEnvelopeMagic = 0x464C444E;        // "NDLF"
constexpr uint32_t kEnvelopeFooterMagic = 0x454C444E;  // "NDLE"

constexpr uint32_t fourcc(const char (&s)[5]) {
  return static_cast<uint32_t>(static_cast<uint8_t>(s[0])) |
         static_cast<uint32_t>(static_cast<uint8_t>(s[1])) << 8 |
         static_cast<uint32_t>(static_cast<uint8_t>(s[2])) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(s[3])) << 24;
}

// Writes the header at the writer's current position (normally 0).
void write_envelope_header(ByteWriter& out, uint32_t kind, uint32_t version);
// Appends the footer; `header_pos` is where write_envelope_header wrote.
void write_envelope_footer(ByteWriter& out, size_t header_pos = 0);

class Checksummer;
// For a file streamed out in pieces: `sum` has seen every byte written so far except what is
// still buffered in `out`; appends the footer to `out` (after adding the buffered bytes to `sum`).
void write_streamed_envelope_footer(ByteWriter& out, Checksummer& sum);

struct EnvelopeInfo {
  uint32_t version = 0;
  std::span<const uint8_t> body;  // the bytes between header and footer
};

// Checks a whole file held in memory.
EnvelopeInfo open_envelope(std::span<const uint8_t> file, uint32_t kind, uint32_t min_version,
                           uint32_t max_version, std::string_view name, bool verify_checksum);

// For files read in pieces: checks the 16 header bytes, returns the version.
uint32_t check_envelope_header(std::span<const uint8_t> header, uint32_t kind,
                               uint32_t min_version, uint32_t max_version, std::string_view name);
// Checks the 20 footer bytes against the file's length; returns the stored checksum.
uint64_t check_envelope_footer(std::span<const uint8_t> footer, uint64_t file_len,
                               std::string_view name);

}  // namespace needle

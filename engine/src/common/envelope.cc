#include "needle/common/envelope.h"

#include <string>

#include "needle/common/checksum.h"

namespace needle {

namespace {
std::string kind_name(uint32_t kind) {
  std::string s(4, ' ');
  for (int i = 0; i < 4; ++i) {
    char c = static_cast<char>(kind >> (8 * i));
    s[i] = (c >= 32 && c < 127) ? c : '?';
  }
  return s;
}
}  // namespace

void write_envelope_header(ByteWriter& out, uint32_t kind, uint32_t version) {
  out.u32(kEnvelopeMagic);
  out.u32(kind);
  out.u32(version);
  out.u32(0);
}

void write_streamed_envelope_footer(ByteWriter& out, Checksummer& sum) {
  sum.update(out.span());
  uint64_t body_len = out.size() - kEnvelopeHeaderSize;
  uint64_t digest = sum.digest();
  out.u64(body_len);
  out.u64(digest);
  out.u32(kEnvelopeFooterMagic);
}

void write_envelope_footer(ByteWriter& out, size_t header_pos) {
  if (out.drained() > 0) throw_error(ErrorCode::kInternal, "write_envelope_footer on a streamed writer");
  const auto& d = out.data();
  uint64_t body_len = d.size() - header_pos - kEnvelopeHeaderSize;
  uint64_t sum = checksum64(std::span<const uint8_t>(d.data() + header_pos, d.size() - header_pos));
  out.u64(body_len);
  out.u64(sum);
  out.u32(kEnvelopeFooterMagic);
}

uint32_t check_envelope_header(std::span<const uint8_t> header, uint32_t kind,
                               uint32_t min_version, uint32_t max_version, std::string_view name) {
  ByteReader r(header, name);
  if (header.size() < kEnvelopeHeaderSize) r.fail("file shorter than its header");
  if (r.u32() != kEnvelopeMagic) r.fail("not a needle file (bad magic)");
  uint32_t k = r.u32();
  if (k != kind) r.fail("expected a '" + kind_name(kind) + "' file, found '" + kind_name(k) + "'");
  uint32_t version = r.u32();
  if (version < min_version) {
    throw_error(ErrorCode::kVersionTooOld,
                std::string(name) + ": format version " + std::to_string(version) +
                    " is older than the oldest this build reads (" + std::to_string(min_version) +
                    ")");
  }
  if (version > max_version) {
    throw_error(ErrorCode::kVersionTooNew,
                std::string(name) + ": format version " + std::to_string(version) +
                    " is newer than this build reads (" + std::to_string(max_version) +
                    "); upgrade needle");
  }
  if (r.u32() != 0) r.fail("reserved header field is not zero");
  return version;
}

uint64_t check_envelope_footer(std::span<const uint8_t> footer, uint64_t file_len,
                               std::string_view name) {
  ByteReader r(footer, name);
  if (footer.size() != kEnvelopeFooterSize) r.fail("footer has the wrong size");
  uint64_t body_len = r.u64();
  uint64_t sum = r.u64();
  if (r.u32() != kEnvelopeFooterMagic) r.fail("bad footer magic (truncated or overwritten file)");
  if (file_len < kEnvelopeHeaderSize + kEnvelopeFooterSize ||
      body_len != file_len - kEnvelopeHeaderSize - kEnvelopeFooterSize) {
    r.fail("footer says the body is " + std::to_string(body_len) + " bytes but the file is " +
           std::to_string(file_len) + " bytes");
  }
  return sum;
}

EnvelopeInfo open_envelope(std::span<const uint8_t> file, uint32_t kind, uint32_t min_version,
                           uint32_t max_version, std::string_view name, bool verify_checksum) {
  if (file.size() < kEnvelopeHeaderSize + kEnvelopeFooterSize) {
    throw_corrupt(name, "file of " + std::to_string(file.size()) +
                            " bytes is shorter than the envelope");
  }
  EnvelopeInfo info;
  info.version = check_envelope_header(file.first(kEnvelopeHeaderSize), kind, min_version,
                                       max_version, name);
  uint64_t sum = check_envelope_footer(file.last(kEnvelopeFooterSize), file.size(), name);
  if (verify_checksum && checksum64(file.first(file.size() - kEnvelopeFooterSize)) != sum) {
    throw_corrupt(name, "checksum mismatch");
  }
  info.body = file.subspan(kEnvelopeHeaderSize,
                           file.size() - kEnvelopeHeaderSize - kEnvelopeFooterSize);
  return info;
}

}  // namespace needle

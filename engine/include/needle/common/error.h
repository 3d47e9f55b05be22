// Error policy (see ARCHITECTURE.md):
//  - An error that ends the operation is thrown as needle::Error carrying one ErrorCode.
//  - Expected outcomes (a term that is absent, a document that is deleted) are return values.
//  - Programmer errors are asserts.
// The numeric values of ErrorCode cross the JNI boundary: never renumber, only append.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace needle {

enum class ErrorCode : int32_t {
  kOk = 0,
  kInvalidArgument = 1,   // a bad option or API argument
  kSchema = 2,            // a bad schema
  kDocument = 3,          // a document that does not fit the schema
  kQueryParse = 4,        // a query string that does not parse
  kQuery = 5,             // a query that parses but cannot run (unknown field, wrong type)
  kCorrupt = 6,           // a file whose bytes are not what its format says
  kVersionTooOld = 7,     // a file written by a format version this build no longer reads
  kVersionTooNew = 8,     // a file written by a newer format version than this build reads
  kIo = 9,                // the operating system or a range reader failed
  kNotFound = 10,         // a named file or object that does not exist
  kUnsupported = 11,      // a feature this build does not have
  kResourceExhausted = 12,// a memory budget or limit that was reached
  kInternal = 13,         // a bug: an invariant of needle itself was broken
  kCancelled = 14,
};

std::string_view error_code_name(ErrorCode code);

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

[[noreturn]] void throw_error(ErrorCode code, std::string message);

// Shorthand for the most common error: a file that is not what its format says.
[[noreturn]] inline void throw_corrupt(std::string_view what, std::string_view detail) {
  throw_error(ErrorCode::kCorrupt, std::string(what) + ": corrupt: " + std::string(detail));
}

}  // namespace needle

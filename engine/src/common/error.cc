#include "needle/common/error.h"

namespace needle {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return "OK";
    case ErrorCode::kInvalidArgument: return "INVALID_ARGUMENT";
    case ErrorCode::kSchema: return "SCHEMA";
    case ErrorCode::kDocument: return "DOCUMENT";
    case ErrorCode::kQueryParse: return "QUERY_PARSE";
    case ErrorCode::kQuery: return "QUERY";
    case ErrorCode::kCorrupt: return "CORRUPT";
    case ErrorCode::kVersionTooOld: return "VERSION_TOO_OLD";
    case ErrorCode::kVersionTooNew: return "VERSION_TOO_NEW";
    case ErrorCode::kIo: return "IO";
    case ErrorCode::kNotFound: return "NOT_FOUND";
    case ErrorCode::kUnsupported: return "UNSUPPORTED";
    case ErrorCode::kResourceExhausted: return "RESOURCE_EXHAUSTED";
    case ErrorCode::kInternal: return "INTERNAL";
    case ErrorCode::kCancelled: return "CANCELLED";
  }
  return "UNKNOWN";
}

void throw_error(ErrorCode code, std::string message) { throw Error(code, message); }

}  // namespace needle

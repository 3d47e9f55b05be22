// ChainAnalyzer: a tokenizer followed by token filters.

#include "analysis_internal.h"

namespace needle::analysis {

void ChainAnalyzer::analyze(std::string_view text, std::vector<Token>& out) const {
  if (text.size() > kMaxAnalyzedBytes) {
    out.clear();
    throw_error(ErrorCode::kInvalidArgument,
                "text of " + std::to_string(text.size()) + " bytes is too long to analyze (max " +
                    std::to_string(kMaxAnalyzedBytes) + ")");
  }
  try {
    TokenSink sink(out);
    tokenizer_->tokenize(text, sink);
    sink.finish();
    for (const auto& f : filters_) {
      if (out.empty()) break;
      f->apply(out);
    }
  } catch (...) {
    out.clear();  // never leave a half-analyzed token list behind
    throw;
  }
}

}  // namespace needle::analysis

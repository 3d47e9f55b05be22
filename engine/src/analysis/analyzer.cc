// ChainAnalyzer: a tokenizer followed by token filters.

#include "analysis_internal.h"

namespace needle::analysis {

bool ChainAnalyzer::analyze_terms(std::string_view text, std::string_view prefix, TermBatch& out) const {
  if (!filters_.empty()) return false;
  if (text.size() > kMaxAnalyzedBytes) {
    throw_error(ErrorCode::kInvalidArgument,
                "text of " + std::to_string(text.size()) + " bytes is too long to analyze (max " +
                    std::to_string(kMaxAnalyzedBytes) + ")");
  }
  return tokenizer_->tokenize_terms(text, prefix, out);
}

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

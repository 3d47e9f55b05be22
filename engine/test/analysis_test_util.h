// Helpers shared by the analysis tests.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "needle/analysis/analyzer.h"

namespace needle::analysis_test {

using Strings = std::vector<std::string>;

// Tokens of `text` through the built-in analyzer `analyzer`.
inline std::vector<Token> run(std::string_view analyzer, std::string_view text) {
  static const AnalyzerRegistry reg = AnalyzerRegistry::with_builtins();
  std::vector<Token> out;
  reg.get(analyzer)->analyze(text, out);
  return out;
}

// Tokens of `text` through a custom analyzer defined by `json`.
inline std::vector<Token> run_custom(std::string_view json, std::string_view text) {
  AnalyzerRegistry reg;
  reg.add_custom("t", json);
  std::vector<Token> out;
  reg.get("t")->analyze(text, out);
  return out;
}

inline Strings texts(const std::vector<Token>& toks) {
  Strings s;
  for (const auto& t : toks) s.push_back(t.text);
  return s;
}

inline std::vector<uint32_t> positions(const std::vector<Token>& toks) {
  std::vector<uint32_t> p;
  for (const auto& t : toks) p.push_back(t.position);
  return p;
}

}  // namespace needle::analysis_test

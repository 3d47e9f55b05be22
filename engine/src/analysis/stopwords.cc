// Built-in stop word lists. Changing a list changes which terms an index holds: only append new
// languages, never edit an existing list.

#include "analysis_internal.h"

namespace needle::analysis {

namespace {

// The classic 33-word English list (articles, conjunctions, common prepositions and pronouns).
const std::vector<std::string>& english() {
  static const std::vector<std::string> words = {
      "a",    "an",    "and",  "are",  "as",   "at",    "be",    "but",  "by",
      "for",  "if",    "in",   "into", "is",   "it",    "no",    "not",  "of",
      "on",   "or",    "such", "that", "the",  "their", "then",  "there", "these",
      "they", "this",  "to",   "was",  "will", "with"};
  return words;
}

}  // namespace

const std::vector<std::string>* builtin_stop_words(std::string_view language) {
  if (language == "english") return &english();
  return nullptr;
}

std::vector<std::string> builtin_stop_languages() { return {"english"}; }

}  // namespace needle::analysis

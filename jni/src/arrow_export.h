// Search results to Arrow record batches (C Data Interface): the stored fields of the hits plus
// _score and _doc. The arrays are produced here and freed by their release callbacks, which the
// consumer (Arrow Java) calls when it is done with the buffers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "arrow_c.h"
#include "needle/schema/document.h"
#include "needle/schema/schema.h"
#include "needle/search/searcher.h"

namespace needle::jni {

inline constexpr const char* kScoreColumn = "_score";  // float32
inline constexpr const char* kDocColumn = "_doc";      // int64: the document's address in the split

struct ExportColumn {
  enum class Source { kScore, kDoc, kField };
  std::string name;
  Source source = Source::kField;
  uint16_t field = 0;
  FieldType type = FieldType::kText;
  bool list = false;  // list<T>: every value; otherwise T and a document may have at most one
};

// Resolves requested columns: `_score`, `_doc` or stored fields. An unknown or unstored field, or
// a column named twice, throws Error(kInvalidArgument) naming it. `lists[i]` asks for column i as
// a list (ignored for _score and _doc); `lists` may be shorter than `names`.
std::vector<ExportColumn> resolve_columns(const Schema& schema, const std::vector<std::string>& names,
                                          const std::vector<bool>& lists);

// The Arrow schema of the batches: a struct whose children are the columns.
void export_batch_schema(const std::vector<ExportColumn>& columns, ArrowSchema* out);

// Accumulates rows and hands them out as one record batch.
class BatchBuilder {
 public:
  explicit BatchBuilder(const std::vector<ExportColumn>& columns);
  ~BatchBuilder();
  // `doc` holds the stored values of the hit (may be null when no field column is requested).
  // A document with several values in a non-list column throws Error(kInvalidArgument).
  void add_row(const Hit& hit, const Document* doc);
  int64_t rows() const { return rows_; }
  // Bytes of variable-length data so far (batches are cut well before 32-bit offsets overflow).
  size_t var_bytes() const;
  // Moves the rows into `out` (a struct array) and starts a new batch.
  void finish(ArrowArray* out);

 private:
  class Values;
  struct ColumnState;
  void reset();
  const std::vector<ExportColumn>& columns_;
  std::vector<std::unique_ptr<ColumnState>> state_;
  int64_t rows_ = 0;
  std::vector<const Value*> scratch_;
};

}  // namespace needle::jni

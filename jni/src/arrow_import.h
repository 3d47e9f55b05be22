// Arrow record batches (C Data Interface) to needle documents.
#pragma once

#include <vector>

#include "arrow_c.h"
#include "needle/schema/document.h"
#include "needle/schema/schema.h"

namespace needle::jni {

struct ArrowImportOptions {
  // A column whose name is no schema field is ignored (as JSON keys are), unless this is set:
  // then it is an Error(kDocument) naming the column.
  bool reject_unknown_columns = false;
};

// Converts every row of a record batch (a struct array, format "+s", whose children are the
// columns) into one document. Columns map to the schema field of the same name; see
// jni/README.md for the accepted Arrow types of each field type. A type that does not fit the
// field, or a value that does not (a negative number for u64, invalid UTF-8, a bad IP address),
// throws Error(kDocument) naming the column (and the row). Does not release the structures.
std::vector<Document> documents_from_arrow(const Schema& schema, const ArrowSchema& arrow_schema,
                                           const ArrowArray& batch, const ArrowImportOptions& options);

// Calls release on both structures (if not yet released) when it goes out of scope: the consumer
// of exported Arrow data must release it, whatever happens.
class ArrowReleaser {
 public:
  ArrowReleaser(ArrowSchema* schema, ArrowArray* array) : schema_(schema), array_(array) {}
  ~ArrowReleaser() {
    if (array_ != nullptr && array_->release != nullptr) array_->release(array_);
    if (schema_ != nullptr && schema_->release != nullptr) schema_->release(schema_);
  }
  ArrowReleaser(const ArrowReleaser&) = delete;
  ArrowReleaser& operator=(const ArrowReleaser&) = delete;

 private:
  ArrowSchema* schema_;
  ArrowArray* array_;
};

}  // namespace needle::jni

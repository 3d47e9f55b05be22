// Private to the schema module: the json walker over a parsed simdjson element, shared by the
// document parser (validation) and JsonFlattener.
#pragma once

#include <simdjson.h>

#include <vector>

#include "needle/schema/json.h"

namespace needle::json_internal {

// Validates `e` (any JSON value) as a value of json field `field` and, when `out` is not null,
// appends its leaves. Throws Error(kDocument) as JsonFlattener::flatten does.
void flatten_element(const FieldEntry& field, simdjson::dom::element e, std::vector<JsonLeaf>* out);

}  // namespace needle::json_internal

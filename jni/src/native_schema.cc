// io.needle.NativeSchema
#include "io_needle_NativeSchema.h"
#include "java_classes.h"
#include "needle/schema/schema.h"

using namespace needle;
using namespace needle::jni;

extern "C" {

JNIEXPORT jstring JNICALL Java_io_needle_NativeSchema_canonicalJson(JNIEnv* env, jclass, jstring json) {
  return guarded(env, jstring{nullptr}, [&] {
    Schema schema = Schema::from_json(to_utf8(env, json, "schema JSON"));
    return to_jstring(env, schema.to_json());
  });
}

JNIEXPORT jobjectArray JNICALL Java_io_needle_NativeSchema_describe(JNIEnv* env, jclass, jstring json) {
  return guarded(env, jobjectArray{nullptr}, [&] {
    Schema schema = Schema::from_json(to_utf8(env, json, "schema JSON"));
    std::vector<std::string> out;
    auto flag = [](bool b) { return std::string(b ? "1" : "0"); };
    for (const FieldEntry& f : schema.fields()) {
      out.push_back(f.name);
      out.push_back(std::string(field_type_name(f.type)));
      out.push_back(flag(f.options.indexed));
      out.push_back(flag(f.options.stored));
      out.push_back(flag(f.options.fast));
      out.push_back(f.options.tokenizer);
      out.push_back(std::string(record_option_name(f.options.record)));
      out.push_back(flag(f.options.fieldnorms));
    }
    return to_jstring_array(env, out);
  });
}

}  // extern "C"

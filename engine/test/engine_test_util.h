// Helpers shared by the engine's end-to-end tests.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "needle/index/index.h"
#include "needle/schema/document.h"
#include "needle/split/split.h"

namespace needle::testing {

// A fresh temporary folder, removed (with its files) when the object goes.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/needle-test-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::string cmd = "rm -rf '" + path_ + "'";
    if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", path_.c_str());
  }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void spit(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  out << data;
}

// Indexes JSON lines into a split at `path`.
inline void build_split(const std::string& schema_json, const std::vector<std::string>& docs,
                        const std::string& path, IndexWriterOptions opts = {}) {
  Schema schema = Schema::from_json(schema_json);
  std::shared_ptr<Directory> dir = new_ram_directory();
  auto w = IndexWriter::create(dir, schema, opts);
  DocumentParser p(schema);
  for (const auto& d : docs) w->add_document(p.parse(d));
  w->commit();
  write_split(*dir, path);
}

}  // namespace needle::testing

// Micro-benchmarks of the engine's hot loops: `make bench-micro`.
#include <benchmark/benchmark.h>

#include <random>

#include "needle/analysis/analyzer.h"
#include "needle/codec/bitpacking.h"
#include "needle/codec/postings.h"

namespace needle {
namespace {

std::vector<uint8_t> packed_block(uint8_t bits) {
  std::mt19937 rng(1);
  std::vector<uint32_t> v(bitpacking::kBlockSize);
  for (auto& x : v) x = bits == 32 ? rng() : rng() & ((1u << bits) - 1);
  std::vector<uint8_t> out(bitpacking::packed_size(bits));
  bitpacking::pack(v.data(), bits, out.data());
  return out;
}

void BM_Unpack(benchmark::State& state) {
  auto bits = static_cast<uint8_t>(state.range(0));
  auto block = packed_block(bits);
  uint32_t out[bitpacking::kBlockSize];
  for (auto _ : state) {
    bitpacking::unpack(block.data(), bits, out);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations() * bitpacking::kBlockSize);
  state.SetLabel(bitpacking::simd_target_name());
}
BENCHMARK(BM_Unpack)->Arg(3)->Arg(9)->Arg(17);

void BM_UnpackScalar(benchmark::State& state) {
  auto bits = static_cast<uint8_t>(state.range(0));
  auto block = packed_block(bits);
  uint32_t out[bitpacking::kBlockSize];
  for (auto _ : state) {
    bitpacking::unpack_scalar(block.data(), bits, out);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations() * bitpacking::kBlockSize);
}
BENCHMARK(BM_UnpackScalar)->Arg(3)->Arg(9)->Arg(17);

struct PostingsFixture {
  std::vector<uint8_t> post, pos;
  TermInfo info;
  PostingsFixture(uint32_t docs, uint32_t gap) {
    ByteWriter pw, qw;
    PostingsSerializer s(IndexRecordOption::kFreq, &pw, &qw);
    s.new_term();
    std::mt19937 rng(2);
    uint32_t d = 0;
    for (uint32_t i = 0; i < docs; ++i) {
      d += 1 + rng() % gap;
      s.write_doc(d, 1 + rng() % 4, {}, static_cast<uint8_t>(rng() % 40));
    }
    info = s.close_term();
    post = pw.take();
  }
};

void BM_PostingsAdvance(benchmark::State& state) {
  PostingsFixture f(1 << 20, 8);
  for (auto _ : state) {
    SegmentPostings p(Bytes::copy_of(f.post), Bytes(), f.info, IndexRecordOption::kFreq);
    uint64_t sum = 0;
    for (uint32_t d = p.doc(); d != kTerminated; d = p.advance()) sum += p.term_freq();
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * (1 << 20));
}
BENCHMARK(BM_PostingsAdvance);

void BM_PostingsSeek(benchmark::State& state) {
  PostingsFixture f(1 << 20, 8);
  const uint32_t stride = static_cast<uint32_t>(state.range(0));
  uint64_t seeks = 0;
  for (auto _ : state) {
    SegmentPostings p(Bytes::copy_of(f.post), Bytes(), f.info, IndexRecordOption::kFreq);
    for (uint32_t t = stride; p.seek(t) != kTerminated; t = p.doc() + stride) ++seeks;
  }
  state.SetItemsProcessed(static_cast<int64_t>(seeks));
}
BENCHMARK(BM_PostingsSeek)->Arg(100)->Arg(5000);

void BM_DefaultTokenizer(benchmark::State& state) {
  std::string text;
  const char* words[] = {"GET", "/index.html", "HTTP/1.1", "200", "Mozilla/5.0", "powershell.exe", "10.0.0.1", "error"};
  std::mt19937 rng(3);
  while (text.size() < (1 << 16)) text += std::string(words[rng() % 8]) + " ";
  auto reg = AnalyzerRegistry::with_builtins();
  auto a = reg.get("default");
  std::vector<Token> tokens;
  for (auto _ : state) {
    a->analyze(text, tokens);
    benchmark::DoNotOptimize(tokens.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_DefaultTokenizer);

}  // namespace
}  // namespace needle

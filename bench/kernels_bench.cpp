// Micro-benchmarks of the matmul kernels: one weight matrix × 1..128 tokens, for each weight
// dtype, with the matrix either cache-resident (2 MiB) or far larger than the caches (256 MiB
// of BF16), so both the compute side and the memory side of a kernel show. Reports weight
// bytes per second and multiply-adds per second.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <random>
#include <utility>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/bandwidth.h"
#include "kernels/kernels.h"
#include "kernels/matmul_table.h"
#include "tensor/dtype.h"

namespace nextn {
namespace {

struct Weights {
  std::vector<std::byte> bytes;
  std::vector<float> scales;
  WeightMatrix matrix;
};

// FP8 scale blocks of block_rows × block_cols (DeepSeek: 128 × 128; one per row: 1 × cols).
Weights make_weights(DType dtype, int64_t rows, int64_t cols, int64_t block_rows = 128,
                     int64_t block_cols = 128) {
  Weights w;
  const size_t n = static_cast<size_t>(rows * cols);
  w.bytes.resize(n * dtype_size(dtype));
  std::mt19937 rng(1);
  if (dtype == DType::kF8E4M3) {
    // As a quantizer writes them: normal weights with 448 at about 4 sigma. (Random bytes
    // would hold far more zero-exponent codes, which take a slower path, than real weights.)
    // 64 Ki quantized samples, drawn from at random (quantizing every weight takes minutes).
    std::normal_distribution<float> normal(0.0f, kFp8E4M3Max / 4.0f);
    std::vector<uint8_t> codes(65536);
    for (auto& code : codes) code = f32_to_fp8_e4m3(normal(rng));
    for (auto& b : w.bytes) b = static_cast<std::byte>(codes[rng() & 0xffff]);
  } else {
    for (auto& b : w.bytes) b = static_cast<std::byte>(rng() & 0x3f);  // finite in every dtype
  }
  w.matrix = WeightMatrix{.dtype = dtype, .rows = rows, .cols = cols, .data = w.bytes.data()};
  if (dtype == DType::kF8E4M3) {
    w.matrix.scale_block_rows = block_rows;
    w.matrix.scale_block_cols = block_cols;
    w.matrix.scale_grid_cols = (cols + block_cols - 1) / block_cols;
    w.scales.assign(
        static_cast<size_t>(((rows + block_rows - 1) / block_rows) * w.matrix.scale_grid_cols),
        0.01f);
    w.matrix.scales = w.scales.data();
  }
  return w;
}

// args: dtype, rows, cols, tokens, threads[, FP8 scales: 1 = one per row]
void BM_Matmul(benchmark::State& state) {
  const auto dtype = static_cast<DType>(state.range(0));
  const int64_t rows = state.range(1);
  const int64_t cols = state.range(2);
  const int64_t tokens = state.range(3);
  ThreadPool pool(static_cast<int>(state.range(4)));
  const bool per_row = state.range(5) == 1;
  // Several copies of a small matrix would stay cached anyway; one large one streams.
  Weights w = per_row ? make_weights(dtype, rows, cols, 1, cols) : make_weights(dtype, rows, cols);
  std::vector<float> x(static_cast<size_t>(tokens * cols), 0.5f);
  std::vector<float> y(static_cast<size_t>(tokens * rows));
  for (auto _ : state) {
    matmul(w.matrix, x.data(), cols, tokens, y.data(), rows, pool);
    benchmark::DoNotOptimize(y.data());
  }
  const double iterations = static_cast<double>(state.iterations());
  state.counters["weight_GB/s"] = benchmark::Counter(
      iterations * static_cast<double>(w.bytes.size()) / 1e9, benchmark::Counter::kIsRate);
  state.counters["GMAC/s"] = benchmark::Counter(
      iterations * static_cast<double>(rows * cols * tokens) / 1e9, benchmark::Counter::kIsRate);
  state.SetLabel(std::string(active_kernels().name));
}

void matmul_args(benchmark::internal::Benchmark* b) {
  for (DType dtype : {DType::kBF16, DType::kF8E4M3, DType::kF32}) {
    const auto d = static_cast<int64_t>(dtype);
    for (int64_t tokens : {1, 2, 4, 9, 32, 128}) {
      b->Args({d, 512, 2048, tokens, 1, 0});  // cache-resident
    }
    for (int64_t tokens : {1, 2, 4, 9}) {
      b->Args({d, 65536, 2048, tokens, 1, 0});  // streamed from memory
      b->Args({d, 65536, 2048, tokens, 2, 0});
    }
  }
  // The default model's shapes (H 256; head 4096 × 256, expert 96 × 256 and 256 × 96), all
  // cache-resident: narrow rows, where the per-output work of a block weighs most.
  for (auto [rows, cols] :
       {std::pair<int64_t, int64_t>{4096, 256}, {256, 256}, {96, 256}, {256, 96}}) {
    for (int64_t tokens : {1, 2, 4}) b->Args({int64_t{1}, rows, cols, tokens, 1, 0});
  }
  // FP8 with one scale per row (compressed-tensors "channel"), 4096 wide: matmul's default
  // grain would be 4-row tasks, each preparing the activations again.
  const auto fp8 = static_cast<int64_t>(DType::kF8E4M3);
  for (int64_t threads : {1, 2}) b->Args({fp8, 1024, 4096, 1, threads, 1});
}

// Distinct rows × cols matrices, 256 MiB of them in all (at least one): more than the caches
// hold, so a pass over them streams from memory.
std::vector<Weights> streamed_matrices(DType dtype, int64_t rows, int64_t cols) {
  const auto bytes_each =
      static_cast<int64_t>(rows * cols * static_cast<int64_t>(dtype_size(dtype)));
  const int64_t count = std::max<int64_t>(1, (int64_t{256} << 20) / bytes_each);
  std::vector<Weights> matrices;
  matrices.reserve(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) matrices.push_back(make_weights(dtype, rows, cols));
  return matrices;
}

void set_weight_rate(benchmark::State& state, size_t bytes_per_iteration) {
  state.counters["weight_GB/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * static_cast<double>(bytes_per_iteration) / 1e9,
      benchmark::Counter::kIsRate);
}

// A decode or verify pass's shape of work: distinct matrices of rows × cols, 256 MiB in all,
// one after the other, each over the same `tokens` rows of activations (args: dtype, rows,
// cols, tokens, threads). Against one long matrix it shows what short matrices cost in
// streaming; two tokens against one, what a verify's matrices cost against a decode's; two
// threads, what splitting each matrix over them costs (compare BM_PlainRead with as many).
void BM_MatmulSequence(benchmark::State& state) {
  const auto dtype = static_cast<DType>(state.range(0));
  const int64_t rows = state.range(1);
  const int64_t cols = state.range(2);
  const int64_t tokens = state.range(3);
  const std::vector<Weights> matrices = streamed_matrices(dtype, rows, cols);
  ThreadPool pool(static_cast<int>(state.range(4)));
  std::vector<float> x(static_cast<size_t>(tokens * cols), 0.5f);
  std::vector<float> y(static_cast<size_t>(tokens * rows));
  for (auto _ : state) {
    for (const Weights& w : matrices) {
      matmul(w.matrix, x.data(), cols, tokens, y.data(), rows, pool);
    }
    benchmark::DoNotOptimize(y.data());
  }
  set_weight_rate(state, matrices.size() * matrices[0].bytes.size());
}

// MLA's absorbed W_UK: per head, `rows` consecutive rows of kv_b_proj combined into one latent
// vector per token (combine_rows), heads one after the other as a one-thread pass runs them
// (args: dtype, heads, rows per head, cols, tokens, streamed). Streamed: over 256 MiB of
// kv_b_proj-shaped matrices, so the rows come from memory; otherwise one matrix, from the
// caches, for the compute side (a verify's or a prefill's tokens). Each head's W_UV rows lie
// between its W_UK rows and the next head's, as in kv_b_proj, and are not read.
void BM_CombineRowsSequence(benchmark::State& state) {
  const auto dtype = static_cast<DType>(state.range(0));
  const int64_t heads = state.range(1);
  const int64_t rows = state.range(2);
  const int64_t cols = state.range(3);
  const int64_t tokens = state.range(4);
  const bool streamed = state.range(5) == 1;
  std::vector<Weights> matrices;
  if (streamed) {
    matrices = streamed_matrices(dtype, heads * 2 * rows, cols);
  } else {
    matrices.push_back(make_weights(dtype, heads * 2 * rows, cols));
  }
  // Per token and head a query of `rows` coefficients, laid out [token, head, rows] as MLA's.
  std::vector<float> coefficients(static_cast<size_t>(tokens * heads * rows), 0.5f);
  std::vector<float> y(static_cast<size_t>(tokens * heads * cols));
  std::vector<float> scratch(matmul_scratch_floats(cols));
  for (auto _ : state) {
    for (const Weights& w : matrices) {
      for (int64_t h = 0; h < heads; ++h) {
        combine_rows(w.matrix, h * 2 * rows, rows, coefficients.data() + h * rows, heads * rows,
                     tokens, y.data() + h * cols, heads * cols, scratch.data());
      }
    }
    benchmark::DoNotOptimize(y.data());
  }
  set_weight_rate(state, matrices.size() * matrices[0].bytes.size() / 2);  // the W_UK half
  state.counters["GMAC/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * tokens) *
                             static_cast<double>(matrices.size() * heads * rows * cols) / 1e9,
                         benchmark::Counter::kIsRate);
}

// MLA's attention of one token in the absorbed form, as a one-thread pass's task runs it: a block
// of `heads` queries of 576 values (latent 512 | rope 64) against `positions` cache rows of the
// same width (keys: all 576; values: the latent 512), with softmax (args: heads, positions).
// Bound by multiply-adds, not memory: the cache rows of a layer stay in L2 up to about 400
// positions. Reports multiply-adds per second, against the FMA peak.
void BM_AttendMla(benchmark::State& state) {
  const int64_t heads = state.range(0);
  const int64_t positions = state.range(1);
  constexpr int64_t kWidth = 576;
  constexpr int64_t kLatent = 512;
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> q(static_cast<size_t>(heads * kWidth));
  std::vector<float> cache(static_cast<size_t>(positions * kWidth));
  for (float& v : q) v = uniform(rng);
  for (float& v : cache) v = uniform(rng);
  std::vector<float> scratch(attend_scratch_floats(heads, kLatent));
  std::vector<float> out(static_cast<size_t>(heads * kLatent));
  for (auto _ : state) {
    attend(q.data(), kWidth, heads, cache.data(), kWidth, kWidth, cache.data(), kWidth, kLatent,
           positions, 0.07f, scratch.data(), out.data(), kLatent);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["GMAC/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) *
                             static_cast<double>(heads * positions * (kWidth + kLatent)) / 1e9,
                         benchmark::Counter::kIsRate);
}

// nextn bench's bandwidth probe (measure_read_bandwidth: the best of five plain passes over
// 256 MiB; arg: threads), to compare the streamed matmuls above with in the same run.
void BM_PlainRead(benchmark::State& state) {
  ThreadPool pool(static_cast<int>(state.range(0)));
  double best = 0;
  for (auto _ : state) best = std::max(best, measure_read_bandwidth(pool, size_t{256} << 20));
  state.counters["GB/s"] = best / 1e9;
}

// One long matrix, then the matrices of a decode pass of the bench DeepSeek checkpoint
// (tools/bench/make_bench_models.sh): experts' gate / up and down, q_a, q_b, kv_a, o_proj, head.
void sequence_args(benchmark::internal::Benchmark* b) {
  const std::array<std::array<int64_t, 2>, 8> shapes = {{{65536, 2048},
                                                         {512, 2048},
                                                         {2048, 512},
                                                         {768, 2048},
                                                         {3072, 768},
                                                         {576, 2048},
                                                         {2048, 2048},
                                                         {32768, 2048}}};
  for (const int64_t dtype : {int64_t{1}, int64_t{3}}) {
    for (const auto& [rows, cols] : shapes) b->Args({dtype, rows, cols, 1, 1});
    // A verify's experts chosen by two of its tokens, and the long matrix for scale.
    for (const auto& [rows, cols] : {shapes[0], shapes[1], shapes[2]}) {
      b->Args({dtype, rows, cols, 2, 1});
    }
  }
  // The matrices every row of a pass meets (attention's, the head), split over two threads
  // as a two-thread pass runs them, for one token and for a two-token verify.
  for (const int64_t tokens : {1, 2}) {
    for (const auto& [rows, cols] : {shapes[0], shapes[3], shapes[4], shapes[5], shapes[6]}) {
      b->Args({1, rows, cols, tokens, 2});
    }
  }
}

BENCHMARK(BM_MatmulSequence)
    ->Apply(sequence_args)
    ->ArgNames({"dtype", "rows", "cols", "tokens", "threads"})
    ->UseRealTime();
BENCHMARK(BM_CombineRowsSequence)
    ->Apply([](benchmark::internal::Benchmark* b) {
      for (const int64_t dtype : {int64_t{1}, int64_t{3}}) {
        b->Args({dtype, 16, 128, 512, 1, 1});  // a decode's W_UK
        b->Args({dtype, 16, 128, 512, 4, 1});  // a verify's
        for (const int64_t tokens : {1, 4, 128}) b->Args({dtype, 16, 128, 512, tokens, 0});
      }
    })
    ->ArgNames({"dtype", "heads", "rows", "cols", "tokens", "streamed"})
    ->UseRealTime();
BENCHMARK(BM_AttendMla)
    ->ArgsProduct({{8, 16}, {160, 1024, 4096}})
    ->ArgNames({"heads", "positions"})
    ->UseRealTime();
BENCHMARK(BM_PlainRead)->Arg(1)->Arg(2)->ArgName("threads")->Iterations(1)->UseRealTime();

BENCHMARK(BM_Matmul)
    ->Apply(matmul_args)
    ->ArgNames({"dtype", "rows", "cols", "tokens", "threads", "per_row_scales"})
    ->UseRealTime();

}  // namespace
}  // namespace nextn

BENCHMARK_MAIN();

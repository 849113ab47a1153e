// `nextn bench`: the speed of a model on this machine, against this machine's measured memory
// bandwidth: prefill, decode at K = 0, the cost of verifying k + 1 tokens, the MTP step, and
// the weight bytes and distinct experts each pass reads.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/bandwidth.h"
#include "kernels/matmul_table.h"
#include "model/loaded_model.h"
#include "model/target_model.h"
#include "mtp/mtp_model.h"

namespace nextn::cli {
namespace {

struct BenchArgs {
  std::string model;
  int threads = 0;
  int64_t prompt = 128;
  int64_t decode = 32;
  int64_t repeats = 5;
  int64_t max_verify = 8;
  bool json = false;
};

using Clock = std::chrono::steady_clock;

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

struct Pass {
  double seconds = 0;
  WeightTraffic traffic;
  // The median over repeats of time × the bandwidth probed just before / bytes read.
  double adjacent_bandwidth_time_ratio = 0;
};

// The bandwidth is probed again before every kProbeEvery decode steps and before every timed
// verify pass (the best of kProbePasses reads of kProbeBytes), so that each step is compared
// with what the machine gave at that moment as well as with the best figure of the run.
constexpr int64_t kProbeEvery = 8;
constexpr int kProbePasses = 2;
constexpr size_t kProbeBytes = size_t{256} << 20;

int run_bench(const BenchArgs& args) {
  const auto model = LoadedModel::open(args.model);
  const ModelConfig& config = model->config;
  ThreadPool pool(args.threads);
  const double bandwidth = measure_read_bandwidth(pool, size_t{1} << 30);
  ReadProbe probe(pool, kProbeBytes);
  const double fma_peak = measure_fma_peak(pool);
  TargetModel target(config, *model->bound, pool);
  const int64_t capacity = args.prompt + args.decode + args.repeats * (args.max_verify + 1) + 16;
  KvCache kv = target.make_cache(capacity);
  const int64_t V = config.vocab_size;
  std::vector<float> logits(static_cast<size_t>((args.max_verify + 1) * V));
  std::vector<float> hidden(
      static_cast<size_t>(std::max(args.prompt, args.max_verify + 1) * config.hidden_size));
  std::vector<int32_t> prompt(static_cast<size_t>(args.prompt));
  for (int64_t i = 0; i < args.prompt; ++i) prompt[i] = static_cast<int32_t>((i * 7919 + 13) % V);

  // Prefill: the median of `repeats` timed passes after an untimed one (which faults the mapped
  // weights in). A single timed pass was seen to take 4x its usual time now and then on this
  // shared machine.
  target.forward(prompt, kv, nullptr, nullptr);
  std::vector<double> prefill_times;
  auto start = Clock::now();
  for (int64_t r = 0; r < args.repeats; ++r) {
    kv.truncate(0);
    start = Clock::now();
    target.forward(prompt, kv, logits.data(), hidden.data(), true);
    prefill_times.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  }
  const double prefill_seconds = median(prefill_times);
  const auto prefill_macs = static_cast<double>(target.last_traffic().multiply_adds);

  // A pass of n tokens at the end of the context, then rolled back: median of repeats. The
  // probe before each timed pass evicts the caches, so the same pass runs once untimed first:
  // a model that fits the caches is then timed from them, as generation runs it (measured
  // cold, the default model's 2-token pass cost 1.2 one-token passes instead of generation's
  // 1.5, and its MTP step, timed warm, 0.2 of that cold pass instead of about 0.5 of a warm
  // one); a larger one reads memory anyway.
  auto pass = [&](int64_t n) {
    std::vector<double> times;
    std::vector<double> adjacent_ratios;
    Pass result;
    std::vector<int32_t> tokens(static_cast<size_t>(n));
    for (int64_t r = 0; r < args.repeats; ++r) {
      for (int64_t i = 0; i < n; ++i) tokens[i] = static_cast<int32_t>((r * 31 + i * 17 + 5) % V);
      const int64_t before = kv.size();
      const double now_bandwidth = probe.best_of(kProbePasses);
      target.forward(tokens, kv, logits.data(), hidden.data());
      kv.truncate(before);
      start = Clock::now();
      target.forward(tokens, kv, logits.data(), hidden.data());
      times.push_back(std::chrono::duration<double>(Clock::now() - start).count());
      result.traffic = target.last_traffic();
      const auto bytes = static_cast<double>(result.traffic.bytes + result.traffic.kv_bytes);
      adjacent_ratios.push_back(times.back() * now_bandwidth / bytes);
      kv.truncate(before);
    }
    result.seconds = median(times);
    result.adjacent_bandwidth_time_ratio = median(adjacent_ratios);
    return result;
  };
  // Decode: one token at a time, growing the context.
  std::vector<double> decode_times;
  WeightTraffic decode_traffic;
  uint64_t decode_bytes = 0;
  uint64_t decode_kv_bytes = 0;
  // Per group of kProbeEvery steps: its bytes per second against the probe just before it.
  std::vector<double> segment_fractions;
  std::vector<double> segment_probes;
  double segment_bytes = 0;
  double segment_seconds = 0;
  for (int64_t i = 0; i < args.decode; ++i) {
    if (i % kProbeEvery == 0) segment_probes.push_back(probe.best_of(kProbePasses));
    const int32_t token = static_cast<int32_t>((i * 101 + 7) % V);
    start = Clock::now();
    target.forward(std::span(&token, 1), kv, logits.data(), nullptr);
    decode_times.push_back(std::chrono::duration<double>(Clock::now() - start).count());
    decode_bytes += target.last_traffic().bytes;
    decode_kv_bytes += target.last_traffic().kv_bytes;
    decode_traffic = target.last_traffic();
    segment_bytes += static_cast<double>(decode_traffic.bytes + decode_traffic.kv_bytes);
    segment_seconds += decode_times.back();
    if ((i + 1) % kProbeEvery == 0 || i + 1 == args.decode) {
      segment_fractions.push_back(segment_bytes / segment_seconds / segment_probes.back());
      segment_bytes = 0;
      segment_seconds = 0;
    }
  }
  const double decode_step = median(decode_times);
  const double decode_bytes_per_step =
      static_cast<double>(decode_bytes) / static_cast<double>(args.decode);
  const double decode_kv_per_step =
      static_cast<double>(decode_kv_bytes) / static_cast<double>(args.decode);
  const Pass one = pass(1);
  nlohmann::ordered_json verify = nlohmann::ordered_json::array();
  for (int64_t k = 1; k <= args.max_verify; ++k) {
    const Pass p = pass(k + 1);
    // The time the pass's distinct bytes (weights of the experts chosen, KV rows) take at
    // the measured bandwidth.
    const double ideal = static_cast<double>(p.traffic.bytes + p.traffic.kv_bytes) / bandwidth;
    verify.push_back({{"drafts", k},
                      {"tokens", k + 1},
                      {"seconds", p.seconds},
                      {"relative_to_one_token", p.seconds / one.seconds},
                      {"weight_bytes", p.traffic.bytes},
                      {"kv_bytes", p.traffic.kv_bytes},
                      {"distinct_experts", p.traffic.experts_run},
                      {"bandwidth_time_ratio", p.seconds / ideal},
                      {"adjacent_bandwidth_time_ratio", p.adjacent_bandwidth_time_ratio}});
  }
  nlohmann::ordered_json mtp_json;
  if (config.num_nextn_predict_layers > 0) {
    MtpModel mtp(config, *model->bound, pool);
    KvCache mtp_kv = mtp.make_cache(capacity);
    mtp.forward(0, 0, hidden.data(), std::span(prompt).subspan(1, args.prompt - 1), mtp_kv, nullptr,
                nullptr);
    std::vector<double> times;
    for (int64_t r = 0; r < args.repeats; ++r) {
      const int32_t token = static_cast<int32_t>(r % V);
      start = Clock::now();
      mtp.forward(0, mtp_kv.size(), hidden.data(), std::span(&token, 1), mtp_kv, logits.data(),
                  nullptr);
      times.push_back(std::chrono::duration<double>(Clock::now() - start).count());
      mtp_kv.truncate(mtp_kv.size() - 1);
    }
    mtp_json = {{"seconds", median(times)},
                {"relative_to_one_token", median(times) / one.seconds},
                {"weight_bytes", mtp.last_traffic().bytes}};
  }

  const double achieved = (decode_bytes_per_step + decode_kv_per_step) / decode_step;
  const double prefill_mac_rate = prefill_macs / prefill_seconds;
  nlohmann::ordered_json out;
  out["model"] = args.model;
  out["threads"] = pool.size();
  out["kernels"] = std::string(active_kernels().name);
  out["memory_bandwidth_gb_per_s"] = bandwidth / 1e9;
  out["fma_peak_gmac_per_s"] = fma_peak / 1e9;
  out["prefill"] = {{"tokens", args.prompt},
                    {"tokens_per_second", static_cast<double>(args.prompt) / prefill_seconds},
                    {"gmac_per_s", prefill_mac_rate / 1e9},
                    {"fraction_of_fma_peak", prefill_mac_rate / fma_peak}};
  out["decode"] = {{"tokens_per_second", 1.0 / decode_step},
                   {"weight_bytes_per_token", decode_bytes_per_step},
                   {"kv_bytes_per_token", decode_kv_per_step},
                   {"distinct_experts_per_token", decode_traffic.experts_run},
                   {"achieved_gb_per_s", achieved / 1e9},
                   {"fraction_of_bandwidth", achieved / bandwidth},
                   {"adjacent_bandwidth_gb_per_s", median(segment_probes) / 1e9},
                   {"fraction_of_adjacent_bandwidth", median(segment_fractions)}};
  out["verify"] = verify;
  out["mtp_step"] = mtp_json;
  if (args.json) {
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("model          %s (%d threads, %s kernels)\n", args.model.c_str(), pool.size(),
              std::string(active_kernels().name).c_str());
  std::printf("memory         %.1f GB/s measured read bandwidth\n", bandwidth / 1e9);
  std::printf("compute        %.1f GMAC/s measured fp32 multiply-add peak\n", fma_peak / 1e9);
  std::printf("prefill        %.1f tokens/s over %lld tokens, %.1f GMAC/s = %.0f%% of the peak\n",
              static_cast<double>(args.prompt) / prefill_seconds,
              static_cast<long long>(args.prompt), prefill_mac_rate / 1e9,
              100.0 * prefill_mac_rate / fma_peak);
  std::printf(
      "decode (K=0)   %.1f tokens/s, %.1f MB of weights + %.2f MB of KV per token, %lld "
      "experts, %.1f GB/s = %.0f%% of measured bandwidth (%.0f%% of the %.1f GB/s probed "
      "between its steps)\n",
      1.0 / decode_step, decode_bytes_per_step / 1e6, decode_kv_per_step / 1e6,
      static_cast<long long>(decode_traffic.experts_run), achieved / 1e9,
      100.0 * achieved / bandwidth, 100.0 * median(segment_fractions),
      median(segment_probes) / 1e9);
  std::printf(
      "verify         k  tokens  time/1-token  MB read  experts  time/bandwidth-time  (probed "
      "beside it)\n");
  for (const auto& v : verify) {
    std::printf("               %-2lld %-7lld %-13.2f %-8.1f %-8lld %-20.2f %.2f\n",
                static_cast<long long>(v["drafts"]), static_cast<long long>(v["tokens"]),
                v["relative_to_one_token"].get<double>(), v["weight_bytes"].get<double>() / 1e6,
                static_cast<long long>(v["distinct_experts"]),
                v["bandwidth_time_ratio"].get<double>(),
                v["adjacent_bandwidth_time_ratio"].get<double>());
  }
  if (!mtp_json.is_null()) {
    std::printf("MTP step       %.2f × a one-token target step, %.1f MB read\n",
                mtp_json["relative_to_one_token"].get<double>(),
                mtp_json["weight_bytes"].get<double>() / 1e6);
  }
  return 0;
}

}  // namespace

Action add_bench_command(CLI::App& app) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* cmd = app.add_subcommand("bench",
                                     "Measure prefill, decode, verify and MTP costs "
                                     "against this machine's memory bandwidth");
  cmd->add_option("--model", args->model, "Checkpoint directory")->required();
  cmd->add_option("--threads", args->threads, "Threads (default: one per core)")
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--prompt", args->prompt, "Prefill length")
      ->check(CLI::Range(int64_t{2}, int64_t{65536}));
  cmd->add_option("--decode", args->decode, "Decode steps measured")
      ->check(CLI::Range(int64_t{1}, int64_t{4096}));
  cmd->add_option("--repeats", args->repeats,
                  "Timed repeats of the prefill and of each verify size (median)")
      ->check(CLI::Range(int64_t{1}, int64_t{1000}));
  cmd->add_option("--max-verify", args->max_verify, "Largest k of a verify of k+1 tokens")
      ->check(CLI::Range(int64_t{1}, int64_t{16}));
  cmd->add_flag("--json", args->json, "Print one JSON object");
  return [args]() { return run_bench(*args); };
}

}  // namespace nextn::cli

// /metrics in the Prometheus text format 0.0.4. The server's own counters (HTTP requests by
// endpoint and status, a latency histogram) are kept here; the engine's (tokens, running and
// waiting requests, speculative decoding) come from Engine::metrics() at scrape time.
//
// Names (counters end in _total, as Prometheus clients expose them; the speculative ones have
// vLLM's names and meanings under the nextn: prefix):
//   nextn:http_requests_total{endpoint, status}          counter
//   nextn:e2e_request_latency_seconds{endpoint}          histogram (generation requests)
//   nextn:prompt_tokens_total, nextn:generation_tokens_total                 counters
//   nextn:request_success_total, nextn:request_cancelled_total               counters
//   nextn:num_requests_running, nextn:num_requests_waiting                   gauges
//   nextn:spec_decode_num_drafts_total, nextn:spec_decode_num_draft_tokens_total,
//   nextn:spec_decode_num_accepted_tokens_total                              counters
//   nextn:spec_decode_num_accepted_tokens_per_pos_total{position="i"}        counter
//   nextn:engine_steps_total (batched target passes), nextn:kv_tokens_reserved (gauge)
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "engine/engine.h"

namespace nextn::server {

class ServerMetrics {
 public:
  static constexpr std::array<double, 14> kLatencyBuckets = {
      0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 80.0, 160.0};

  void record_request(const std::string& endpoint, int status);
  void record_latency(const std::string& endpoint, double seconds);

  // The whole exposition: these counters followed by the engine's.
  std::string render(const EngineMetrics& engine) const;

 private:
  struct Histogram {
    std::array<int64_t, kLatencyBuckets.size()> buckets{};  // not cumulative
    int64_t count = 0;
    double sum = 0.0;
  };
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, int64_t> requests_;
  std::map<std::string, Histogram> latency_;
};

// Escapes a label value for the text format (backslash, quote, newline).
std::string escape_label(const std::string& value);

}  // namespace nextn::server

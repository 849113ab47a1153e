#include "server/metrics.h"

#include <fmt/format.h>

namespace nextn::server {
namespace {

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void sample(std::string& out, const char* name, int64_t value) {
  out += fmt::format("{} {}\n", name, value);
}

void metric(std::string& out, const char* name, const char* type, const char* help, int64_t value) {
  header(out, name, type, help);
  sample(out, name, value);
}

}  // namespace

std::string escape_label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void ServerMetrics::record_request(const std::string& endpoint, int status) {
  std::lock_guard lock(mutex_);
  ++requests_[{endpoint, status}];
}

void ServerMetrics::record_latency(const std::string& endpoint, double seconds) {
  std::lock_guard lock(mutex_);
  Histogram& h = latency_[endpoint];
  for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
    if (seconds <= kLatencyBuckets[i]) {
      ++h.buckets[i];
      break;
    }
  }
  ++h.count;
  h.sum += seconds;
}

std::string ServerMetrics::render(const EngineMetrics& engine) const {
  std::string out;
  {
    std::lock_guard lock(mutex_);
    header(out, "nextn:http_requests_total", "counter",
           "HTTP requests answered, by endpoint and status.");
    for (const auto& [key, count] : requests_) {
      out += fmt::format("nextn:http_requests_total{{endpoint=\"{}\",status=\"{}\"}} {}\n",
                         escape_label(key.first), key.second, count);
    }
    header(out, "nextn:e2e_request_latency_seconds", "histogram",
           "Seconds from receiving a generation request to its last byte.");
    for (const auto& [endpoint, h] : latency_) {
      const std::string label = escape_label(endpoint);
      int64_t cumulative = 0;
      for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
        cumulative += h.buckets[i];
        out += fmt::format(
            "nextn:e2e_request_latency_seconds_bucket{{endpoint=\"{}\",le=\"{}\"}} {}\n", label,
            kLatencyBuckets[i], cumulative);
      }
      out += fmt::format(
          "nextn:e2e_request_latency_seconds_bucket{{endpoint=\"{}\",le=\"+Inf\"}} {}\n", label,
          h.count);
      out += fmt::format("nextn:e2e_request_latency_seconds_sum{{endpoint=\"{}\"}} {}\n", label,
                         h.sum);
      out += fmt::format("nextn:e2e_request_latency_seconds_count{{endpoint=\"{}\"}} {}\n", label,
                         h.count);
    }
  }
  metric(out, "nextn:prompt_tokens_total", "counter", "Prompt tokens of admitted requests.",
         engine.prompt_tokens);
  metric(out, "nextn:generation_tokens_total", "counter", "Tokens generated.",
         engine.generation_tokens);
  metric(out, "nextn:request_success_total", "counter", "Requests that finished.",
         engine.requests_finished);
  metric(out, "nextn:request_cancelled_total", "counter",
         "Requests cancelled (client gone, shutdown).", engine.requests_cancelled);
  metric(out, "nextn:num_requests_running", "gauge", "Requests in the running batch.",
         engine.requests_running);
  metric(out, "nextn:num_requests_waiting", "gauge", "Requests waiting for a batch slot.",
         engine.requests_waiting);
  metric(out, "nextn:spec_decode_num_drafts_total", "counter",
         "Verification steps that carried drafted tokens.", engine.spec_drafts);
  metric(out, "nextn:spec_decode_num_draft_tokens_total", "counter",
         "Tokens drafted by the MTP layers.", engine.spec_draft_tokens);
  metric(out, "nextn:spec_decode_num_accepted_tokens_total", "counter", "Drafted tokens accepted.",
         engine.spec_accepted_tokens);
  header(out, "nextn:spec_decode_num_accepted_tokens_per_pos_total", "counter",
         "Drafts whose tokens up to and including this position were accepted.");
  for (size_t i = 0; i < engine.spec_accepted_per_position.size(); ++i) {
    out +=
        fmt::format("nextn:spec_decode_num_accepted_tokens_per_pos_total{{position=\"{}\"}} {}\n",
                    i, engine.spec_accepted_per_position[i]);
  }
  metric(out, "nextn:engine_steps_total", "counter", "Batched target passes.", engine.steps);
  metric(out, "nextn:kv_tokens_reserved", "gauge", "KV cache tokens reserved by admitted requests.",
         engine.kv_tokens_reserved);
  return out;
}

}  // namespace nextn::server

#include "model/target_model.h"

#include "core/error.h"
#include "kernels/kernels.h"
#include "model/attention.h"
#include "model/batch_rows.h"
#include "model/decoder_layer.h"

namespace nextn {

void check_token(int64_t token, const ModelConfig& config) {
  if (token < 0 || token >= config.vocab_size) {
    fail("token id {} is out of range: the vocabulary has {} tokens (0..{})", token,
         config.vocab_size, config.vocab_size - 1);
  }
}

TargetModel::TargetModel(const ModelConfig& config, const ModelWeights& weights, ThreadPool& pool,
                         ForwardOptions options)
    : config_(config), weights_(weights), pool_(pool), rope_(config), options_(options) {
  if (weights.layers.size() != static_cast<size_t>(config.num_hidden_layers)) {
    fail("the target model's weights are not loaded (load mode mtp-only?)");
  }
  pool.reserve_scratch(ThreadPool::Scratch::kRow, matmul_scratch_floats(weights.max_cols));
  reserve_kernel_buffers(pool, weights.max_cols, 1);  // a decode step's, on every thread
}

KvCache TargetModel::make_cache(int64_t capacity) const {
  reserve_attention_scratch(config_, pool_);
  return KvCache(config_.num_hidden_layers, capacity, kv_cache_width(config_));
}

void TargetModel::forward(std::span<const int32_t> tokens, KvCache& kv, float* logits,
                          float* hidden, bool last_row_logits) {
  const SequenceInput one[] = {{.tokens = tokens, .kv = &kv, .all_logits = !last_row_logits}};
  forward(one, logits, hidden);
}

void TargetModel::forward(std::span<const SequenceInput> batch, float* logits, float* hidden) {
  const int64_t H = config_.hidden_size;
  // A target row's position is its cache slot.
  place_batch_rows(
      batch, config_, "target", [](const SequenceInput& seq) { return seq.kv->size(); }, rows_,
      logit_rows_);
  const auto T = static_cast<int64_t>(rows_.size());
  arena_.reset();
  const ForwardContext ctx{.config = config_,
                           .rope = rope_,
                           .softmax_scale = attention_softmax_scale(config_),
                           .pool = pool_,
                           .arena = arena_,
                           .options = options_,
                           .traffic = &traffic_};
  traffic_ = WeightTraffic{};
  float* x = arena_.take(T * H);  // [T, H] residual stream
  int64_t row = 0;
  for (const SequenceInput& seq : batch) {
    for (int32_t token : seq.tokens) decode_row(weights_.embed_tokens, token, x + row++ * H);
  }
  traffic_.bytes += static_cast<uint64_t>(T * H) * dtype_size(weights_.embed_tokens.dtype);
  for (int64_t layer = 0; layer < config_.num_hidden_layers; ++layer) {
    decoder_layer(weights_.layers[layer], ctx,
                  {.hidden = x, .tokens = T, .rows = rows_.data(), .cache_layer = layer});
  }
  for (const SequenceInput& seq : batch) seq.kv->commit(static_cast<int64_t>(seq.tokens.size()));
  rms_norm(x, weights_.norm.data(), T, H, H, static_cast<float>(config_.rms_norm_eps), x);
  if (hidden != nullptr) std::copy(x, x + T * H, hidden);
  if (logits == nullptr) return;
  project_rows(ctx, weights_.lm_head, x, H, logit_rows_, logits, config_.vocab_size);
}

}  // namespace nextn

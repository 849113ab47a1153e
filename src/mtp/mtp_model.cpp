#include "mtp/mtp_model.h"

#include "core/error.h"
#include "kernels/kernels.h"
#include "model/attention.h"
#include "model/batch_rows.h"
#include "model/decoder_layer.h"
#include "model/target_model.h"

namespace nextn {

MtpModel::MtpModel(const ModelConfig& config, const ModelWeights& weights, ThreadPool& pool,
                   MtpOptions options, ForwardOptions forward_options)
    : config_(config),
      weights_(weights),
      pool_(pool),
      rope_(config),
      options_(options),
      forward_options_(forward_options) {
  if (config.num_nextn_predict_layers == 0) {
    fail("config.json: num_nextn_predict_layers is 0: this checkpoint has no MTP layer");
  }
  if (weights.mtp_layers.size() != static_cast<size_t>(config.num_nextn_predict_layers)) {
    fail("the MTP layers' weights are not loaded (load mode target-only?)");
  }
  pool.reserve_scratch(ThreadPool::Scratch::kRow, matmul_scratch_floats(weights.max_cols));
  reserve_kernel_buffers(pool, weights.max_cols, 1);  // a decode step's, on every thread
}

KvCache MtpModel::make_cache(int64_t capacity) const {
  reserve_attention_scratch(config_, pool_);
  return KvCache(1, capacity, kv_cache_width(config_));
}

void MtpModel::forward(int64_t k, int64_t position, const float* hidden,
                       std::span<const int32_t> tokens, KvCache& kv, float* logits, float* recycled,
                       bool last_row_logits) {
  const MtpSequenceInput one[] = {{.position = position,
                                   .hidden = hidden,
                                   .tokens = tokens,
                                   .kv = &kv,
                                   .all_logits = !last_row_logits}};
  forward(k, one, logits, recycled);
}

void MtpModel::forward(int64_t k, std::span<const MtpSequenceInput> batch, float* logits,
                       float* recycled) {
  if (k < 0 || k >= layers()) fail("MTP layer {} does not exist (D = {})", k, layers());
  const MtpLayerWeights& w = weights_.mtp_layers[k];
  const int64_t H = config_.hidden_size;
  const float eps = static_cast<float>(config_.rms_norm_eps);
  place_batch_rows(
      batch, config_, "MTP", [](const MtpSequenceInput& seq) { return seq.position; }, rows_,
      logit_rows_);
  const auto T = static_cast<int64_t>(rows_.size());
  arena_.reset();
  const ForwardContext ctx{.config = config_,
                           .rope = rope_,
                           .softmax_scale = attention_softmax_scale(config_),
                           .pool = pool_,
                           .arena = arena_,
                           .options = forward_options_,
                           .traffic = &traffic_};
  traffic_ = WeightTraffic{};
  // [enorm(e) ; hnorm(h)] per row: embedding first (columns 0..H−1 of eh_proj).
  float* joined = arena_.take(T * 2 * H);
  int64_t row = 0;
  for (const MtpSequenceInput& seq : batch) {
    for (size_t t = 0; t < seq.tokens.size(); ++t, ++row) {
      float* e = joined + row * 2 * H;
      if (options_.pos0_mask && rows_[row].position == 0) {
        std::fill(e, e + H, 0.0f);  // RMSNorm of zeros is zeros
      } else {
        decode_row(*weights_.mtp_embed_tokens, seq.tokens[t], e);
        rms_norm(e, w.enorm.data(), 1, H, H, eps, e);
      }
      rms_norm(seq.hidden + static_cast<int64_t>(t) * H, w.hnorm.data(), 1, H, H, eps, e + H);
    }
  }
  float* x = arena_.take(T * H);
  project(ctx, w.eh_proj, joined, 2 * H, T, x, H);
  decoder_layer(w.block, ctx, {.hidden = x, .tokens = T, .rows = rows_.data(), .cache_layer = 0});
  for (const MtpSequenceInput& seq : batch) seq.kv->commit(static_cast<int64_t>(seq.tokens.size()));
  float* normed = arena_.take(T * H);
  rms_norm(x, w.shared_head_norm.data(), T, H, H, eps, normed);
  if (recycled != nullptr) {
    const float* source = options_.recycle == MtpRecycle::kPostNorm ? normed : x;
    std::copy(source, source + T * H, recycled);
  }
  if (logits == nullptr) return;
  project_rows(ctx, w.head, normed, H, logit_rows_, logits, config_.vocab_size);
}

}  // namespace nextn

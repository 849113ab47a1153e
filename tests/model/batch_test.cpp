// Several sequences in one pass (continuous batching): every row's logits, hidden state and
// cache entries are exactly those of a pass of its own sequence alone, for the target and the
// MTP layers, with sequences at different lengths and only-last-row logits mixed in.
#include <span>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/kernels.h"
#include "model/loaded_model.h"
#include "model/target_model.h"
#include "mtp/mtp_model.h"
#include "test_util.h"
#include "tiny/tiny_checkpoint.h"

namespace nextn {
namespace {

struct Model {
  testing::ScratchDir dir;
  std::unique_ptr<LoadedModel> loaded;
  ThreadPool pool{2};
  explicit Model(const TinyOptions& options) {
    write_tiny_checkpoint(dir.path(), options);
    loaded = LoadedModel::open(dir.path());
  }
  const ModelConfig& config() const { return loaded->config; }
};

const std::vector<std::vector<int32_t>> kPrompts = {
    {5, 17, 200, 3}, {9}, {42, 7, 128, 255, 0, 61, 8}};
const std::vector<std::vector<int32_t>> kNext = {{11, 12, 13}, {14}, {15, 16}};

class Batch : public ::testing::TestWithParam<TinyOptions> {};

void check_target_batch(Model& m, ForwardOptions options) {
  const int64_t V = m.config().vocab_size;
  const int64_t H = m.config().hidden_size;
  TargetModel target(m.config(), *m.loaded->bound, m.pool, options);
  // Alone: each sequence's prompt, then its next tokens.
  std::vector<KvCache> alone;
  std::vector<std::vector<float>> alone_logits, alone_hidden;
  for (size_t s = 0; s < kPrompts.size(); ++s) {
    alone.push_back(target.make_cache(32));
    target.forward(kPrompts[s], alone[s], nullptr, nullptr);
    alone_logits.emplace_back(kNext[s].size() * V);
    alone_hidden.emplace_back(kNext[s].size() * H);
    target.forward(kNext[s], alone[s], alone_logits[s].data(), alone_hidden[s].data());
  }
  // Batched: the prompts in one pass (last-row logits), then the next tokens in another.
  std::vector<KvCache> batched;
  std::vector<SequenceInput> prefill, step;
  for (size_t s = 0; s < kPrompts.size(); ++s) batched.push_back(target.make_cache(32));
  for (size_t s = 0; s < kPrompts.size(); ++s) {
    prefill.push_back({.tokens = kPrompts[s], .kv = &batched[s], .all_logits = false});
    step.push_back({.tokens = kNext[s], .kv = &batched[s]});
  }
  std::vector<float> last_rows(kPrompts.size() * V);
  target.forward(prefill, last_rows.data(), nullptr);
  std::vector<float> logits(6 * V), hidden(6 * H);
  target.forward(step, logits.data(), hidden.data());
  size_t row = 0;
  for (size_t s = 0; s < kPrompts.size(); ++s) {
    EXPECT_EQ(batched[s].size(), alone[s].size());
    for (size_t t = 0; t < kNext[s].size(); ++t, ++row) {
      for (int64_t v = 0; v < V; ++v) {
        ASSERT_EQ(logits[row * V + v], alone_logits[s][t * V + v]) << s << " " << t << " " << v;
      }
      for (int64_t h = 0; h < H; ++h) ASSERT_EQ(hidden[row * H + h], alone_hidden[s][t * H + h]);
    }
    for (int64_t layer = 0; layer < alone[s].layers(); ++layer) {
      for (int64_t p = 0; p < alone[s].size(); ++p) {
        for (int64_t i = 0; i < alone[s].width(); ++i) {
          ASSERT_EQ(batched[s].row(layer, p)[i], alone[s].row(layer, p)[i]);
        }
      }
    }
  }
  // The prefill's last-row logits equal a lone prefill's last row.
  for (size_t s = 0; s < kPrompts.size(); ++s) {
    KvCache kv = target.make_cache(32);
    std::vector<float> last(V);
    target.forward(kPrompts[s], kv, last.data(), nullptr, /*last_row_logits=*/true);
    for (int64_t v = 0; v < V; ++v) ASSERT_EQ(last_rows[s * V + v], last[v]);
  }
}

TEST_P(Batch, TargetRowsEqualTheirSequenceAlone) {
  Model m(GetParam());
  check_target_batch(m, {});
  if (m.config().mla() != nullptr) {
    SCOPED_TRACE("naive MLA");
    check_target_batch(m, {.mla = MlaForm::kNaive});
  }
}

TEST_P(Batch, MtpRowsEqualTheirSequenceAlone) {
  Model m(GetParam());
  const int64_t V = m.config().vocab_size;
  const int64_t H = m.config().hidden_size;
  MtpModel mtp(m.config(), *m.loaded->bound, m.pool);
  std::vector<std::vector<float>> hidden;
  for (const auto& p : kPrompts) {
    hidden.emplace_back(p.size() * H);
    for (size_t i = 0; i < hidden.back().size(); ++i)
      hidden.back()[i] = 0.01f * float(i % 97) - 0.4f;
  }
  std::vector<KvCache> alone, batched;
  std::vector<std::vector<float>> alone_logits, alone_recycled;
  std::vector<MtpSequenceInput> batch;
  for (size_t s = 0; s < kPrompts.size(); ++s) {
    alone.push_back(mtp.make_cache(32));
    batched.push_back(mtp.make_cache(32));
  }
  for (size_t s = 0; s < kPrompts.size(); ++s) {
    const auto position = static_cast<int64_t>(s);  // row 0 of sequence 0 is masked
    alone_logits.emplace_back(kPrompts[s].size() * V);
    alone_recycled.emplace_back(kPrompts[s].size() * H);
    mtp.forward(0, position, hidden[s].data(), kPrompts[s], alone[s], alone_logits[s].data(),
                alone_recycled[s].data());
    batch.push_back({.position = position,
                     .hidden = hidden[s].data(),
                     .tokens = kPrompts[s],
                     .kv = &batched[s]});
  }
  std::vector<float> logits(12 * V), recycled(12 * H);
  mtp.forward(0, batch, logits.data(), recycled.data());
  size_t row = 0;
  for (size_t s = 0; s < kPrompts.size(); ++s) {
    for (size_t t = 0; t < kPrompts[s].size(); ++t, ++row) {
      for (int64_t v = 0; v < V; ++v) ASSERT_EQ(logits[row * V + v], alone_logits[s][t * V + v]);
      for (int64_t h = 0; h < H; ++h)
        ASSERT_EQ(recycled[row * H + h], alone_recycled[s][t * H + h]);
    }
  }
}

TEST_P(Batch, ACacheTwiceOrAnEmptySequenceIsAnError) {
  Model m(GetParam());
  TargetModel target(m.config(), *m.loaded->bound, m.pool);
  KvCache kv = target.make_cache(8);
  const std::vector<int32_t> one = {1};
  const std::vector<SequenceInput> twice = {{.tokens = one, .kv = &kv}, {.tokens = one, .kv = &kv}};
  EXPECT_THROW(target.forward(twice, nullptr, nullptr), Error);
  const std::vector<SequenceInput> empty = {{.tokens = {}, .kv = &kv}};
  EXPECT_THROW(target.forward(empty, nullptr, nullptr), Error);
  EXPECT_EQ(kv.size(), 0);
}

// Work is split differently with 1, 2 or 3 threads (rows of a matrix, whole experts per
// thread, blocks of heads and groups of a prefill's rows in MLA): not one bit of the logits
// may change. 21 rows: past a verify's most, so MLA splits them into four groups a thread.
TEST_P(Batch, TheThreadCountChangesNoBit) {
  Model m(GetParam());
  const int64_t V = m.config().vocab_size;
  const std::vector<int32_t> prompt = {5,  17, 200, 3,   42, 7,  128, 255, 0,  9,  61,
                                       33, 2,  91,  150, 8,  77, 240, 19,  64, 101};
  std::vector<std::vector<float>> logits;
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    TargetModel target(m.config(), *m.loaded->bound, pool);
    KvCache kv = target.make_cache(32);
    logits.emplace_back(prompt.size() * V);
    target.forward(prompt, kv, logits.back().data(), nullptr);
  }
  EXPECT_EQ(logits[1], logits[0]);
  EXPECT_EQ(logits[2], logits[0]);
}

// Past kAttendSpan cache rows a pass of few rows splits MLA's attention over spans of the cache
// (with 3 threads, 12 heads: blocks of 8 and 4 heads per span) instead of over blocks of heads
// alone: with 1, 2 or 3 threads, a two-row pass's logits equal the same rows of one pass over
// the whole sequence, bit for bit.
TEST_P(Batch, LongContextRowsEqualTheirRowsOfTheWholeSequence) {
  TinyOptions options = GetParam();
  options.heads = 12;
  Model m(options);
  const int64_t V = m.config().vocab_size;
  const int64_t n = kAttendSpan + 70;
  std::vector<int32_t> tokens(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) tokens[i] = static_cast<int32_t>((i * 37 + 11) % V);
  std::vector<float> whole(static_cast<size_t>(n * V));
  {
    ThreadPool pool(1);
    TargetModel target(m.config(), *m.loaded->bound, pool);
    KvCache kv = target.make_cache(n);
    target.forward(tokens, kv, whole.data(), nullptr);
  }
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    TargetModel target(m.config(), *m.loaded->bound, pool);
    KvCache kv = target.make_cache(n);
    target.forward(std::span(tokens).first(n - 2), kv, nullptr, nullptr);
    std::vector<float> last(static_cast<size_t>(2 * V));
    target.forward(std::span(tokens).last(2), kv, last.data(), nullptr);
    for (int64_t i = 0; i < 2 * V; ++i) {
      ASSERT_EQ(last[i], whole[(n - 2) * V + i]) << threads << " threads, logit " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Variants, Batch,
    ::testing::Values(
        TinyOptions{.family = Family::kDeepseekV3},
        TinyOptions{.family = Family::kDeepseekV3, .yarn = true, .fp8 = true, .fp8_block = 32},
        TinyOptions{.family = Family::kGlm4Moe},
        TinyOptions{.family = Family::kGlm4Moe, .qk_norm = false}));

}  // namespace
}  // namespace nextn

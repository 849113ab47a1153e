// A tiny checkpoint opened for speculative decoding in tests.
#pragma once

#include <memory>

#include "model/loaded_model.h"
#include "spec/speculative_decoder.h"
#include "test_util.h"
#include "tiny/tiny_checkpoint.h"

namespace nextn::testing {

struct SpecFixture {
  ScratchDir dir;
  std::unique_ptr<LoadedModel> model;
  ThreadPool pool{2};

  explicit SpecFixture(const TinyOptions& options) {
    write_tiny_checkpoint(dir.path(), options);
    model = LoadedModel::open(dir.path());
  }
  SpeculativeDecoder decoder(int64_t spec_tokens, SpeculativeOptions options = {},
                             int64_t capacity = 256) {
    options.spec_tokens = spec_tokens;
    return SpeculativeDecoder(model->config, *model->bound, pool, capacity, options);
  }
};

inline std::vector<int32_t> prompt_of_length(int64_t length, int32_t vocab) {
  std::vector<int32_t> prompt;
  for (int64_t i = 0; i < length; ++i) prompt.push_back(static_cast<int32_t>((i * 37 + 11) % vocab));
  return prompt;
}

}  // namespace nextn::testing

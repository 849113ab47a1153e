// Shared by the server tests: a tiny checkpoint with a tokenizer and chat template, opened
// once per test binary.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "engine/text_model.h"
#include "tiny/tiny_checkpoint.h"

namespace nextn::testing {

inline const TextModel& tiny_text_model() {
  static const std::unique_ptr<TextModel> model = [] {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("nextn_server_tiny_" + std::to_string(::getpid()));
    write_tiny_checkpoint(dir, TinyOptions{.vocab = 300, .predictable = true, .tokenizer = true});
    auto opened = TextModel::open(dir);
    std::filesystem::remove_all(dir);  // the weights stay mapped
    return opened;
  }();
  return *model;
}

}  // namespace nextn::testing

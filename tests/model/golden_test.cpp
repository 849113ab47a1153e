// The forward pass against the float64 Python reference (tests/reference/), through golden
// files: for every tiny checkpoint variant, `nextn logits` (the command-line contract) and the
// MTP chain must match with max|nextn − ref| / max|ref| ≤ 1e-4 and the same argmax in every row.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "cli/run_command.h"
#include "io/npy.h"
#include "model/loaded_model.h"
#include "model/target_model.h"
#include "mtp/mtp_model.h"
#include "test_util.h"

namespace nextn {
namespace {

using testing::ScratchDir;

constexpr float kTolerance = 1e-4f;

std::filesystem::path goldens_dir() { return testing::test_data_dir() / "goldens"; }

std::string trimmed(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  return text;
}

std::vector<int32_t> parse_tokens(const std::string& text) {
  std::vector<int32_t> tokens;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) tokens.push_back(std::stoi(item));
  return tokens;
}

// Compares [rows, cols] arrays: relative max difference and per-row argmax.
void expect_matches(const std::vector<float>& actual, const NpyArray& golden, const std::string& what,
                    bool check_argmax = true) {
  ASSERT_EQ(golden.shape.size(), 2u) << what;
  const int64_t rows = golden.shape[0];
  const int64_t cols = golden.shape[1];
  ASSERT_EQ(actual.size(), static_cast<size_t>(rows * cols)) << what;
  float max_ref = 0.0f;
  float max_diff = 0.0f;
  for (size_t i = 0; i < actual.size(); ++i) {
    max_ref = std::fmax(max_ref, std::fabs(golden.values[i]));
    max_diff = std::fmax(max_diff, std::fabs(actual[i] - golden.values[i]));
  }
  ASSERT_GT(max_ref, 0.0f) << what;
  EXPECT_LE(max_diff / max_ref, kTolerance) << what << ": max|diff| " << max_diff << ", max|ref| "
                                            << max_ref;
  if (!check_argmax) return;
  for (int64_t r = 0; r < rows; ++r) {
    const float* a = actual.data() + r * cols;
    const float* g = golden.values.data() + r * cols;
    EXPECT_EQ(std::max_element(a, a + cols) - a, std::max_element(g, g + cols) - g)
        << what << ": argmax of row " << r;
  }
}

// sha256 of config.json followed by the *.safetensors files in name order, as
// tests/reference/make_goldens.py computes it: tells "make-tiny changed" apart from "the maths
// changed" when a golden comparison fails.
std::string fingerprint(const std::filesystem::path& dir) {
  const std::string command = "cd '" + dir.string() +
                              "' && cat config.json $(LC_ALL=C ls *.safetensors) | sha256sum";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return "";
  char buffer[65] = {};
  const size_t n = fread(buffer, 1, 64, pipe);
  pclose(pipe);
  return std::string(buffer, n);
}

std::vector<std::filesystem::path> variants() {
  std::vector<std::filesystem::path> dirs;
  for (const auto& entry : std::filesystem::directory_iterator(goldens_dir())) {
    if (entry.is_directory()) dirs.push_back(entry.path());
  }
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

TEST(Golden, EveryVariantIsPresent) {
  // The goldens are part of the contract: their absence is a failure, not a skip.
  EXPECT_GE(variants().size(), 10u);
}

// The command-line contract: nextn logits --model --tokens --out --mtp-out.
TEST(Golden, LogitsCommandMatchesTheReference) {
  for (const auto& variant : variants()) {
    SCOPED_TRACE(variant.filename().string());
    ScratchDir dir;
    const std::string args = trimmed(testing::read_file(variant / "make_tiny_args.txt"));
    const auto made = testing::run_nextn("make-tiny " + args + " --out " + dir.path().string());
    ASSERT_EQ(made.exit_code, 0) << made.output;
    ASSERT_EQ(fingerprint(dir.path()), trimmed(testing::read_file(variant / "fingerprint.txt")))
        << "make-tiny no longer writes the checkpoint the goldens were made from: regenerate "
           "them with /usr/bin/python3 tests/reference/make_goldens.py";
    const std::string tokens = trimmed(testing::read_file(variant / "tokens.txt"));
    const auto target = dir / "target.npy";
    const auto mtp = dir / "mtp.npy";
    const auto run = testing::run_nextn("logits --model " + dir.path().string() + " --tokens " +
                                        tokens + " --out " + target.string() + " --mtp-out " +
                                        mtp.string() + " --threads 2");
    ASSERT_EQ(run.exit_code, 0) << run.output;
    const NpyArray target_logits = read_npy(target);
    const NpyArray mtp_logits = read_npy(mtp);
    const auto t = static_cast<int64_t>(parse_tokens(tokens).size());
    EXPECT_EQ(target_logits.shape, (std::vector<int64_t>{t, 256}));
    EXPECT_EQ(mtp_logits.shape, (std::vector<int64_t>{t - 1, 256}));
    expect_matches(target_logits.values, read_npy(variant / "target_logits.npy"), "target logits");
    expect_matches(mtp_logits.values, read_npy(variant / "mtp_logits_0.npy"), "MTP layer 0 logits");
  }
}

// Runs the target and every MTP layer of the chain (SPEC §5, sequential MTP for D > 1) and
// compares hidden states and logits with the goldens in `golden_dir`.
void check_chain(const std::filesystem::path& checkpoint, const std::filesystem::path& golden_dir,
                 const std::vector<int32_t>& tokens, MtpOptions options) {
  const auto model = LoadedModel::open(checkpoint);
  const ModelConfig& config = model->config;
  ThreadPool pool(2);
  const int64_t T = static_cast<int64_t>(tokens.size());
  const int64_t H = config.hidden_size;
  const int64_t V = config.vocab_size;
  TargetModel target(config, *model->bound, pool);
  KvCache kv = target.make_cache(T);
  std::vector<float> logits(T * V);
  std::vector<float> hidden(T * H);
  target.forward(tokens, kv, logits.data(), hidden.data());
  expect_matches(logits, read_npy(golden_dir / "target_logits.npy"), "target logits");
  expect_matches(hidden, read_npy(golden_dir / "target_hidden.npy"), "target hidden", false);

  MtpModel mtp(config, *model->bound, pool, options);
  std::vector<float> previous = hidden;  // layer k's input hidden rows
  for (int64_t k = 0; k < config.num_nextn_predict_layers; ++k) {
    const int64_t rows = T - 1 - k;
    KvCache mtp_kv = mtp.make_cache(T);
    std::vector<float> mtp_logits(rows * V);
    std::vector<float> recycled(rows * H);
    mtp.forward(k, 0, previous.data(), std::span(tokens).subspan(1 + k, rows), mtp_kv,
                mtp_logits.data(), recycled.data());
    const std::string layer = std::to_string(k);
    expect_matches(mtp_logits, read_npy(golden_dir / ("mtp_logits_" + layer + ".npy")),
                   "MTP logits of layer " + layer);
    expect_matches(recycled, read_npy(golden_dir / ("mtp_hidden_" + layer + ".npy")),
                   "MTP recycled hidden of layer " + layer, false);
    previous = std::move(recycled);
  }
}

TEST(Golden, HiddenStatesAndTheMtpChainMatchTheReference) {
  for (const auto& variant : variants()) {
    SCOPED_TRACE(variant.filename().string());
    ScratchDir dir;
    const std::string args = trimmed(testing::read_file(variant / "make_tiny_args.txt"));
    ASSERT_EQ(testing::run_nextn("make-tiny " + args + " --out " + dir.path().string()).exit_code, 0);
    const auto tokens = parse_tokens(trimmed(testing::read_file(variant / "tokens.txt")));
    check_chain(dir.path(), variant, tokens, {});
    if (std::filesystem::exists(variant / "pre-norm")) {
      SCOPED_TRACE("pre-norm");
      check_chain(dir.path(), variant / "pre-norm", tokens, {.recycle = MtpRecycle::kPreNorm});
    }
    if (std::filesystem::exists(variant / "no-pos0-mask")) {
      SCOPED_TRACE("no-pos0-mask");
      check_chain(dir.path(), variant / "no-pos0-mask", tokens, {.pos0_mask = false});
    }
  }
}

// The trained models shipped in models/ (models/README.md) against the same reference: goldens
// in tests/data/goldens-trained/<model>/, made by tests/reference/run_reference.py.
TEST(Golden, TrainedModelsMatchTheReference) {
  const std::filesystem::path root = testing::test_data_dir() / "goldens-trained";
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(root)) {
    if (!entry.is_directory()) continue;
    SCOPED_TRACE(entry.path().filename().string());
    const std::filesystem::path model = std::filesystem::path(NEXTN_MODELS_DIR) / entry.path().filename();
    ASSERT_TRUE(std::filesystem::exists(model / "config.json")) << model;
    const auto tokens = parse_tokens(trimmed(testing::read_file(entry.path() / "tokens.txt")));
    check_chain(model, entry.path(), tokens, {});
    ++checked;
  }
  EXPECT_GE(checked, 3);
}

TEST(LogitsCommand, BadInputIsAClearError) {
  ScratchDir dir;
  ASSERT_EQ(testing::run_nextn("make-tiny --out " + dir.path().string()).exit_code, 0);
  const std::string model = " --model " + dir.path().string();
  const std::string out = " --out " + (dir / "t.npy").string();
  auto bad = testing::run_nextn("logits" + model + " --tokens 1,256" + out);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.output.find("token id 256"), std::string::npos) << bad.output;
  bad = testing::run_nextn("logits" + model + " --tokens 1,x,3" + out);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.output.find("'x'"), std::string::npos) << bad.output;
  bad = testing::run_nextn("logits --model /nonexistent --tokens 1" + out);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.output.find("/nonexistent"), std::string::npos) << bad.output;
  bad = testing::run_nextn("logits" + model + " --tokens 1,2 --out /nonexistent/dir/t.npy");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.output.find("/nonexistent/dir/t.npy"), std::string::npos) << bad.output;
  bad = testing::run_nextn("logits" + model + " --tokens 1" + out + " --mtp-out " +
                           (dir / "m.npy").string());
  EXPECT_EQ(bad.exit_code, 1);
}

}  // namespace
}  // namespace nextn

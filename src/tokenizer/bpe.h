// tokenizer.json "model" of type BPE: vocab, ranked merges, and the merge loop.
//
// Merges are applied lowest rank first, leftmost first among equal ranks (HF's Rust word.rs and
// the JS port agree), with a heap over candidate pairs and a linked list of symbols: a piece of
// n characters costs O(n log n), so long pieces (a 1 MB run of one letter) stay fast.
// Results are cached per piece in a bounded, sharded cache, so the model can be shared by
// several threads (each shard has its own mutex).
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/json_field.h"

namespace nextn {

class BpeModel {
 public:
  // Parses and validates `field` (the "model" object): vocab ids unique and >= 0, every merge
  // naming two vocab tokens whose concatenation is in the vocab, unk_token in the vocab.
  static BpeModel from_json(const tokenizer_json::Field& field);

  BpeModel() = default;
  BpeModel(BpeModel&&) noexcept;
  BpeModel& operator=(BpeModel&&) noexcept;

  // Appends the ids of one pre-tokenized piece.
  void encode(std::string_view piece, std::vector<int32_t>& out) const;

  std::optional<int32_t> token_to_id(std::string_view token) const;
  // The vocab string of `id`, or nullptr when no vocab entry has that id.
  const std::string* id_to_token(int32_t id) const;
  // Max vocab id + 1.
  int64_t size() const { return static_cast<int64_t>(id_to_token_.size()); }

 private:
  struct Merge {
    int32_t rank;
    int32_t result;
  };
  static uint64_t pair_key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  void encode_uncached(std::string_view piece, std::vector<int32_t>& out) const;
  // Initial symbols of a piece: one per character, or byte-fallback / unk ids.
  void initial_symbols(std::string_view piece, std::vector<int32_t>& ids) const;

  std::unordered_map<std::string, int32_t> vocab_;
  std::vector<std::string> id_to_token_;
  std::vector<bool> has_id_;
  std::unordered_map<uint64_t, Merge> merges_;
  std::optional<int32_t> unk_id_;
  bool fuse_unk_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;

  // Pieces longer than this are not cached: they are rare and would crowd the cache out.
  static constexpr size_t kMaxCachedPieceBytes = 256;
  static constexpr size_t kCacheShards = 16;
  static constexpr size_t kMaxEntriesPerShard = 4096;
  struct CacheShard {
    std::mutex mutex;
    std::unordered_map<std::string, std::vector<int32_t>> entries;
  };
  mutable std::array<CacheShard, kCacheShards> cache_;
};

}  // namespace nextn

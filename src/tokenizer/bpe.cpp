#include "tokenizer/bpe.h"

#include <functional>
#include <limits>
#include <queue>

#include "core/error.h"
#include "tokenizer/utf8.h"

namespace nextn {
namespace {

constexpr int64_t kMaxId = std::numeric_limits<int32_t>::max() - 1;
constexpr int64_t kSparseIdSlack = 65536;

// A merge "a b" string (the older format) or an ["a", "b"] pair.
std::pair<std::string, std::string> parse_merge(const tokenizer_json::Field& f) {
  if (f.json().is_string()) {
    const std::string s = f.as_string();
    const size_t space = s.find(' ');
    if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos) {
      f.fail(fmt::format("expected \"left right\" (two tokens and one space), got {}",
                         tokenizer_json::describe(f.json())));
    }
    return {s.substr(0, space), s.substr(space + 1)};
  }
  if (f.json().is_array() && f.json().size() == 2) {
    return {f.element(0).as_string(), f.element(1).as_string()};
  }
  f.fail_expected("a merge (\"left right\" or [\"left\", \"right\"])");
}

}  // namespace

BpeModel::BpeModel(BpeModel&& o) noexcept
    : vocab_(std::move(o.vocab_)),
      id_to_token_(std::move(o.id_to_token_)),
      has_id_(std::move(o.has_id_)),
      merges_(std::move(o.merges_)),
      unk_id_(o.unk_id_),
      fuse_unk_(o.fuse_unk_),
      byte_fallback_(o.byte_fallback_),
      ignore_merges_(o.ignore_merges_) {}

BpeModel& BpeModel::operator=(BpeModel&& o) noexcept {
  vocab_ = std::move(o.vocab_);
  id_to_token_ = std::move(o.id_to_token_);
  has_id_ = std::move(o.has_id_);
  merges_ = std::move(o.merges_);
  unk_id_ = o.unk_id_;
  fuse_unk_ = o.fuse_unk_;
  byte_fallback_ = o.byte_fallback_;
  ignore_merges_ = o.ignore_merges_;
  for (CacheShard& shard : cache_) shard.entries.clear();
  return *this;
}

BpeModel BpeModel::from_json(const tokenizer_json::Field& field) {
  field.expect_object();
  const tokenizer_json::Field type = field.at("type", "a model type");
  if (type.as_string() != "BPE") {
    type.fail(fmt::format("unsupported model type '{}' (nextn supports BPE)", type.as_string()));
  }
  BpeModel m;
  const tokenizer_json::Field vocab = field.at("vocab", "an object of token: id");
  vocab.expect_object();
  m.vocab_.reserve(vocab.json().size());
  int64_t max_id = -1;
  for (const auto& [token, value] : vocab.json().items()) {
    const tokenizer_json::Field entry(value, vocab.file(), vocab.path() + "." + token);
    const auto id = static_cast<int32_t>(entry.as_int(0, kMaxId));
    m.vocab_.emplace(token, id);
    max_id = std::max<int64_t>(max_id, id);
  }
  // Ids index a dense table; real vocabularies are dense, and a sparse one would cost memory in
  // proportion to its largest id (2^31 strings for a hostile file).
  const auto entries = static_cast<int64_t>(m.vocab_.size());
  if (max_id >= 2 * entries + kSparseIdSlack) {
    vocab.fail(
        fmt::format("ids are too sparse: the largest is {} for {} entries", max_id, entries));
  }
  m.id_to_token_.resize(static_cast<size_t>(max_id + 1));
  m.has_id_.resize(static_cast<size_t>(max_id + 1));
  for (const auto& [token, id] : m.vocab_) {
    if (m.has_id_[id]) {
      vocab.fail(fmt::format("id {} is used by both {} and {}", id,
                             tokenizer_json::describe(m.id_to_token_[id]),
                             tokenizer_json::describe(token)));
    }
    m.has_id_[id] = true;
    m.id_to_token_[id] = token;
  }

  const tokenizer_json::Field merges = field.at("merges", "a list of merges");
  merges.expect_array();
  m.merges_.reserve(merges.json().size());
  for (size_t i = 0; i < merges.json().size(); ++i) {
    const tokenizer_json::Field f = merges.element(i);
    const auto [left, right] = parse_merge(f);
    const auto a = m.token_to_id(left);
    const auto b = m.token_to_id(right);
    const auto result = m.token_to_id(left + right);
    for (const auto& [part, id] : {std::pair{&left, a}, std::pair{&right, b}}) {
      if (!id)
        f.fail(fmt::format("token {} is not in model.vocab", tokenizer_json::describe(*part)));
    }
    if (!result) {
      f.fail(fmt::format("the merged token {} is not in model.vocab",
                         tokenizer_json::describe(left + right)));
    }
    // A repeated pair keeps its last rank, as both references build their map.
    m.merges_.insert_or_assign(pair_key(*a, *b), Merge{static_cast<int32_t>(i), *result});
  }

  if (const auto unk = field.find("unk_token")) {
    const std::string token = unk->as_string();
    m.unk_id_ = m.token_to_id(token);
    if (!m.unk_id_)
      unk->fail(fmt::format("unk_token {} is not in model.vocab", tokenizer_json::describe(token)));
  }
  m.fuse_unk_ = field.bool_or("fuse_unk", false);
  m.byte_fallback_ = field.bool_or("byte_fallback", false);
  m.ignore_merges_ = field.bool_or("ignore_merges", false);
  if (const auto dropout = field.find("dropout")) {
    if (!dropout->json().is_number() || dropout->json().get<double>() != 0.0) {
      dropout->fail("BPE dropout (random merges, a training feature) is not supported");
    }
  }
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (const auto f = field.find(key); f && !f->as_string().empty()) {
      f->fail("non-empty subword prefixes / suffixes are not supported");
    }
  }
  return m;
}

std::optional<int32_t> BpeModel::token_to_id(std::string_view token) const {
  // Heterogeneous lookup needs C++20 transparent hashing; the copy is cheap next to a merge.
  const auto it = vocab_.find(std::string(token));
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

const std::string* BpeModel::id_to_token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= has_id_.size() || !has_id_[id]) return nullptr;
  return &id_to_token_[id];
}

void BpeModel::initial_symbols(std::string_view piece, std::vector<int32_t>& ids) const {
  bool previous_unk = false;
  for (size_t pos = 0; pos < piece.size();) {
    const utf8::Decoded d = utf8::decode_one(piece, pos);
    const std::string_view ch = piece.substr(pos, d.length);
    pos += d.length;
    if (const auto id = token_to_id(ch)) {
      ids.push_back(*id);
      previous_unk = false;
      continue;
    }
    if (byte_fallback_) {
      // <0xAB> tokens for every byte of the character, used only if all of them exist.
      std::vector<int32_t> bytes;
      for (const char c : ch) {
        const auto id = token_to_id(fmt::format("<0x{:02X}>", static_cast<unsigned char>(c)));
        if (!id) break;
        bytes.push_back(*id);
      }
      if (bytes.size() == ch.size()) {
        ids.insert(ids.end(), bytes.begin(), bytes.end());
        previous_unk = false;
        continue;
      }
    }
    // Without an unk token an unknown character is dropped, as in both references.
    if (unk_id_ && !(fuse_unk_ && previous_unk)) ids.push_back(*unk_id_);
    previous_unk = unk_id_.has_value();
  }
}

void BpeModel::encode_uncached(std::string_view piece, std::vector<int32_t>& out) const {
  if (ignore_merges_) {
    if (const auto id = token_to_id(piece)) {
      out.push_back(*id);
      return;
    }
  }
  std::vector<int32_t> ids;
  initial_symbols(piece, ids);
  const auto n = static_cast<int32_t>(ids.size());
  if (n <= 1) {
    out.insert(out.end(), ids.begin(), ids.end());
    return;
  }
  // Symbols as a doubly linked list over positions; a merged-away symbol has alive = false.
  std::vector<int32_t> prev(n), next(n);
  std::vector<bool> alive(n, true);
  for (int32_t i = 0; i < n; ++i) {
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  // Candidates (rank, left position, result id); stale ones are skipped when popped.
  struct Candidate {
    int32_t rank;
    int32_t pos;
    int32_t result;
    bool operator>(const Candidate& o) const {
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
  const auto push_pair = [&](int32_t left) {
    if (left < 0 || next[left] < 0) return;
    const auto it = merges_.find(pair_key(ids[left], ids[next[left]]));
    if (it != merges_.end()) queue.push({it->second.rank, left, it->second.result});
  };
  for (int32_t i = 0; i + 1 < n; ++i) push_pair(i);
  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    const int32_t right = alive[c.pos] ? next[c.pos] : -1;
    if (right < 0) continue;
    // Still the same pair? Either symbol may have merged with another neighbour since.
    const auto it = merges_.find(pair_key(ids[c.pos], ids[right]));
    if (it == merges_.end() || it->second.result != c.result || it->second.rank != c.rank) continue;
    ids[c.pos] = c.result;
    alive[right] = false;
    next[c.pos] = next[right];
    if (next[right] >= 0) prev[next[right]] = c.pos;
    push_pair(prev[c.pos]);
    push_pair(c.pos);
  }
  for (int32_t i = 0; i >= 0; i = next[i]) out.push_back(ids[i]);
}

void BpeModel::encode(std::string_view piece, std::vector<int32_t>& out) const {
  if (piece.size() > kMaxCachedPieceBytes) {
    encode_uncached(piece, out);
    return;
  }
  const size_t hash = std::hash<std::string_view>{}(piece);
  CacheShard& shard = cache_[hash % kCacheShards];
  std::string key(piece);
  {
    const std::lock_guard<std::mutex> lock(shard.mutex);
    const auto it = shard.entries.find(key);
    if (it != shard.entries.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  const size_t start = out.size();
  encode_uncached(piece, out);
  std::vector<int32_t> ids(out.begin() + static_cast<std::ptrdiff_t>(start), out.end());
  const std::lock_guard<std::mutex> lock(shard.mutex);
  // Bounded: a full shard starts over, so the cache follows the text being encoded.
  if (shard.entries.size() >= kMaxEntriesPerShard) shard.entries.clear();
  shard.entries.emplace(std::move(key), std::move(ids));
}

}  // namespace nextn

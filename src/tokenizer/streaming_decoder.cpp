// StreamingDecoder: decode() one id at a time without ever splitting a UTF-8 character.
//
// Only the bytes of an unfinished sequence are held back. Because U+FFFD replacement by maximal
// subpart depends on nothing but the bytes of the sequence itself, emitting every decided prefix
// at once gives exactly the text a whole-string decode would.
#include "tokenizer/tokenizer.h"

#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/utf8.h"

namespace nextn {

StreamingDecoder::StreamingDecoder(const Tokenizer& tokenizer, bool skip_special_tokens)
    : impl_(tokenizer.impl_), skip_special_tokens_(skip_special_tokens) {}

std::string StreamingDecoder::push(int32_t id) {
  const size_t before = pending_.size();
  if (impl_->decoder == DecoderKind::kNone && !first_) pending_.push_back(' ');
  if (!impl_->append_token_bytes(id, skip_special_tokens_, pending_)) {
    pending_.resize(before);
    return {};
  }
  first_ = false;
  std::string out;
  const size_t tail = utf8::append_complete(pending_, out);
  pending_.erase(0, pending_.size() - tail);
  return out;
}

std::string StreamingDecoder::flush() {
  std::string out = utf8::to_valid(pending_);
  pending_.clear();
  return out;
}

}  // namespace nextn

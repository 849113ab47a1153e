#include "server/pending_request.h"

namespace nextn::server {

GenerationCallbacks PendingRequest::callbacks() {
  std::shared_ptr<PendingRequest> self = shared_from_this();
  GenerationCallbacks callbacks;
  callbacks.on_update = [self](const GenerationUpdate& update) {
    {
      std::lock_guard lock(self->mutex_);
      self->updates_.push_back(update);
    }
    self->ready_.notify_all();
  };
  callbacks.on_done = [self](const GenerationResult& result) {
    {
      std::lock_guard lock(self->mutex_);
      if (!self->result_) self->result_ = result;
    }
    self->ready_.notify_all();
  };
  return callbacks;
}

PendingRequest::Batch PendingRequest::wait(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  ready_.wait_for(lock, timeout, [&] { return !updates_.empty() || (result_ && !result_taken_); });
  Batch batch;
  batch.updates.assign(std::make_move_iterator(updates_.begin()),
                       std::make_move_iterator(updates_.end()));
  updates_.clear();
  if (result_ && !result_taken_) {
    batch.result = result_;
    result_taken_ = true;
  }
  return batch;
}

bool PendingRequest::done() const {
  std::lock_guard lock(mutex_);
  return result_.has_value();
}

}  // namespace nextn::server

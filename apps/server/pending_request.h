// One submitted request as the HTTP thread sees it: the engine's callbacks (on its worker
// thread) queue updates and the result here; the HTTP thread waits for them and writes them
// out. Shared by both sides, so whichever finishes last frees it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "engine/engine.h"

namespace nextn::server {

class PendingRequest : public std::enable_shared_from_this<PendingRequest> {
 public:
  // The callbacks to submit with; they keep this object alive.
  GenerationCallbacks callbacks();

  struct Batch {
    std::vector<GenerationUpdate> updates;
    std::optional<GenerationResult> result;  // set once: the request ended
  };
  // Takes what has arrived, waiting up to `timeout` when nothing has.
  Batch wait(std::chrono::milliseconds timeout);
  bool done() const;

 private:
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<GenerationUpdate> updates_;
  std::optional<GenerationResult> result_;
  bool result_taken_ = false;
};

}  // namespace nextn::server

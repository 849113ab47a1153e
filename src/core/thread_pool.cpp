#include "core/thread_pool.h"

#include <algorithm>

namespace nextn {

namespace {
// Which of the pool's threads is running: 0 for the caller, 1.. for the workers.
thread_local int t_thread_index = 0;
}  // namespace

ThreadPool::ThreadPool(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  scratch_.resize(static_cast<size_t>(threads));
  for (int i = 1; i < threads; ++i) {
    workers_.emplace_back([this, i] {
      t_thread_index = i;
      worker_loop();
    });
  }
}

void ThreadPool::reserve_scratch(Scratch slot, size_t floats) {
  for (auto& buffers : scratch_) {
    std::vector<float>& buffer = buffers[static_cast<size_t>(slot)];
    if (buffer.size() < floats) buffer.resize(floats);
  }
}

float* ThreadPool::scratch(Scratch slot, size_t floats) {
  std::vector<float>& buffer = scratch_[static_cast<size_t>(t_thread_index)][static_cast<size_t>(slot)];
  if (buffer.size() < floats) buffer.resize(floats);
  return buffer.data();
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

void ThreadPool::work_on_current_job() {
  for (;;) {
    const int64_t begin = next_.fetch_add(grain_, std::memory_order_relaxed);
    if (begin >= n_) return;
    trampoline_(context_, begin, std::min(n_, begin + grain_));
  }
}

void ThreadPool::run(int64_t n, int64_t grain, Trampoline trampoline, void* context) {
  {
    std::lock_guard lock(mutex_);
    trampoline_ = trampoline;
    context_ = context;
    n_ = n;
    grain_ = std::max<int64_t>(1, grain);
    next_.store(0, std::memory_order_relaxed);
    busy_workers_ = static_cast<int>(workers_.size());
    ++generation_;
  }
  wake_.notify_all();
  work_on_current_job();
  std::unique_lock lock(mutex_);
  done_.wait(lock, [this] { return busy_workers_ == 0; });
}

void ThreadPool::worker_loop() {
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
    }
    work_on_current_job();
    {
      std::lock_guard lock(mutex_);
      --busy_workers_;
    }
    done_.notify_one();
  }
}

}  // namespace nextn

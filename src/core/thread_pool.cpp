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
    stopping_.store(true);
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

namespace {
// About a quarter of a millisecond of polling before a thread blocks.
constexpr int kSpinIterations = 4096;
inline void cpu_relax() { __builtin_ia32_pause(); }
}  // namespace

void ThreadPool::run(int64_t n, int64_t grain, Trampoline trampoline, void* context) {
  {
    std::lock_guard lock(mutex_);
    trampoline_ = trampoline;
    context_ = context;
    n_ = n;
    grain_ = std::max<int64_t>(1, grain);
    next_.store(0, std::memory_order_relaxed);
    pending_workers_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  work_on_current_job();
  for (int spin = 0; pending_workers_.load(std::memory_order_acquire) != 0; ++spin) {
    if (spin < kSpinIterations) {
      cpu_relax();
      continue;
    }
    std::unique_lock lock(mutex_);
    done_.wait(lock, [this] { return pending_workers_.load(std::memory_order_acquire) == 0; });
    break;
  }
}

void ThreadPool::worker_loop() {
  uint64_t seen = 0;
  for (;;) {
    for (int spin = 0; generation_.load(std::memory_order_acquire) == seen; ++spin) {
      if (stopping_.load()) return;
      if (spin < kSpinIterations) {
        cpu_relax();
        continue;
      }
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] {
        return stopping_.load() || generation_.load(std::memory_order_acquire) != seen;
      });
      break;
    }
    if (stopping_.load()) return;
    seen = generation_.load(std::memory_order_acquire);
    work_on_current_job();
    if (pending_workers_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard lock(mutex_);
      done_.notify_one();
    }
  }
}

}  // namespace nextn

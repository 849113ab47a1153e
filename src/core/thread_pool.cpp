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
  std::vector<float>& buffer =
      scratch_[static_cast<size_t>(t_thread_index)][static_cast<size_t>(slot)];
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
inline void cpu_relax() {
  __builtin_ia32_pause();
}

constexpr uint64_t kClosed = uint64_t{1} << 31;
constexpr uint64_t kWorkersMask = kClosed - 1;
constexpr uint64_t kTagMask = ~uint64_t{0} << 32;
uint64_t job_tag(uint64_t generation) {
  return generation << 32;
}
}  // namespace

bool ThreadPool::join_job(uint64_t generation) {
  const uint64_t tag = job_tag(generation);
  uint64_t state = job_state_.load(std::memory_order_acquire);
  while ((state & kTagMask) == tag && (state & kClosed) == 0) {
    if (job_state_.compare_exchange_weak(state, state + 1, std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {
      return true;
    }
  }
  return false;  // a later job, or this one is closed: every chunk is taken
}

void ThreadPool::leave_job() {
  const uint64_t after = job_state_.fetch_sub(1, std::memory_order_acq_rel) - 1;
  if ((after & kClosed) != 0 && (after & kWorkersMask) == 0) {
    std::lock_guard lock(mutex_);
    done_.notify_one();
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
    const uint64_t generation = generation_.load(std::memory_order_relaxed) + 1;
    job_state_.store(job_tag(generation), std::memory_order_relaxed);  // open, nobody joined
    generation_.store(generation, std::memory_order_release);
  }
  wake_.notify_all();
  work_on_current_job();
  // Every chunk is claimed: close the job to latecomers, then wait for those who joined.
  auto busy = [this] { return (job_state_.load(std::memory_order_acquire) & kWorkersMask) != 0; };
  job_state_.fetch_or(kClosed, std::memory_order_acq_rel);
  for (int spin = 0; busy(); ++spin) {
    if (spin < kSpinIterations) {
      cpu_relax();
      continue;
    }
    std::unique_lock lock(mutex_);
    done_.wait(lock, [&] { return !busy(); });
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
    if (join_job(seen)) {
      work_on_current_job();
      leave_job();
    }
  }
}

}  // namespace nextn

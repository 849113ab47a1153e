// The engine's one thread pool (DESIGN principle 8: passed in, never global).
//
// parallel_for splits [0, n) into chunks that the caller and the workers claim from an atomic
// counter, so uneven work (experts with different row counts) balances itself. It allocates
// nothing: the body is passed by reference through a type-erased function pointer.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace nextn {

class ThreadPool {
 public:
  // threads <= 0: one per hardware thread. The caller counts as one of them.
  explicit ThreadPool(int threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Per-thread scratch buffers for the bodies of parallel_for (a decoded weight row, a row of
  // attention scores). reserve_scratch sizes every thread's buffer from the calling thread, so
  // that the decode loop never allocates; scratch() grows the buffer only if nobody reserved.
  enum class Scratch { kRow, kScores, kLatent, kCount };
  void reserve_scratch(Scratch slot, size_t floats);
  float* scratch(Scratch slot, size_t floats);

  // Calls body() once on each thread of the pool, the caller's included, and returns when all
  // have: for sizing thread_local buffers, which parallel_for alone cannot reach on a worker
  // that happens to claim no chunk. Each thread waits in its call until every one has arrived,
  // so no thread can take two. Not for the decode loop (it waits for sleeping workers).
  template <typename Body>
  void on_every_thread(Body&& body) {
    std::atomic<int> arrived{0};
    const int threads = size();
    parallel_for(threads, 1, [&](int64_t, int64_t) {
      body();
      arrived.fetch_add(1, std::memory_order_acq_rel);
      while (arrived.load(std::memory_order_acquire) < threads) std::this_thread::yield();
    });
  }

  // Calls body(begin, end) over disjoint chunks of [0, n) of at most `grain` items, on all
  // threads, and returns when every chunk is done. Not reentrant.
  template <typename Body>
  void parallel_for(int64_t n, int64_t grain, Body&& body) {
    if (n <= 0) return;
    if (workers_.empty() || n <= grain) {
      body(int64_t{0}, n);
      return;
    }
    run(
        n, grain,
        [](void* context, int64_t begin, int64_t end) {
          (*static_cast<std::remove_reference_t<Body>*>(context))(begin, end);
        },
        &body);
  }

 private:
  using Trampoline = void (*)(void*, int64_t, int64_t);
  void run(int64_t n, int64_t grain, Trampoline trampoline, void* context);
  void work_on_current_job();
  void worker_loop();
  bool join_job(uint64_t generation);
  void leave_job();

  // scratch_[thread][slot]; thread 0 is whoever calls parallel_for.
  std::vector<std::array<std::vector<float>, static_cast<size_t>(Scratch::kCount)>> scratch_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  // Bumped (under mutex_) for each job. Workers spin on it briefly before sleeping: a decode
  // step runs hundreds of small jobs, and a condition-variable wake-up per job would cost more
  // than the job.
  std::atomic<uint64_t> generation_{0};
  // Who is working on the current job: [job tag: 32 bits | closed: 1 bit | workers: 31 bits].
  // A worker joins only while the job is open; the caller closes it once every chunk is
  // claimed and then waits only for the workers that joined. A worker that the OS has not
  // scheduled yet never holds the caller up: it finds the job closed and skips it.
  std::atomic<uint64_t> job_state_{0};
  std::atomic<bool> stopping_{false};

  // The current job.
  Trampoline trampoline_ = nullptr;
  void* context_ = nullptr;
  int64_t n_ = 0;
  int64_t grain_ = 1;
  std::atomic<int64_t> next_{0};
};

}  // namespace nextn

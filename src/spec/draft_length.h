// --spec-tokens auto: choose the number of drafts K for each step to maximise expected tokens
// per second (issue "Speed on the CPU"; the rule is written down in docs/PERFORMANCE.md).
//
//   expected tokens of a step with K drafts  E(K) = 1 + α + α² + … + α^K
//   expected cost                            C(K) = verify(K + 1) + K · mtp_step
//   choose                                   K* = argmax_{0 ≤ K ≤ K_max} E(K) / C(K)
//
// α is the running rate at which a draft is accepted given that the drafts before it were
// (accepted tokens / drafts that had a chance, an exponential moving average); verify(n) is
// the running mean time of a target pass over n tokens, and mtp_step the running mean time of
// one MTP pass. Unmeasured verify(n) are extrapolated linearly from the measured ones; the
// first sample of each size only stands until the second (cold caches). After
// `kFirstProbeInterval` steps at K = 0 the controller drafts once anyway, with the best K > 0, so
// it notices a drafter that starts to guess well. A probe that could not have made drafting pay
// even had all its drafts been accepted doubles the wait for the next one (up to
// kMaxProbeInterval); a step that drafts on its estimates' merit resets it. So where drafting does
// not pay (a useless drafter, or a model whose batched passes cost nearly as much per token as
// single ones) the probes cost a few steps in a run, not one in 32. K never exceeds a ceiling that
// starts at 1 and doubles after each step whose drafts were all accepted, so an unknown drafter is
// tried with one draft, not K_max (a useless one then costs a single cheap step, not a pass over
// K_max + 1 tokens and K_max MTP steps). Before a probe the MTP layers catch up over the newest
// kProbeWindow rows only. The first two steps run at K = 0, to time the pass every K is
// compared with.
#pragma once

#include <array>
#include <cstdint>

namespace nextn {

class DraftLengthController {
 public:
  static constexpr int64_t kMaxDrafts = 16;
  // Steps at K = 0 before the first probe, and the most the wait grows to (doubling after each
  // probe that leaves K at 0). A probe pays its catch-up (kProbeWindow MTP rows) and a verify
  // over K + 1 tokens: on the default model about 3 one-token steps, 10% of 32 steps.
  static constexpr int64_t kFirstProbeInterval = 32;
  static constexpr int64_t kMaxProbeInterval = 256;
  // Rows the MTP layers are teacher-forced over before a probe: the newest ones only. The
  // steps at K = 0 left them up to kMaxProbeInterval rows behind, and catching all of those up
  // cost more than the probe itself on a cache-resident model; the rows skipped stay out of
  // their caches, which changes how well they draft (drafts are proposals), never the output.
  static constexpr int64_t kProbeWindow = 8;

  explicit DraftLengthController(int64_t max_drafts);

  // K for the next step (≤ max_drafts).
  int64_t choose();
  // Whether the last choose() was a probe after steps at K = 0 (see kProbeWindow).
  bool probing() const { return probing_; }
  // The window of rows the MTP layers catch up over before this step: kProbeWindow before a
  // probe, else 0 (all waiting rows).
  int64_t catch_up_window() const { return probing_ ? kProbeWindow : 0; }
  // The first row an MTP layer is teacher-forced from, given the next row it has not seen and
  // the newest row: that next row, or with a window (> 0) no earlier than newest − window. The
  // floor is the same for every layer, so layer k + 1 only reads rows layer k has forced.
  static int64_t catch_up_from(int64_t next_row, int64_t newest, int64_t window) {
    return window > 0 && newest - window > next_row ? newest - window : next_row;
  }
  // What the step did: K drafts, how many were accepted, and the measured times.
  void record(int64_t drafts, int64_t accepted, double verify_seconds, double mtp_seconds);

  double acceptance() const { return alpha_; }
  // The model's current estimate of verify(n) (n = 1 .. max + 1), for tests and bench.
  double verify_cost(int64_t tokens) const;
  double mtp_cost() const { return mtp_step_; }
  // E(K) / C(K) under the current estimates.
  double expected_rate(int64_t drafts) const;
  // Whether some K > 0 (within the ceiling) beats K = 0 under the current costs and acceptance
  // rate alpha.
  bool drafting_pays(double alpha) const;
  // Steps at K = 0 the controller now waits before it probes.
  int64_t probe_interval() const { return probe_interval_; }

 private:
  double rate_with(int64_t drafts, double alpha) const;
  // α after a step whose `accepted` of `drafts` drafts were accepted (α itself is unchanged).
  double updated_alpha(int64_t drafts, int64_t accepted) const;

  int64_t max_drafts_;
  double alpha_ = 0.5;  // optimistic start: try drafting before judging the drafter
  int64_t alpha_observations_ = 0;
  std::array<double, kMaxDrafts + 2>
      verify_{};  // mean seconds of a pass over n tokens; 0 = unmeasured
  std::array<int64_t, kMaxDrafts + 2> verify_count_{};
  double mtp_step_ = 0.0;
  int64_t mtp_count_ = 0;
  int64_t steps_at_zero_ = 0;
  int64_t probe_interval_ = kFirstProbeInterval;
  bool probed_last_ = false;            // the previous choose() was a probe
  bool probe_could_have_paid_ = false;  // with all its drafts accepted, drafting would pay
  int64_t ceiling_ = 1;                 // the largest K allowed now
  bool probing_ = false;
};

}  // namespace nextn

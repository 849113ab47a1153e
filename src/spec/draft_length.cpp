#include "spec/draft_length.h"

#include <algorithm>

#include "core/error.h"

namespace nextn {
namespace {

// Weight of a new observation in the running means: recent behaviour matters most (the
// acceptance rate drifts with the text), but one odd step should not swing K.
constexpr double kSmoothing = 0.1;

double running(double mean, int64_t count, double sample) {
  // The first sample of a size is provisional: the first pass of a shape pays for cold caches
  // and scratch growth, so the second sample replaces it instead of averaging with it.
  if (count <= 1) return sample;
  const double weight = std::max(kSmoothing, 1.0 / static_cast<double>(count + 1));
  return mean + weight * (sample - mean);
}

}  // namespace

DraftLengthController::DraftLengthController(int64_t max_drafts) : max_drafts_(max_drafts) {
  if (max_drafts < 1 || max_drafts > kMaxDrafts) {
    fail("spec-tokens auto: the maximum number of drafts must be in 1..{}, got {}", kMaxDrafts,
         max_drafts);
  }
}

double DraftLengthController::verify_cost(int64_t tokens) const {
  if (verify_count_[tokens] > 0) return verify_[tokens];
  // Extrapolate from the two nearest measured sizes (or one size and a slope prior).
  int64_t below = 0;
  int64_t above = 0;
  for (int64_t n = tokens - 1; n >= 1 && below == 0; --n) {
    if (verify_count_[n] > 0) below = n;
  }
  for (int64_t n = tokens + 1; n <= max_drafts_ + 1 && above == 0; ++n) {
    if (verify_count_[n] > 0) above = n;
  }
  if (below > 0 && above > 0) {
    const double t = static_cast<double>(tokens - below) / static_cast<double>(above - below);
    return verify_[below] + t * (verify_[above] - verify_[below]);
  }
  const int64_t known = below > 0 ? below : above;
  if (known == 0) return 1.0;  // nothing measured yet: all sizes cost the same
  // One size known: assume each extra token costs 10% of a one-token pass, a batched pass of a
  // memory-bound MoE being mostly the weight reads it shares.
  const double per_token = 0.1 * verify_[known] / (1.0 + 0.1 * static_cast<double>(known - 1));
  return std::max(per_token, verify_[known] + per_token * static_cast<double>(tokens - known));
}

double DraftLengthController::rate_with(int64_t drafts, double alpha) const {
  double tokens = 1.0;
  double p = 1.0;
  for (int64_t i = 0; i < drafts; ++i) {
    p *= alpha;
    tokens += p;
  }
  const double cost = verify_cost(drafts + 1) + static_cast<double>(drafts) * mtp_step_;
  return tokens / cost;
}

double DraftLengthController::expected_rate(int64_t drafts) const {
  return rate_with(drafts, alpha_);
}

bool DraftLengthController::drafting_pays(double alpha) const {
  const int64_t most = std::min(max_drafts_, ceiling_);
  const double plain = rate_with(0, alpha);
  for (int64_t k = 1; k <= most; ++k) {
    if (rate_with(k, alpha) > plain) return true;
  }
  return false;
}

int64_t DraftLengthController::choose() {
  probing_ = false;
  // K = 0's cost is what every other K is judged against, so it is measured before any
  // drafting (two samples: the first stands only until the second). Extrapolated from a
  // batched pass instead (the 10 % prior), it makes a model whose batched passes cost nearly
  // as much per token as single ones look as if drafting paid, and a good drafter then keeps
  // K > 0 for ever without K = 0 ever being timed (the default model: 0.66 × K = 0's speed).
  if (verify_count_[1] < 2) return 0;
  const int64_t most = std::min(max_drafts_, ceiling_);
  int64_t best = 0;
  double best_rate = expected_rate(0);
  for (int64_t k = 1; k <= most; ++k) {
    const double rate = expected_rate(k);
    if (rate > best_rate) {
      best = k;
      best_rate = rate;
    }
  }
  if (best > 0) {
    probe_interval_ = kFirstProbeInterval;  // drafting pays: probe promptly if it stops paying
  } else if (probed_last_ && !probe_could_have_paid_) {
    // Even had the probe's drafts all been accepted, K = 0 would still win: the drafter is
    // hopeless or drafting cannot pay on this machine. Probe half as often.
    probe_interval_ = std::min(kMaxProbeInterval, 2 * probe_interval_);
  }
  probed_last_ = false;
  if (best == 0 && ++steps_at_zero_ >= probe_interval_) {
    steps_at_zero_ = 0;
    probed_last_ = true;
    // Probe with the best K > 0: it re-measures both the drafter and the pass size in question.
    int64_t probe = 1;
    for (int64_t k = 2; k <= most; ++k) {
      if (expected_rate(k) > expected_rate(probe)) probe = k;
    }
    probing_ = true;
    return probe;
  }
  return best;
}

void DraftLengthController::record(int64_t drafts, int64_t accepted, double verify_seconds,
                                   double mtp_seconds) {
  const int64_t tokens = drafts + 1;
  verify_[tokens] = running(verify_[tokens], verify_count_[tokens], verify_seconds);
  ++verify_count_[tokens];
  if (drafts == 0) return;
  if (accepted == drafts && drafts == ceiling_) ceiling_ = std::min(max_drafts_, 2 * ceiling_);
  mtp_step_ = running(mtp_step_, mtp_count_, mtp_seconds / static_cast<double>(drafts));
  ++mtp_count_;
  if (probed_last_) {
    // Judged on what the probe could have shown, not on its luck: one rejected draft of a
    // middling drafter must not slow the probing down.
    probe_could_have_paid_ = drafting_pays(updated_alpha(drafts, drafts));
  }
  alpha_ = updated_alpha(drafts, accepted);
  alpha_observations_ += std::min(drafts, accepted + 1);
}

double DraftLengthController::updated_alpha(int64_t drafts, int64_t accepted) const {
  // Drafts that had a chance: the accepted ones and the first rejected one (if any).
  const int64_t chances = std::min(drafts, accepted + 1);
  double alpha = alpha_;
  for (int64_t i = 0; i < chances; ++i) {
    const double outcome = i < accepted ? 1.0 : 0.0;
    // The prior counts as one observation (unlike the timings, the first outcome is not
    // provisional: one rejection must not make α 0 and stop all drafting at once).
    const double weight =
        std::max(kSmoothing, 1.0 / static_cast<double>(alpha_observations_ + i + 2));
    alpha += weight * (outcome - alpha);
  }
  return alpha;
}

}  // namespace nextn

// Asynchronous Population Based Training (Jaderberg et al. 2017): no
// generation barrier, so a slow member never holds the others up. The rules
// are in sherpa/algorithms.h.
//
// Every decision depends only on the trials handed out and ended so far, kept
// as per-member state updated in on_trial_end: the idle members in the order
// they go next, and the ranked members' latest scores. A suggestion never
// scans the results, so it costs O(population) whatever the study's length.
#include <algorithm>
#include <cmath>
#include <iterator>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "algorithms/pbt_internal.h"

#include "sherpa/algorithms.h"

namespace sherpa::pbt_internal {
namespace {

class AsyncPbtAlgorithm final : public Algorithm {
 public:
  AsyncPbtAlgorithm(const ParameterSpace& space, PopulationBasedTrainingOptions options)
      : options_(std::move(options)),
        explorer_(space, options_),
        members_(static_cast<size_t>(options_.population_size)),
        ranked_(RankOrder{true}) {
    // Members start in slot order.
    for (size_t slot = 0; slot < members_.size(); ++slot) MakeIdle(slot);
  }

  std::string_view name() const override { return "PopulationBasedTraining"; }

  StatusOr<Suggestion> suggest(const SuggestContext& context) override {
    // Nothing may change before a trial is certain: WAIT and DONE must
    // leave the state as it was (resume replays only the trials).
    if (idle_.empty()) {
      return exhausted_ == members_.size() ? Suggestion::Done() : Suggestion::Wait();
    }
    if (!direction_known_) {
      // Constant for the study; the ranking needs it before the first end.
      ranked_ = std::set<Ranked, RankOrder>(RankOrder{context.results.lower_is_better()});
      direction_known_ = true;
    }
    const size_t slot = std::get<2>(*idle_.begin());
    idle_.erase(idle_.begin());
    Member& member = members_[slot];

    Trial trial;
    const TrialRecord* loaded = nullptr;
    if (const std::optional<TrialId> source = PickSource(slot, context.rng)) {
      loaded = context.results.Find(*source);
      trial.parameters = explorer_.TunedValuesOf(loaded->trial().parameters);
      if (*source != member.checkpoint || member.restart) {
        explorer_.Explore(trial.parameters, context.rng);
      }
    } else {
      trial.parameters = context.space.Sample(context.rng);
    }
    const std::string load_from = loaded ? BookkeepingString(*loaded, kSaveToKey) : "";
    trial.parameters[std::string(kLineageKey)] =
        loaded ? BookkeepingString(*loaded, kLineageKey) + load_from + "," : "";
    trial.parameters[std::string(kLoadFromKey)] = load_from;
    trial.parameters[std::string(kSaveToKey)] = std::to_string(context.next_trial_id);
    trial.parameters[std::string(kGenerationKey)] = ++member.intervals;
    trial.parameters[std::string(kMemberKey)] = static_cast<int64_t>(slot);

    member.latest = context.next_trial_id;
    member.running = true;
    member_of_[context.next_trial_id] = slot;
    if (options_.num_generations > 0 && member.intervals >= options_.num_generations) {
      ++exhausted_;
    }
    return Suggestion::Of(std::move(trial));
  }

  void on_trial_end(const TrialRecord& trial) override {
    auto it = member_of_.find(trial.id());
    if (it == member_of_.end()) return;  // queued by the user, not a member's interval
    const size_t slot = it->second;
    Member& member = members_[slot];
    // A resubmitted interval ending after its member moved on changes nothing.
    if (member.latest != trial.id() || !member.running) return;
    member.running = false;
    member.restart = !(trial.status() == TrialStatus::kCompleted && trial.last() != nullptr);
    if (!member.restart) {
      if (member.checkpoint != 0) ranked_.erase(Ranked{member.score, member.checkpoint, slot});
      member.checkpoint = trial.id();
      member.score = trial.last()->objective;
      ranked_.insert(Ranked{member.score, member.checkpoint, slot});
    }
    MakeIdle(slot);
  }

  void on_trial_reopened(const TrialRecord& trial) override {
    auto it = member_of_.find(trial.id());
    if (it == member_of_.end()) return;
    Member& member = members_[it->second];
    if (member.latest != trial.id() || member.running) return;
    // The same interval runs again: its member is busy, not idle.
    idle_.erase(member.idle_key);
    member.running = true;
  }

 private:
  struct Member {
    int64_t intervals = 0;   // handed out so far: the generation of the latest
    TrialId latest = 0;      // the latest interval handed out
    bool running = false;    // `latest` has not ended
    bool restart = false;    // `latest` ended without a result to go on from
    TrialId checkpoint = 0;  // the last COMPLETED interval that reported; 0: none
    double score = 0;        // its last objective
    std::tuple<int64_t, uint64_t, size_t> idle_key;
  };

  struct Ranked {
    double objective;
    TrialId trial;
    size_t slot;
  };
  struct RankOrder {
    bool lower_is_better;
    bool operator()(const Ranked& a, const Ranked& b) const {
      if (a.objective != b.objective) {
        return lower_is_better ? a.objective < b.objective : a.objective > b.objective;
      }
      return a.trial < b.trial;
    }
  };

  void MakeIdle(size_t slot) {
    Member& member = members_[slot];
    if (options_.num_generations > 0 && member.intervals >= options_.num_generations) return;
    // Fewest intervals first, then the longest idle.
    member.idle_key = {member.intervals, idle_clock_++, slot};
    idle_.insert(member.idle_key);
  }

  // ceil(n * quantile_fraction), at most n / 2. The small epsilon keeps
  // 10 * 0.3 (3.0000000000000004 in binary) at 3.
  size_t QuantileSize(size_t n) const {
    const auto q =
        static_cast<size_t>(std::ceil(static_cast<double>(n) * options_.quantile_fraction - 1e-9));
    return std::min(q, n / 2);
  }

  TrialId RankedAt(size_t index) const {
    return std::next(ranked_.begin(), static_cast<std::ptrdiff_t>(index))->trial;
  }

  // The trial whose checkpoint the member's next interval loads, or nullopt
  // for a fresh start. Draws from `rng` only when a choice is random.
  std::optional<TrialId> PickSource(size_t slot, Rng& rng) const {
    const Member& member = members_[slot];
    const size_t n = ranked_.size();
    if (member.intervals == 0) return std::nullopt;
    if (member.restart) {
      if (n == 0) return std::nullopt;
      const size_t top = std::max<size_t>(1, QuantileSize(n));
      return RankedAt(std::uniform_int_distribution<size_t>(0, top - 1)(rng));
    }
    const auto own = ranked_.find(Ranked{member.score, member.checkpoint, slot});
    const auto position = static_cast<size_t>(std::distance(ranked_.begin(), own));
    if (options_.selection == PbtSelection::kTruncation) {
      const size_t q = QuantileSize(n);
      if (q == 0 || position < n - q) return member.checkpoint;
      return RankedAt(std::uniform_int_distribution<size_t>(0, q - 1)(rng));
    }
    if (n < 2) return member.checkpoint;
    size_t other = std::uniform_int_distribution<size_t>(0, n - 2)(rng);
    if (other >= position) ++other;  // anyone but the member itself
    // Ranked best first, so a strictly better score sits at a lower index
    // (an equal score at a lower index only won the tie-break).
    const auto rival = std::next(ranked_.begin(), static_cast<std::ptrdiff_t>(other));
    const bool strictly_better = other < position && rival->objective != member.score;
    return strictly_better ? rival->trial : member.checkpoint;
  }

  PopulationBasedTrainingOptions options_;
  Explorer explorer_;
  std::vector<Member> members_;
  std::unordered_map<TrialId, size_t> member_of_;  // trial id -> slot
  // Members with intervals left that are not running, in the order they go.
  std::set<std::tuple<int64_t, uint64_t, size_t>> idle_;
  uint64_t idle_clock_ = 0;
  size_t exhausted_ = 0;  // members handed their last interval
  // Members with a score, best first.
  std::set<Ranked, RankOrder> ranked_;
  bool direction_known_ = false;
};

}  // namespace

std::unique_ptr<Algorithm> MakeAsynchronousPbt(const ParameterSpace& space,
                                               PopulationBasedTrainingOptions options) {
  return std::make_unique<AsyncPbtAlgorithm>(space, std::move(options));
}

}  // namespace sherpa::pbt_internal

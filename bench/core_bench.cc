// Overhead of the in-process study loop, the hot path of every sherpa study:
// get_suggestion + add_observation + finalize, with an objective that costs
// nothing, so what is measured is the library alone.
//
//   BM_PbtLoop/<population>           PBT trials per second, whole studies
//   BM_PbtCostPerTrialAfter/<n>/<pop> cost of a trial once n trials finished
//   BM_RandomSearchLoop               the same loop without PBT's bookkeeping
//   BM_RandomSearchCostPerTrialAfter  isolates Results/Study from PBT
//   BM_WriteCsv/<trials>              Results::WriteCsv throughput
//
// Targets (see bench/README.md): >= 100,000 trials per second on one core,
// and a cost per trial that does not grow from 1,000 to 1,000,000 finished
// trials.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <streambuf>
#include <string>

#include <benchmark/benchmark.h>

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
#include <malloc.h>
#define SHERPA_BENCH_HAS_MALLINFO2 1
#else
#define SHERPA_BENCH_HAS_MALLINFO2 0
#endif

#include "sherpa/algorithms.h"
#include "sherpa/parameter.h"
#include "sherpa/status.h"
#include "sherpa/study.h"

namespace {

// Generations per study in BM_PbtLoop: long enough that most trials are
// children (parameters copied and perturbed, lineage extended), short enough
// that a population of 10,000 fits in memory.
constexpr int64_t kGenerationsPerStudy = 20;
// Trials timed after the prefill in the *CostPerTrialAfter benchmarks.
constexpr int64_t kBatch = 10'000;

void CheckOk(const sherpa::Status& status, const char* what) {
  if (status.ok()) return;
  // A library error invalidates the figures; stop loudly rather than report them.
  std::fprintf(stderr, "core_bench: %s: %s\n", what, status.ToString().c_str());
  std::abort();
}

sherpa::ParameterSpace BenchSpace() {
  sherpa::StatusOr<sherpa::ParameterSpace> space = sherpa::ParameterSpace::Create(
      {sherpa::Continuous("lr", {1e-5, 1e-1}, sherpa::Scale::kLog),
       sherpa::Discrete("layers", {1, 8}), sherpa::Ordinal("batch_size", {16, 32, 64, 128, 256})});
  CheckOk(space.status(), "parameter space");
  return *std::move(space);
}

std::unique_ptr<sherpa::Study> MakePbtStudy(int64_t population, int64_t generations) {
  sherpa::ParameterSpace space = BenchSpace();
  sherpa::PopulationBasedTrainingOptions options;
  options.population_size = population;
  options.num_generations = generations;
  sherpa::StatusOr<std::unique_ptr<sherpa::Algorithm>> algorithm =
      sherpa::PopulationBasedTraining(space, options);
  CheckOk(algorithm.status(), "PopulationBasedTraining");
  return std::make_unique<sherpa::Study>(space, *std::move(algorithm),
                                         /*lower_is_better=*/false, nullptr, /*seed=*/1);
}

std::unique_ptr<sherpa::Study> MakeRandomSearchStudy() {
  sherpa::StatusOr<std::unique_ptr<sherpa::Algorithm>> algorithm = sherpa::RandomSearch();
  CheckOk(algorithm.status(), "RandomSearch");
  return std::make_unique<sherpa::Study>(BenchSpace(), *std::move(algorithm),
                                         /*lower_is_better=*/false, nullptr, /*seed=*/1);
}

// A hash of the id, so that PBT's ranking is shuffled every generation like a
// real one without the objective costing anything (splitmix64's finalizer).
double Objective(sherpa::TrialId id) {
  auto z = static_cast<uint64_t>(id) + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1p-53;
}

// One trial, as a user's loop runs it. Trials finish in order, so PBT never
// answers WAIT. Returns false on DONE.
bool RunOneTrial(sherpa::Study& study) {
  sherpa::StatusOr<sherpa::Suggestion> suggestion = study.get_suggestion();
  CheckOk(suggestion.status(), "get_suggestion");
  if (suggestion->is_done()) return false;
  if (suggestion->is_wait()) {
    CheckOk(sherpa::InternalError("WAIT although no trial is running"), "get_suggestion");
  }
  const sherpa::Trial& trial = suggestion->trial();
  CheckOk(study.add_observation(trial, 1, Objective(trial.id)), "add_observation");
  CheckOk(study.finalize(trial), "finalize");
  return true;
}

void RunTrials(sherpa::Study& study, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    if (!RunOneTrial(study)) CheckOk(sherpa::InternalError("DONE too early"), "prefill");
  }
}

// Bytes the heap holds, to show what a study of that size costs. Resident
// memory would not do: freed memory stays resident, so it reports the largest
// study seen by any earlier benchmark. -1 without glibc's mallinfo2; 0 under
// AddressSanitizer, whose allocator glibc does not see.
double HeapBytesInUse() {
#if SHERPA_BENCH_HAS_MALLINFO2
  return static_cast<double>(mallinfo2().uordblks);
#else
  return -1;
#endif
}

// Hands the freed heap back to the system, so that a benchmark does not run
// on the fragments of the previous one's million-trial study: on glibc that
// alone made the same case three times slower in a full run than alone.
void ReleaseFreedMemory() {
#if SHERPA_BENCH_HAS_MALLINFO2
  malloc_trim(0);
#endif
}

void SetHeapCounters(benchmark::State& state, const sherpa::Study& study) {
  const double bytes = HeapBytesInUse();
  if (bytes <= 0) return;  // no mallinfo2, or a sanitizer owns the heap
  state.counters["heap_MiB"] = bytes / (1024.0 * 1024.0);
  state.counters["heap_B/trial"] = bytes / static_cast<double>(study.results().num_trials());
}

void SetTrialsPerSecond(benchmark::State& state) {
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

// One iteration = one trial. A study that reaches DONE is replaced with the
// timer paused, and the last one dies after the timed loop, so construction
// and destruction are never counted.
void BM_PbtLoop(benchmark::State& state) {
  const int64_t population = state.range(0);
  std::unique_ptr<sherpa::Study> study = MakePbtStudy(population, kGenerationsPerStudy);
  for (auto _ : state) {
    if (!RunOneTrial(*study)) {
      state.PauseTiming();
      study.reset();
      study = MakePbtStudy(population, kGenerationsPerStudy);
      state.ResumeTiming();
      RunOneTrial(*study);
    }
  }
  SetTrialsPerSecond(state);
  state.counters["generations"] = static_cast<double>(kGenerationsPerStudy);
}
BENCHMARK(BM_PbtLoop)->Arg(10)->Arg(100)->Arg(1'000)->Arg(10'000);

// Prefills `finished` trials untimed (num_generations = 0, so generations keep
// coming), then times kBatch more. Flat means: same time per trial for every
// `finished`.
void BM_PbtCostPerTrialAfter(benchmark::State& state) {
  const int64_t finished = state.range(0);
  const int64_t population = state.range(1);
  std::unique_ptr<sherpa::Study> study = MakePbtStudy(population, /*generations=*/0);
  RunTrials(*study, finished);
  for (auto _ : state) RunOneTrial(*study);
  SetTrialsPerSecond(state);
  state.counters["generation"] =
      static_cast<double>((finished + static_cast<int64_t>(state.iterations())) / population);
  SetHeapCounters(state, *study);
  study.reset();
  ReleaseFreedMemory();
}
// Population 100 stops at 100,000 finished trials: a member of generation g
// carries a lineage string of g - 1 ids, so 1,000,000 trials (10,000
// generations) would end with ~70 kB per trial, ~35 GB in all (README.md).
BENCHMARK(BM_PbtCostPerTrialAfter)
    ->Args({1'000, 100})
    ->Args({10'000, 100})
    ->Args({100'000, 100})
    ->Args({1'000, 10'000})
    ->Args({100'000, 10'000})
    ->Args({1'000'000, 10'000})
    ->Iterations(kBatch)
    ->Unit(benchmark::kNanosecond);

void BM_RandomSearchLoop(benchmark::State& state) {
  std::unique_ptr<sherpa::Study> study = MakeRandomSearchStudy();
  for (auto _ : state) RunOneTrial(*study);
  SetTrialsPerSecond(state);
}
BENCHMARK(BM_RandomSearchLoop);

void BM_RandomSearchCostPerTrialAfter(benchmark::State& state) {
  std::unique_ptr<sherpa::Study> study = MakeRandomSearchStudy();
  RunTrials(*study, state.range(0));
  for (auto _ : state) RunOneTrial(*study);
  SetTrialsPerSecond(state);
  SetHeapCounters(state, *study);
  study.reset();
  ReleaseFreedMemory();
}
BENCHMARK(BM_RandomSearchCostPerTrialAfter)
    ->Arg(1'000)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Iterations(kBatch);

// Counts bytes and throws them away: the cost of formatting, not of a disk.
class CountingBuffer : public std::streambuf {
 public:
  int64_t bytes() const { return bytes_; }

 protected:
  int_type overflow(int_type c) override {
    if (!traits_type::eq_int_type(c, traits_type::eof())) ++bytes_;
    return traits_type::not_eof(c);
  }
  std::streamsize xsputn(const char*, std::streamsize n) override {
    bytes_ += n;
    return n;
  }

 private:
  int64_t bytes_ = 0;
};

// A PBT study of `trials` trials at population 100: rows carry the four
// bookkeeping columns, lineage included.
void BM_WriteCsv(benchmark::State& state) {
  const int64_t trials = state.range(0);
  std::unique_ptr<sherpa::Study> study = MakePbtStudy(100, /*generations=*/0);
  RunTrials(*study, trials);
  int64_t bytes = 0;
  for (auto _ : state) {
    CountingBuffer buffer;
    std::ostream out(&buffer);
    study->results().WriteCsv(out);
    bytes += buffer.bytes();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(study->results().num_rows()));
  state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_WriteCsv)->Arg(10'000)->Unit(benchmark::kMillisecond);

}  // namespace

// PB2 against PBT on the toy problem of the PBT paper, at a population of 4:
// the small-population regime PB2 was designed for (Parker-Holder et al.
// 2020). Both get the same seeds, generations and gradient steps.

#include "toy_pbt/toy_problem.h"

#include <cstdint>
#include <cstdio>

#include <gtest/gtest.h>

namespace toy_pbt {
namespace {

TEST(ToyProblemTest, Pb2BeatsPbtAtPopulationFourOnMostSeeds) {
  constexpr int kSeeds = 10;
  int pb2_wins = 0;
  double pbt_sum = 0, pb2_sum = 0;
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    ToyOptions options;
    options.seed = seed;
    options.population = 4;
    sherpa::StatusOr<ToyRun> pbt = RunToyPbt(options);
    ASSERT_TRUE(pbt.ok()) << pbt.status();
    sherpa::StatusOr<ToyRun> pb2 = RunToyPb2(options);
    ASSERT_TRUE(pb2.ok()) << pb2.status();
    const double pbt_q = pbt->best_q.back(), pb2_q = pb2->best_q.back();
    std::printf("seed %llu: PBT Q = %.6f, PB2 Q = %.6f\n", static_cast<unsigned long long>(seed),
                pbt_q, pb2_q);
    pb2_wins += pb2_q > pbt_q;
    pbt_sum += pbt_q;
    pb2_sum += pb2_q;
    EXPECT_LE(pb2_q, BestPossibleQ(options) + 1e-12);
  }
  std::printf("mean: PBT %.6f, PB2 %.6f; PB2 better on %d of %d seeds\n", pbt_sum / kSeeds,
              pb2_sum / kSeeds, pb2_wins, kSeeds);
  EXPECT_GE(pb2_wins, 7) << "PB2 better on " << pb2_wins << " of " << kSeeds << " seeds";
  EXPECT_GT(pb2_sum, pbt_sum);
}

}  // namespace
}  // namespace toy_pbt

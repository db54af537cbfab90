package dev.octet.tune;

import dev.octet.dsl.spec.Gemm;
import dev.octet.dsl.spec.ParameterTable;
import dev.octet.dsl.spec.Projection;
import dev.octet.dsl.spec.Role;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Chooses, from the calibration's measurements, the cheapest candidate (by a {@link Pricing}: measured kernel rates,
 * or {@link SpeedRanking}'s fixed ranking) per GEMM and role
 * whose GEMM relative error stays within the bound on every layer that runs in FP8; equally cheap candidates go
 * to the one with the smaller worst error. A layer with an operand that no candidate brings within the bound
 * stays in BF16, and so does a layer whose operand misses the bound with every candidate its role could share.
 */
public final class RecipeTuner {
    /**
     * The default bound on an operand's GEMM relative error. Plain E4M3 rounding (3 mantissa bits) of well-scaled
     * values costs about 2–3% in a single operand; 5% admits every granularity that keeps values in range and
     * refuses the ones where outliers crush a tile's other values towards zero (see docs/decisions.md).
     */
    public static final double DEFAULT_BOUND = 0.05;

    private RecipeTuner() {}

    /** With Octet's fixed ranking. */
    public static TuneDecision decide(List<OperandMeasurements> measured, double bound) {
        return decide(measured, bound, SpeedRanking.FIXED);
    }

    public static TuneDecision decide(List<OperandMeasurements> measured, double bound, Pricing pricing) {
        List<ParameterTable.Linear> linears = measured.stream().map(m -> m.id().linear()).distinct().toList();
        Map<ParameterTable.Linear, OperandMeasurements> unmet = new LinkedHashMap<>();
        for (OperandMeasurements m : measured) {
            boolean met = m.candidates().stream().anyMatch(c -> m.fits(c) && m.of(c).gemmRelativeError() <= bound);
            if (!met) {
                unmet.putIfAbsent(m.id().linear(), m);
            }
        }
        while (true) {
            Set<Projection> projections = new TreeSet<>();
            Set<Integer> layers = new TreeSet<>();
            cover(unmet.keySet(), linears, projections, layers);
            Map<Gemm, Map<Role, OperandChoice>> choices = new EnumMap<>(Gemm.class);
            boolean moreUnmet = false;
            for (Gemm gemm : Gemm.values()) {
                Map<Role, OperandChoice> byRole = new EnumMap<>(Role.class);
                for (Role role : gemm.operands()) {
                    List<OperandMeasurements> ops = measured.stream()
                            .filter(m -> m.id().gemm() == gemm && m.id().role() == role)
                            .filter(m -> !inBf16(m.id().linear(), projections, layers)).toList();
                    if (ops.isEmpty()) {
                        continue;
                    }
                    List<TuneCandidate> ranked = ranked(gemm, role, ops, pricing);
                    Optional<TuneCandidate> met = ranked.stream().filter(c -> worstError(ops, c) <= bound).findFirst();
                    TuneCandidate chosen;
                    if (met.isPresent()) {
                        chosen = met.get();
                    } else {
                        // No candidate meets every layer at once: keep the one that meets the most, the rest go to BF16.
                        chosen = ranked.stream().max(Comparator.comparingLong((TuneCandidate c) -> ops.stream()
                                .filter(m -> m.of(c).gemmRelativeError() <= bound).count())
                                .thenComparing(Comparator.comparingInt(ranked::indexOf).reversed())).orElseThrow();
                        for (OperandMeasurements m : ops) {
                            if (m.of(chosen).gemmRelativeError() > bound) {
                                unmet.putIfAbsent(m.id().linear(), m);
                                moreUnmet = true;
                            }
                        }
                    }
                    int at = ranked.indexOf(chosen);
                    Optional<TuneCandidate> cheaperMiss = at > 0 ? Optional.of(ranked.get(at - 1)) : Optional.empty();
                    byRole.put(role, new OperandChoice(chosen, ops, cheaperMiss));
                }
                choices.put(gemm, byRole);
            }
            if (!moreUnmet) {
                return new TuneDecision(bound, choices, projections, layers, unmet, pricing);
            }
        }
    }

    /** The candidates every operand can run, cheapest first; ties to the smaller worst error, then the list order. */
    static List<TuneCandidate> ranked(Gemm gemm, Role role, List<OperandMeasurements> ops, Pricing pricing) {
        List<TuneCandidate> all = TuneCandidate.forOperand(gemm, role);
        return all.stream().filter(c -> ops.stream().allMatch(m -> m.fits(c)))
                .sorted(Comparator.comparingDouble((TuneCandidate c) -> pricing.cost(gemm, role, c))
                        .thenComparingDouble(c -> worstError(ops, c))
                        .thenComparingInt(all::indexOf))
                .toList();
    }

    static double worstError(List<OperandMeasurements> ops, TuneCandidate c) {
        double worst = 0;
        for (OperandMeasurements m : ops) {
            worst = Math.max(worst, m.of(c).gemmRelativeError());
        }
        return worst;
    }

    /**
     * Names the layers in {@code unmet} as the bf16 list can: a layer outside the repeated block by its projection;
     * the others by their projections or by their layer indices, whichever leaves more layers in FP8.
     */
    private static void cover(Set<ParameterTable.Linear> unmet, List<ParameterTable.Linear> linears, Set<Projection> projections,
                              Set<Integer> layers) {
        for (ParameterTable.Linear l : unmet) {
            if (l.layer() < 0) {
                projections.add(l.projection());
            }
        }
        Set<Projection> byProjection = new LinkedHashSet<>();
        Set<Integer> byLayer = new LinkedHashSet<>();
        for (ParameterTable.Linear l : unmet) {
            if (l.layer() >= 0 && !projections.contains(l.projection())) {
                byProjection.add(l.projection());
                byLayer.add(l.layer());
            }
        }
        long lostByProjection = linears.stream().filter(l -> !projections.contains(l.projection())
                && byProjection.contains(l.projection())).count();
        long lostByLayer = linears.stream().filter(l -> !projections.contains(l.projection())
                && l.layer() >= 0 && byLayer.contains(l.layer())).count();
        if (lostByLayer < lostByProjection) {
            layers.addAll(byLayer);
        } else {
            projections.addAll(byProjection);
        }
    }

    private static boolean inBf16(ParameterTable.Linear l, Set<Projection> projections, Set<Integer> layers) {
        return projections.contains(l.projection()) || (l.layer() >= 0 && layers.contains(l.layer()));
    }

    /** The measured linear layers, in the order the calibration first ran them. */
    public static List<ParameterTable.Linear> linears(List<OperandMeasurements> measured) {
        return new ArrayList<>(measured.stream().map(m -> m.id().linear()).distinct().toList());
    }
}

package dev.octet.numerics;

import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.ParameterTable;
import java.util.ArrayList;
import java.util.List;

/**
 * A model's initial weights as a function of the seed, defined so that any element can be computed on its own:
 * the CPU fills its parameter store from it, and the GPU computes the same values in place on the device
 * without a host copy.
 *
 * <p>GPT-2's initialisation: matrices N(0, 0.02), the output projections of each block ({@code o},
 * {@code down}) scaled by 1/sqrt(2·layers) so the residual stream does not grow with depth; norm weights 1;
 * biases 0. The Gaussians are Box–Muller over one SplitMix64 stream ({@link java.util.SplittableRandom} with the
 * seed): element {@code i} of the matrices taken in parameter order uses the stream's draws {@code 2i} and
 * {@code 2i + 1}, and draw {@code n} is {@code mix64(seed + (n + 1)·γ)}, so no element depends on another.
 */
public final class InitialWeights {
    /** SplitMix64's increment, the golden ratio's fraction in 64 bits ({@code SplittableRandom}'s default gamma). */
    public static final long GAMMA = 0x9e3779b97f4a7c15L;

    private InitialWeights() {}

    /** How one parameter starts. */
    public sealed interface Fill {
        record Zeros() implements Fill {}

        record Ones() implements Fill {}

        /**
         * N(0, std²), element {@code i} from draws {@code firstDraw + 2i} and {@code firstDraw + 2i + 1};
         * {@code residual} (an output projection of a model with {@code layers} blocks): std is 0.02/sqrt(2·layers)
         * instead of 0.02.
         */
        record Gaussian(boolean residual, int layers, long firstDraw) implements Fill {
            /** As the device computes it too: one correctly rounded sqrt and divide. */
            public double std() {
                return 0.02 * (residual ? 1.0 / Math.sqrt(2.0 * layers) : 1.0);
            }
        }
    }

    /** A parameter with its fill. */
    public record Initial(ParameterTable.Param param, Fill fill) {}

    /** Every parameter of {@code model} in {@link ParameterTable} order, with how it starts. */
    public static List<Initial> of(ModelSpec model) {
        int layers = model.config().layers();
        List<Initial> out = new ArrayList<>();
        long draw = 0;
        for (ParameterTable.Param p : ParameterTable.of(model).params()) {
            String name = p.name();
            Fill fill;
            if (name.endsWith(".bias")) {
                fill = new Fill.Zeros();
            } else if (p.shape().size() == 1) {
                fill = new Fill.Ones();
            } else {
                boolean residual = name.endsWith(".o.weight") || name.endsWith(".down.weight");
                fill = new Fill.Gaussian(residual, layers, draw);
                draw += 2 * p.size();
            }
            out.add(new Initial(p, fill));
        }
        return out;
    }

    /** The values of one parameter as {@code init} says it starts for {@code seed}. */
    public static float[] values(long seed, Initial init) {
        float[] values = new float[Math.toIntExact(init.param().size())];
        switch (init.fill()) {
            case Fill.Zeros z -> { }
            case Fill.Ones o -> java.util.Arrays.fill(values, 1f);
            case Fill.Gaussian g -> {
                for (int i = 0; i < values.length; i++) {
                    values[i] = gaussian(seed, g, i);
                }
            }
        }
        return values;
    }

    /** Element {@code index} of a Gaussian fill. */
    public static float gaussian(long seed, Fill.Gaussian fill, long index) {
        long draw = fill.firstDraw() + 2 * index;
        double u = 1.0 - unitDouble(seed, draw);
        double v = unitDouble(seed, draw + 1);
        return (float) (Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v) * fill.std());
    }

    /** Draw {@code n} of the stream as SplittableRandom.nextDouble returns it: 53 random bits in [0, 1). */
    static double unitDouble(long seed, long n) {
        return (mix64(seed + (n + 1) * GAMMA) >>> 11) * 0x1.0p-53;
    }

    /** SplitMix64's output function (Stafford's variant 13). */
    static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}

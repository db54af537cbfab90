package dev.octet.numerics;

import dev.octet.compiler.ExamplePrograms;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.ModelSpec;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

class InitialWeightsTest {
    /** Any element computed on its own equals the sequential SplittableRandom + Box–Muller stream it is defined by. */
    @Test
    void everyElementEqualsTheSequentialStream() {
        ModelSpec model = tiny();
        long seed = 1234;
        SplittableRandom random = new SplittableRandom(seed);
        double residualScale = 1.0 / Math.sqrt(2.0 * model.config().layers());
        int gaussians = 0;
        for (InitialWeights.Initial init : InitialWeights.of(model)) {
            if (!(init.fill() instanceof InitialWeights.Fill.Gaussian g)) {
                continue;
            }
            gaussians++;
            String name = init.param().name();
            double std = 0.02 * (name.endsWith(".o.weight") || name.endsWith(".down.weight") ? residualScale : 1.0);
            assertEquals(std, g.std(), 0.0, name);
            for (long i = 0; i < init.param().size(); i++) {
                double u = 1.0 - random.nextDouble();
                double v = random.nextDouble();
                float expected = (float) (Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v) * std);
                assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(InitialWeights.gaussian(seed, g, i)),
                        name + "[" + i + "]");
            }
        }
        assertEquals(true, gaussians > 2, "the tiny model has matrices");
    }

    @Test
    void normsStartAtOneBiasesAtZeroAndDrawsFollowParameterOrder() {
        List<InitialWeights.Initial> inits = InitialWeights.of(tiny());
        long draw = 0;
        for (InitialWeights.Initial init : inits) {
            String name = init.param().name();
            if (name.endsWith(".bias")) {
                assertInstanceOf(InitialWeights.Fill.Zeros.class, init.fill(), name);
            } else if (init.param().shape().size() == 1) {
                assertInstanceOf(InitialWeights.Fill.Ones.class, init.fill(), name);
            } else {
                assertEquals(draw, ((InitialWeights.Fill.Gaussian) init.fill()).firstDraw(), name);
                draw += 2 * init.param().size();
            }
        }
    }

    private static ModelSpec tiny() {
        Program p = ExamplePrograms.loadWithRecipe("tiny.octet", "infir2");
        return p.model("tiny").orElseThrow();
    }
}

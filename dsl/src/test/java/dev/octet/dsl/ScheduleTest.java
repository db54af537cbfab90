package dev.octet.dsl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.octet.dsl.spec.Schedule;
import org.junit.jupiter.api.Test;

/** Learning rates at chosen steps, worked out by hand from the schedule definitions. */
class ScheduleTest {
    private static final double EPS = 1e-12;

    @Test
    void cosineWarmsUpLinearlyThenDecaysToMinLrAtTheLastStep() {
        Schedule s = new Schedule.Cosine(10, 0.1);
        assertEquals(0.1, s.learningRate(1.0, 0, 111), EPS);
        assertEquals(1.0, s.learningRate(1.0, 9, 111), EPS);
        assertEquals(1.0, s.learningRate(1.0, 10, 111), EPS);
        // Halfway through the decay (span 111 - 10 - 1 = 100 steps): cos(pi/2) = 0.
        assertEquals(0.55, s.learningRate(1.0, 60, 111), EPS);
        assertEquals(0.1, s.learningRate(1.0, 110, 111), EPS);
    }

    @Test
    void wsdHoldsThePeakThenDecaysOverTheLastFraction() {
        Schedule s = new Schedule.WarmupStableDecay(0, 0.2, 0.0);
        assertEquals(2.0, s.learningRate(2.0, 0, 100), EPS);
        assertEquals(2.0, s.learningRate(2.0, 79, 100), EPS);
        assertEquals(1.9, s.learningRate(2.0, 80, 100), EPS);
        assertEquals(1.0, s.learningRate(2.0, 89, 100), EPS);
        assertEquals(0.0, s.learningRate(2.0, 99, 100), EPS);
    }

    @Test
    void constantOnlyWarmsUp() {
        Schedule s = new Schedule.Constant(4);
        assertEquals(0.75, s.learningRate(3.0, 0, 100), EPS);
        assertEquals(3.0, s.learningRate(3.0, 3, 100), EPS);
        assertEquals(3.0, s.learningRate(3.0, 99, 100), EPS);
        assertEquals(3.0, new Schedule.Constant(0).learningRate(3.0, 0, 100), EPS);
    }
}

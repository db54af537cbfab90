package dev.octet.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class TrainingProgressTest {

    @Test
    void withoutATerminalPrintsPlainLinesEveryNSteps() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
                TrainingProgress progress = TrainingProgress.of(TrainingProgress.Display.PLAIN, out, 0, 25, 10)) {
            for (int step = 1; step <= 25; step++) {
                progress.update(step, 5.0 - step * 0.1, 12_345);
            }
        }
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertFalse(text.contains("\r") || text.contains("\u001b"), "no carriage returns or escape codes");
        List<String> lines = text.lines().toList();
        assertEquals(3, lines.size(), text);
        assertTrue(lines.get(0).startsWith("step 10/25 (40%) | loss 4.0000 | 12.3k tok/s | elapsed "), lines.get(0));
        assertTrue(lines.get(1).startsWith("step 20/25 (80%)"), lines.get(1));
        assertTrue(lines.get(2).startsWith("step 25/25 (100%)") && lines.get(2).contains("eta 0:00:00"), lines.get(2));
    }

    @Test
    void underTestsStandardOutputIsNotATerminal() {
        // Surefire pipes the forked JVM's output, like CI does, so the plain display is chosen.
        assertEquals(TrainingProgress.Display.PLAIN, TrainingProgress.Display.forStandardOutput());
    }

    @Test
    void barDisplayShowsStepLossAndThroughput() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
                TrainingProgress progress = TrainingProgress.of(TrainingProgress.Display.BAR, out, 100, 200, 10)) {
            progress.update(150, 3.25, 2_000_000);
        }
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("150/200"), text);
        assertTrue(text.contains("loss 3.2500 | 2.00M tok/s"), text);
    }

    @Test
    void memoryOnceMeasuredIsShownOnEveryLaterLine() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
                TrainingProgress progress = TrainingProgress.of(TrainingProgress.Display.PLAIN, out, 0, 3, 1)) {
            progress.update(1, 4.0, 100);
            progress.showMemory(5_690_000_000L);
            progress.update(2, 3.9, 100);
            progress.update(3, 3.8, 100);
        }
        List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
        assertFalse(lines.get(0).contains("mem"), lines.get(0));
        assertTrue(lines.get(1).contains("| 100 tok/s | mem 5.3 GiB | elapsed "), lines.get(1));
        assertTrue(lines.get(2).contains("mem 5.3 GiB"), lines.get(2));
    }

    @Test
    void barDisplayShowsMemory() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
                TrainingProgress progress = TrainingProgress.of(TrainingProgress.Display.BAR, out, 0, 10, 1)) {
            progress.showMemory(300L * 1024 * 1024);
            progress.update(5, 3.25, 1_000);
        }
        assertTrue(bytes.toString(StandardCharsets.UTF_8).contains("mem 300 MiB"));
    }

    @Test
    void memoryIsInMibBelowAGibAndInGibFromThere() {
        assertEquals("0 MiB", TrainingProgress.bytes(0));
        assertEquals("1023 MiB", TrainingProgress.bytes(1023L * 1024 * 1024));
        assertEquals("1.0 GiB", TrainingProgress.bytes(1024L * 1024 * 1024));
        assertEquals("139.8 GiB", TrainingProgress.bytes(150_100_000_000L));
    }
}

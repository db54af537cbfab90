package dev.octet.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.train.RunManifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A report of two small synthetic runs, a BF16 one and an FP8 one, and the errors of a bad run directory. */
class HtmlReportTest {
    /** A run of 20 steps: metrics every 5 with eval_loss at 9 and 19, FP8 health at 0 and 10 when {@code fp8}. */
    static Path syntheticRun(Path dir, String recipe, boolean fp8) throws IOException {
        Files.createDirectories(dir);
        new RunManifest("tiny_pretrain", "tiny", recipe, recipe + " recipe description", "cpu", 20, 512).writeTo(dir);
        StringBuilder metrics = new StringBuilder();
        for (int step = 0; step < 20; step += 5) {
            double loss = 8 - step * 0.1 - (fp8 ? 0.01 : 0);
            metrics.append(String.format(java.util.Locale.ROOT,
                    "{\"step\":%d,\"loss\":%.3f,\"lr\":0.001,\"grad_norm\":1.0,\"tokens_per_s\":%d,\"elapsed_s\":%d,"
                            + "\"skipped_steps\":0,\"heap_mb\":%d%s}%n",
                    step, loss, fp8 ? 600 : 500, step, 100 + step, step == 10 ? ",\"eval_loss\":7.2" : ""));
        }
        metrics.append("{\"step\":19,\"loss\":NaN,\"lr\":0.001,\"grad_norm\":NaN,\"tokens_per_s\":510,\"elapsed_s\":19,"
                + "\"skipped_steps\":1,\"skipped_tensor\":\"loss\"}\n");
        metrics.append("{\"step\":19,\"loss\":6.2,\"lr\":0,\"grad_norm\":0,\"tokens_per_s\":510,\"elapsed_s\":20,\"eval_loss\":6.5,"
                + "\"skipped_steps\":1}\n");
        Files.writeString(dir.resolve("metrics.jsonl"), metrics);
        if (fp8) {
            StringBuilder health = new StringBuilder();
            for (int step = 0; step <= 10; step += 10) {
                health.append("{\"step\":").append(step).append(",\"tensors\":[")
                        .append(tensor("layers.0.attention.q fprop activations", 30 - step * 0.1, 0.0))
                        .append(',').append(tensor("layers.0.swiglu.down wgrad gradients", 25 - step * 0.2, 0.001))
                        .append(',').append(tensor("layers.0.swiglu.up fprop weights", "Infinity", 0.0))
                        .append("]}\n");
            }
            Files.writeString(dir.resolve("fp8_health.jsonl"), health);
        }
        return dir;
    }

    private static String tensor(String name, Object snr, double saturated) {
        return "{\"tensor\":\"" + name + "\",\"layer\":\"" + name.split(" ")[0] + "\",\"gemm\":\"fprop\",\"operand\":\"activations\","
                + "\"elements\":1024,\"amax\":3.5,\"saturated\":" + saturated + ",\"flushed\":0.0001,\"snr_db\":" + snr + "}";
    }

    @Test
    void writesAPageWithSvgChartsThatListsBothRuns(@TempDir Path dir) throws Exception {
        Path bf16 = syntheticRun(dir.resolve("tiny-bf16"), "bf16", false);
        Path fp8 = syntheticRun(dir.resolve("tiny-infir2"), "infir2", true);
        Path out = dir.resolve("report");
        Path index = HtmlReport.write(HtmlReport.load(List.of(bf16, fp8)), out);

        assertEquals(out.resolve("index.html"), index);
        String html = Files.readString(index);
        for (String s : List.of("tiny-bf16", "tiny-infir2", "bf16 recipe description", "infir2 recipe description",
                "layers.0.swiglu.down wgrad gradients", "Final figures")) {
            assertTrue(html.contains(s), s);
        }
        Matcher images = Pattern.compile("<img src=\"([^\"]+)\"").matcher(html);
        List<String> referenced = images.results().map(m -> m.group(1)).toList();
        assertEquals(List.of("loss.svg", "throughput.svg", "memory.svg", "run2-snr.svg", "run2-saturation.svg"), referenced);
        for (String file : referenced) {
            String svg = Files.readString(out.resolve(file));
            assertTrue(svg.length() > 1000 && svg.contains("<svg") && svg.strip().endsWith("</svg>"), file);
        }
        // The loss chart has a legend entry per run and kind of loss; nothing is fetched from elsewhere.
        String loss = Files.readString(out.resolve("loss.svg"));
        assertTrue(loss.contains("tiny-bf16 train") && loss.contains("tiny-infir2 eval"), "legend");
        assertTrue(!html.contains("http://") && !html.contains("https://"), "a self-contained page");
        // The final figures: mean of the logged finite losses, the last eval loss, the skipped step and the worst SNR.
        assertTrue(html.contains("6.5000"), html);
        assertTrue(html.contains("23.0 dB<br><code>layers.0.swiglu.down wgrad gradients</code>"), html);
    }

    @Test
    void aTornLastLineIsReadUpToTheLastWholeLineAndADamagedOneIsNamed(@TempDir Path dir) throws Exception {
        Path run = Files.createDirectories(dir.resolve("torn"));
        Path metrics = run.resolve("metrics.jsonl");
        Files.writeString(metrics, "{\"step\":0,\"loss\":9.5}\n{\"step\":1,\"loss\":9.0}\n{\"step\":2,\"lo");
        RunHistory history = RunHistory.load(run, "torn");
        assertEquals(List.of(new Point(0, 9.5), new Point(1, 9.0)), history.series("loss"));
        Files.writeString(metrics, "{\"step\":0,\"loss\":9.5}\n{\"step\":1,\"lo\n{\"step\":2,\"loss\":8.0}\n");
        ReportException e = assertThrows(ReportException.class, () -> RunHistory.load(run, "torn"));
        assertTrue(e.getMessage().startsWith(metrics + ":2: not a JSON record"), e.getMessage());
        Files.writeString(metrics, "{\"step\":0,\"loss\":9.5}\n{\"step\":\"one\",\"loss\":9.0}\n");
        e = assertThrows(ReportException.class, () -> RunHistory.load(run, "torn"));
        assertEquals(metrics + ":2: a record without a whole-number \"step\"", e.getMessage());
    }

    @Test
    void aMissingOrEmptyRunDirectoryIsAOneLineError(@TempDir Path dir) throws IOException {
        ReportException missing = assertThrows(ReportException.class, () -> HtmlReport.load(List.of(dir.resolve("nope"))));
        assertEquals(dir.resolve("nope") + ": no such run directory", missing.getMessage());
        ReportException empty = assertThrows(ReportException.class, () -> HtmlReport.load(List.of(dir)));
        assertTrue(empty.getMessage().contains("no metrics.jsonl"), empty.getMessage());
        Files.writeString(dir.resolve("metrics.jsonl"), "{\"step\":0,\"loss\":1}\n{oops\n");
        ReportException bad = assertThrows(ReportException.class, () -> HtmlReport.load(List.of(dir)));
        assertTrue(bad.getMessage().startsWith(dir.resolve("metrics.jsonl") + ":2: "), bad.getMessage());
    }
}

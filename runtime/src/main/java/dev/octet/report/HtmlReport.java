package dev.octet.report;

import dev.octet.train.RunManifest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * Writes {@code OUT/index.html} and the SVG charts it shows: loss curves of all runs on one plot, throughput,
 * memory where recorded, FP8 health per run, and a table of final figures. Static files only: the page works
 * opened from disk, with nothing fetched.
 */
public final class HtmlReport {
    public static final String INDEX = "index.html";
    /** The look of Octet's pages, shared by the training report and the tuning report. */
    static final String STYLE = """
            <style>
            body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 960px; color: #222; }
            table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
            th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; }
            th:first-child, td:first-child, td.text { text-align: left; }
            img { max-width: 100%; border: 1px solid #eee; margin: 0.5em 0; }
            code { font-size: 0.9em; } .swatch { display: inline-block; width: 0.9em; height: 0.9em; margin-right: 0.3em; }
            </style>""";

    private HtmlReport() {}

    /** Loads each run directory; runs whose directories share a name are told apart by their parent's. */
    public static List<RunHistory> load(List<Path> dirs) throws ReportException {
        Map<String, Integer> seen = new HashMap<>();
        for (Path d : dirs) {
            seen.merge(baseName(d), 1, Integer::sum);
        }
        List<RunHistory> runs = new ArrayList<>();
        for (Path d : dirs) {
            String name = baseName(d);
            Path parent = d.toAbsolutePath().normalize().getParent();
            if (seen.get(name) > 1 && parent != null && parent.getFileName() != null) {
                name = parent.getFileName() + "/" + name;
            }
            runs.add(RunHistory.load(d, name));
        }
        return runs;
    }

    /** Writes the page and its charts into {@code out}; returns the page. */
    public static Path write(List<RunHistory> runs, Path out) throws IOException {
        if (runs.isEmpty()) {
            throw new IllegalArgumentException("a report needs at least one run");
        }
        Files.createDirectories(out);
        StringBuilder html = new StringBuilder();
        html.append("""
                <!DOCTYPE html>
                <html lang="en"><head><meta charset="utf-8"><title>Octet training report</title>
                """).append(STYLE).append("""
                </head><body>
                <h1>Octet training report</h1>
                """);
        html.append("<h2>Runs</h2>\n<table><tr><th>run</th><th>training</th><th>model</th><th>recipe</th><th>backend</th>"
                + "<th>tokens/step</th><th>directory</th></tr>\n");
        for (int i = 0; i < runs.size(); i++) {
            RunHistory r = runs.get(i);
            String colour = String.format(Locale.ROOT, "#%06x", ReportCharts.colour(i).getRGB() & 0xffffff);
            html.append("<tr><td><span class=\"swatch\" style=\"background:").append(colour).append("\"></span>")
                    .append(escape(r.name())).append("</td>");
            if (r.manifest().isPresent()) {
                RunManifest m = r.manifest().get();
                html.append(cell(m.training())).append(cell(m.model()))
                        .append("<td class=\"text\"><b>").append(escape(m.recipe())).append("</b>: ")
                        .append(escape(m.recipeDescription())).append("</td>").append(cell(m.backend()))
                        .append("<td>").append(m.tokensPerStep()).append("</td>");
            } else {
                html.append("<td class=\"text\" colspan=\"5\">no run.json: the run predates manifests</td>");
            }
            html.append(cell(r.dir().toString())).append("</tr>\n");
        }
        html.append("</table>\n");

        html.append("<h2>Final figures</h2>\n<table><tr><th>run</th><th>recipe</th><th>steps</th><th>train loss<br>(last 10 logged)</th>"
                + "<th>eval loss</th><th>tokens/s</th><th>elapsed</th><th>peak heap</th><th>peak device memory</th><th>skipped steps</th>"
                + "<th>worst FP8 SNR</th><th>max saturated</th></tr>\n");
        for (RunHistory r : runs) {
            FinalFigures f = FinalFigures.of(r);
            html.append("<tr>").append(cell(r.name())).append(cell(r.recipe()))
                    .append("<td>").append(f.steps()).append("</td>")
                    .append(number(f.trainLoss(), "%.4f")).append(number(f.evalLoss(), "%.4f"))
                    .append(number(f.tokensPerSecond(), "%.0f")).append(number(f.elapsedSeconds(), "%.1f s"))
                    .append(number(f.peakHeapMb(), "%.0f MB")).append(number(f.peakDeviceMb(), "%.0f MB")).append("<td>").append(f.skippedSteps()).append("</td>")
                    .append(f.worstSnr().map(h -> "<td>" + String.format(Locale.ROOT, "%.1f dB", h.snrDb())
                            + "<br><code>" + escape(h.tensor()) + "</code></td>").orElse("<td>–</td>"))
                    .append(number(f.maxSaturated().stream().map(x -> 100 * x).findFirst(), "%.3f %%"))
                    .append("</tr>\n");
        }
        html.append("</table>\n");

        chart(html, out, "loss.svg", ReportCharts.loss(runs), "Training and held-out loss of every run");
        chart(html, out, "throughput.svg", ReportCharts.perRun(runs, "tokens_per_s", "Throughput", "tokens / s"),
                "Throughput (tokens per second, averaged since the run started)");
        if (runs.stream().anyMatch(r -> !r.series("heap_mb").isEmpty())) {
            chart(html, out, "memory.svg", ReportCharts.perRun(runs, "heap_mb", "Memory", "JVM heap in use (MB)"),
                    "Memory (JVM heap in use at logged steps)");
        }
        if (runs.stream().anyMatch(r -> !r.series("device_mem_mb").isEmpty())) {
            chart(html, out, "device-memory.svg", ReportCharts.perRun(runs, "device_mem_mb", "Device memory",
                    "GPU memory in use (MB)"), "Device memory (GPU runs: total − free at logged steps)");
        }

        html.append("<h2>FP8 health</h2>\n");
        for (int i = 0; i < runs.size(); i++) {
            RunHistory r = runs.get(i);
            html.append("<h3>").append(escape(r.name())).append(" (").append(escape(r.recipe())).append(")</h3>\n");
            if (r.health().isEmpty()) {
                html.append("<p>No FP8 health recorded: every GEMM ran in BF16, or the run measured none.</p>\n");
                continue;
            }
            chart(html, out, "run" + (i + 1) + "-snr.svg", ReportCharts.snr(r), "FP8 SNR of " + r.name());
            chart(html, out, "run" + (i + 1) + "-saturation.svg", ReportCharts.saturation(r), "FP8 saturation of " + r.name());
            healthTable(html, r);
        }
        html.append("</body></html>\n");
        Path index = out.resolve(INDEX);
        Files.writeString(index, html, StandardCharsets.UTF_8);
        return index;
    }

    private static void healthTable(StringBuilder html, RunHistory r) {
        long last = r.health().stream().mapToLong(HealthSample::step).max().orElseThrow();
        List<HealthSample> atLast = r.health().stream().filter(h -> h.step() == last)
                .sorted(Comparator.comparingDouble(HealthSample::snrDb)).toList();
        html.append("<details><summary>Every FP8 operand at step ").append(last).append(", lowest SNR first (")
                .append(atLast.size()).append(")</summary>\n<table><tr><th>operand</th><th>SNR</th><th>saturated</th>"
                        + "<th>flushed to zero</th><th>amax</th></tr>\n");
        for (HealthSample h : atLast) {
            html.append("<tr><td><code>").append(escape(h.tensor())).append("</code></td>")
                    .append(String.format(Locale.ROOT, "<td>%.1f dB</td><td>%.4f %%</td><td>%.4f %%</td><td>%.4g</td>",
                            h.snrDb(), 100 * h.saturated(), 100 * h.flushed(), h.amax()))
                    .append("</tr>\n");
        }
        html.append("</table></details>\n");
    }

    private static void chart(StringBuilder html, Path out, String file, org.jfree.chart.JFreeChart chart, String alt)
            throws IOException {
        ReportCharts.writeSvg(chart, out.resolve(file));
        html.append("<p><img src=\"").append(file).append("\" alt=\"").append(escape(alt)).append("\"></p>\n");
    }

    private static String cell(String text) {
        return "<td class=\"text\">" + escape(text) + "</td>";
    }

    private static String number(OptionalDouble value, String format) {
        return value.isPresent() ? "<td>" + String.format(Locale.ROOT, format, value.getAsDouble()) + "</td>" : "<td>–</td>";
    }

    private static String baseName(Path dir) {
        Path name = dir.toAbsolutePath().normalize().getFileName();
        return name == null ? dir.toString() : name.toString();
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}

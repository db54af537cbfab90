package dev.octet.report;

import dev.octet.dsl.spec.Gemm;
import dev.octet.dsl.spec.ParameterTable;
import dev.octet.dsl.spec.Role;
import dev.octet.tune.Fidelity;
import dev.octet.tune.OperandChoice;
import dev.octet.tune.OperandMeasurements;
import dev.octet.tune.TuneCandidate;
import dev.octet.tune.TuneDecision;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The page {@code octet tune} writes beside its recipe: per GEMM and role, a layer × candidate heat map of the
 * measured GEMM relative error (candidates cheapest first, the chosen one outlined), SNR and saturated and
 * flushed fractions in each cell's tooltip. Static HTML in the training report's style; no script.
 */
public final class TuneHeatMap {
    private TuneHeatMap() {}

    public static String render(String title, String summary, List<OperandMeasurements> measured, TuneDecision decision) {
        StringBuilder html = new StringBuilder();
        html.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
                .append(HtmlReport.escape(title)).append("</title>\n").append(HtmlReport.STYLE).append("""

                <style>
                td.cell { font-size: 0.8em; padding: 0.2em 0.3em; text-align: center; }
                td.chosen { outline: 3px solid #000; outline-offset: -3px; font-weight: bold; }
                td.na { color: #999; background: #f4f4f4; }
                th.cand { writing-mode: vertical-rl; transform: rotate(180deg); font-weight: normal; font-size: 0.8em; }
                .wide { overflow-x: auto; }
                </style></head><body>
                """);
        html.append("<h1>").append(HtmlReport.escape(title)).append("</h1>\n<p>").append(HtmlReport.escape(summary)).append("</p>\n");
        html.append("<p>Each cell: the GEMM output's relative error against the BF16 GEMM with only this operand in FP8 "
                + "(root mean square over output rows), over the calibration steps. Green is within the bound, red beyond it; the outlined cell is the tuned "
                + "recipe's choice; a layer marked BF16 stays out of FP8. Columns run cheapest first, by "
                + HtmlReport.escape(decision.pricing().basis()) + "; hover a cell for SNR, saturated and flushed fractions.</p>\n");
        html.append("<h2>Choices</h2>\n<table><tr><th>GEMM</th><th>operand</th><th>choice</th><th>worst error</th><th>layer</th></tr>\n");
        for (Gemm gemm : Gemm.values()) {
            for (Role role : gemm.operands()) {
                Optional<OperandChoice> c = Optional.ofNullable(decision.choices().get(gemm)).map(m -> m.get(role));
                html.append("<tr><td class=\"text\">").append(gemm.lowerName()).append("</td><td class=\"text\">").append(role.lowerName())
                        .append("</td>");
                if (c.isPresent() && c.get().worst().isPresent()) {
                    OperandMeasurements w = c.get().worst().get();
                    html.append("<td class=\"text\"><code>").append(HtmlReport.escape(c.get().candidate().describe())).append("</code></td><td>")
                            .append(percent(w.of(c.get().candidate()).gemmRelativeError())).append("</td><td class=\"text\">")
                            .append(HtmlReport.escape(w.id().linear().name())).append("</td>");
                } else {
                    html.append("<td class=\"text\" colspan=\"3\">BF16 on every layer</td>");
                }
                html.append("</tr>\n");
            }
        }
        html.append("</table>\n");
        for (Gemm gemm : Gemm.values()) {
            for (Role role : gemm.operands()) {
                heatMap(html, gemm, role, measured, decision);
            }
        }
        html.append("</body></html>\n");
        return html.toString();
    }

    private static void heatMap(StringBuilder html, Gemm gemm, Role role, List<OperandMeasurements> measured, TuneDecision decision) {
        List<OperandMeasurements> rows = measured.stream().filter(m -> m.id().gemm() == gemm && m.id().role() == role).toList();
        if (rows.isEmpty()) {
            return;
        }
        List<TuneCandidate> all = TuneCandidate.forOperand(gemm, role);
        List<TuneCandidate> columns = all.stream().sorted(Comparator.comparingDouble((TuneCandidate c) -> decision.pricing().cost(gemm, role, c))
                .thenComparingInt(all::indexOf)).toList();
        Optional<TuneCandidate> chosen = Optional.ofNullable(decision.choices().get(gemm)).map(m -> m.get(role)).map(OperandChoice::candidate);
        html.append("<h2>").append(gemm.lowerName()).append(' ').append(role.lowerName()).append("</h2>\n<div class=\"wide\"><table><tr><th>layer</th>");
        for (TuneCandidate c : columns) {
            html.append("<th class=\"cand\">").append(HtmlReport.escape(c.describe())).append("</th>");
        }
        html.append("</tr>\n");
        for (OperandMeasurements m : rows) {
            ParameterTable.Linear linear = m.id().linear();
            boolean bf16 = decision.keptBf16(linear);
            html.append("<tr><td class=\"text\">").append(HtmlReport.escape(linear.name())).append(bf16 ? " <b>BF16</b>" : "").append("</td>");
            for (TuneCandidate c : columns) {
                if (!m.fits(c)) {
                    html.append("<td class=\"cell na\" title=\"the kernels need the size to divide the operand\">n/a</td>");
                    continue;
                }
                Fidelity f = m.of(c);
                boolean mark = !bf16 && chosen.isPresent() && chosen.get().equals(c);
                html.append("<td class=\"cell").append(mark ? " chosen" : "").append("\" style=\"background:")
                        .append(colour(f.gemmRelativeError(), decision.bound())).append("\" title=\"")
                        .append(String.format(Locale.ROOT, "SNR %.1f dB, saturated %.3f%%, flushed %.3f%%", f.snrDb(),
                                100 * f.saturatedFraction(), 100 * f.flushedFraction()))
                        .append("\">").append(String.format(Locale.ROOT, "%.1f", 100 * f.gemmRelativeError())).append("</td>");
            }
            html.append("</tr>\n");
        }
        html.append("</table></div>\n<p>Errors in percent; bound ").append(percent(decision.bound())).append(".</p>\n");
    }

    /** Green within the bound (lighter the further inside), orange to red beyond it, on a log scale. */
    private static String colour(double error, double bound) {
        double ratio = Math.max(error / bound, 1e-3);
        double log2 = Math.log(ratio) / Math.log(2);
        if (ratio <= 1) {
            double lightness = 45 + Math.min(45, -log2 * 10);
            return String.format(Locale.ROOT, "hsl(120, 55%%, %.0f%%)", lightness);
        }
        double hue = Math.max(0, 40 - 13 * log2);
        return String.format(Locale.ROOT, "hsl(%.0f, 85%%, 60%%)", hue);
    }

    private static String percent(double fraction) {
        return String.format(Locale.ROOT, "%.2f%%", 100 * fraction);
    }
}

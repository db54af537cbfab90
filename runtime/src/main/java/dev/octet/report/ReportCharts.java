package dev.octet.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Rectangle;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.jfree.svg.SVGGraphics2D;

/**
 * The report's charts, drawn by JFreeChart onto JFreeSVG's Graphics2D: vector files a browser shows as they
 * are, with no display needed (AWT runs headless). Each run keeps one colour across the comparison charts.
 */
final class ReportCharts {
    static {
        // Set before the first AWT class initializes: a report is written on machines without a display.
        System.setProperty("java.awt.headless", "true");
    }

    static final int WIDTH = 900;
    static final int HEIGHT = 420;
    /** More series than this turn a legend into noise; the table below a chart lists every tensor. */
    static final int MAX_TENSOR_SERIES = 8;

    private static final Color[] PALETTE = {
        new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e),
        new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x17becf),
    };
    private static final BasicStroke SOLID = new BasicStroke(2f);
    private static final BasicStroke DASHED = new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 1f,
            new float[] {7f, 4f}, 0f);

    private ReportCharts() {}

    static Color colour(int index) {
        return PALETTE[index % PALETTE.length];
    }

    /** Training loss (solid) and held-out loss (dashed, with markers) of every run on one plot. */
    static JFreeChart loss(List<RunHistory> runs) {
        XYSeriesCollection data = new XYSeriesCollection();
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
        for (int i = 0; i < runs.size(); i++) {
            RunHistory run = runs.get(i);
            add(data, renderer, run.name() + " train", run.series("loss"), colour(i), SOLID, false);
            add(data, renderer, run.name() + " eval", run.evalLoss(), colour(i), DASHED, true);
        }
        return chart("Loss", "loss (nats)", data, renderer, "solid: training loss; dashed with markers: held-out loss");
    }

    /** One metrics field of every run, e.g. tokens per second. */
    static JFreeChart perRun(List<RunHistory> runs, String field, String title, String axis) {
        XYSeriesCollection data = new XYSeriesCollection();
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
        for (int i = 0; i < runs.size(); i++) {
            add(data, renderer, runs.get(i).name(), runs.get(i).series(field), colour(i), SOLID, false);
        }
        return chart(title, axis, data, renderer, "");
    }

    /** SNR over steps of the tensors with the lowest SNR at the last measured step. */
    static JFreeChart snr(RunHistory run) {
        return tensorChart(run, "FP8 quantization SNR: " + run.name(), "SNR (dB)", HealthSample::snrDb,
                byLastValue(run, HealthSample::snrDb), "the " + MAX_TENSOR_SERIES
                        + " operands with the lowest SNR at the last measured step; lossless steps (infinite SNR) are not drawn");
    }

    /** Saturated fraction over steps of the tensors that saturated most. */
    static JFreeChart saturation(RunHistory run) {
        Comparator<String> most = Comparator.comparingDouble((String t) -> -maxOf(run, t, HealthSample::saturated));
        return tensorChart(run, "FP8 saturation: " + run.name(), "saturated elements (%)", h -> 100 * h.saturated(), most,
                "the " + MAX_TENSOR_SERIES + " operands with the highest saturated fraction (elements at the format's max)");
    }

    static void writeSvg(JFreeChart chart, Path file) throws IOException {
        SVGGraphics2D g2 = new SVGGraphics2D(WIDTH, HEIGHT);
        chart.draw(g2, new Rectangle(0, 0, WIDTH, HEIGHT));
        Files.writeString(file, g2.getSVGDocument(), StandardCharsets.UTF_8);
    }

    private static JFreeChart tensorChart(RunHistory run, String title, String axis, ToDoubleFunction<HealthSample> value,
                                          Comparator<String> order, String subtitle) {
        Map<String, List<HealthSample>> byTensor = new LinkedHashMap<>();
        for (HealthSample h : run.health()) {
            byTensor.computeIfAbsent(h.tensor(), t -> new java.util.ArrayList<>()).add(h);
        }
        List<String> chosen = byTensor.keySet().stream().sorted(order).limit(MAX_TENSOR_SERIES).toList();
        XYSeriesCollection data = new XYSeriesCollection();
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        for (int i = 0; i < chosen.size(); i++) {
            List<Point> points = byTensor.get(chosen.get(i)).stream()
                    .map(h -> new Point(h.step(), value.applyAsDouble(h))).filter(p -> Double.isFinite(p.value())).toList();
            add(data, renderer, chosen.get(i), points, colour(i), SOLID, true);
        }
        return chart(title, axis, data, renderer, subtitle);
    }

    private static Comparator<String> byLastValue(RunHistory run, ToDoubleFunction<HealthSample> value) {
        long last = run.health().stream().mapToLong(HealthSample::step).max().orElse(0);
        Map<String, Double> atLast = new LinkedHashMap<>();
        run.health().stream().filter(h -> h.step() == last).forEach(h -> atLast.put(h.tensor(), value.applyAsDouble(h)));
        Function<String, Double> key = t -> atLast.getOrDefault(t, Double.POSITIVE_INFINITY);
        return Comparator.comparing(key);
    }

    private static double maxOf(RunHistory run, String tensor, ToDoubleFunction<HealthSample> value) {
        return run.health().stream().filter(h -> h.tensor().equals(tensor)).mapToDouble(value).max().orElse(0);
    }

    private static void add(XYSeriesCollection data, XYLineAndShapeRenderer renderer, String key, List<Point> points,
                            Color colour, BasicStroke stroke, boolean shapes) {
        if (points.isEmpty()) {
            return;
        }
        XYSeries series = new XYSeries(key, false, true);
        for (Point p : points) {
            series.add(p.step(), p.value());
        }
        int index = data.getSeriesCount();
        data.addSeries(series);
        renderer.setSeriesPaint(index, colour);
        renderer.setSeriesStroke(index, stroke);
        renderer.setSeriesShapesVisible(index, shapes);
    }

    private static JFreeChart chart(String title, String axis, XYSeriesCollection data, XYLineAndShapeRenderer renderer,
                                    String subtitle) {
        JFreeChart chart = ChartFactory.createXYLineChart(title, "step", axis, data, PlotOrientation.VERTICAL, true, false,
                false);
        chart.setBackgroundPaint(Color.WHITE);
        if (!subtitle.isEmpty()) {
            chart.addSubtitle(new TextTitle(subtitle, new Font(Font.SANS_SERIF, Font.PLAIN, 11)));
        }
        XYPlot plot = chart.getXYPlot();
        // One SVG path per series instead of an element per segment: a 2,000-step run's charts shrink about tenfold.
        renderer.setDrawSeriesLineAsPath(true);
        plot.setRenderer(renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xdddddd));
        plot.setRangeGridlinePaint(new Color(0xdddddd));
        ((NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
        ((NumberAxis) plot.getDomainAxis()).setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        return chart;
    }
}

package dev.octet.compiler.cuda.gemm;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The schedule measured fastest for each GEMM problem of the example models, read from a table kept beside this
 * class ({@code gemm-schedules-h200.tsv}) and written by {@code dev.octet.jmh.gpu.GemmScheduleSearch} on the GPU
 * ({@code scripts/gemm-schedules-remote}): per problem ({@code problemKey} of the Hopper templates) the chosen
 * {@link GemmSchedule}, its TFLOP/s, and every candidate's. {@link GemmKernels#forProblem} takes the table's schedule
 * where the problem is in it and the template's own rule elsewhere.
 *
 * <p>Rows: {@code problem <TAB> schedule <TAB> TFLOP/s <TAB> rule's schedule <TAB> its TFLOP/s <TAB> candidates};
 * lines starting with {@code #} say where and how the table was measured.
 */
public final class GemmSchedules {
    static final String H200_TABLE = "gemm-schedules-h200.tsv";
    /** A table measured elsewhere (a file the search wrote) in place of the one kept here: {@code -Doctet.gemm.schedules=FILE}. */
    public static final String TABLE_PROPERTY = "octet.gemm.schedules";
    private static final GemmSchedules H200 = Optional.ofNullable(System.getProperty(TABLE_PROPERTY)).map(GemmSchedules::file)
            .orElseGet(() -> load(H200_TABLE));

    private final Map<String, GemmSchedule> chosen;

    private GemmSchedules(Map<String, GemmSchedule> chosen) {
        this.chosen = Map.copyOf(chosen);
    }

    /** The table measured on an H200, what Octet's kernels are compiled for (or the file {@value #TABLE_PROPERTY} names). */
    public static GemmSchedules h200() {
        return H200;
    }

    /** No measurements: every problem takes its template's rule. */
    public static GemmSchedules none() {
        return new GemmSchedules(Map.of());
    }

    /** The measured schedule of the problem {@code problemKey} names, if the table holds it. */
    public Optional<GemmSchedule> lookup(String problemKey) {
        return Optional.ofNullable(chosen.get(problemKey));
    }

    /** The problems the table holds a schedule for. */
    public Set<String> problems() {
        return chosen.keySet();
    }

    /** A table in the format above (the search's output, or a test's). */
    public static GemmSchedules parse(String text) {
        return read(new StringReader(text), "the given table");
    }

    private static GemmSchedules file(String path) {
        try {
            return read(Files.newBufferedReader(Path.of(path), StandardCharsets.UTF_8), path);
        } catch (IOException e) {
            throw new UncheckedIOException("-D" + TABLE_PROPERTY + "=" + path + ": cannot read the GEMM schedule table", e);
        }
    }

    private static GemmSchedules load(String resource) {
        InputStream in = GemmSchedules.class.getResourceAsStream(resource);
        if (in == null) {
            return none();
        }
        return read(new InputStreamReader(in, StandardCharsets.UTF_8), resource);
    }

    private static GemmSchedules read(Reader source, String name) {
        Map<String, GemmSchedule> rows = new LinkedHashMap<>();
        try (BufferedReader r = new BufferedReader(source)) {
            String line;
            int number = 0;
            while ((line = r.readLine()) != null) {
                number++;
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] cells = line.split("\t");
                if (cells.length < 2) {
                    throw new IllegalArgumentException(name + " line " + number + ": expected 'problem <TAB> schedule ...', got '" + line + "'");
                }
                try {
                    rows.put(cells[0], GemmSchedule.parse(cells[1]));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(name + " line " + number + ": " + e.getMessage());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + name, e);
        }
        return new GemmSchedules(rows);
    }
}

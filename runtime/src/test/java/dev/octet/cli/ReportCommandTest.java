package dev.octet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code octet report}: a page from run directories, and one-line errors for what is not a run. */
class ReportCommandTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private PrintStream savedOut;
    private PrintStream savedErr;

    @BeforeEach
    void capture() {
        savedOut = System.out;
        savedErr = System.err;
        System.setOut(new PrintStream(out, true));
        System.setErr(new PrintStream(err, true));
    }

    @AfterEach
    void restore() {
        System.setOut(savedOut);
        System.setErr(savedErr);
    }

    @Test
    void aMissingRunDirectoryIsAOneLineErrorWithExitCodeOne(@TempDir Path dir) {
        Path missing = dir.resolve("runs").resolve("nope");
        assertEquals(ExitCodes.INVALID_INPUT, OctetMain.run("report", missing.toString(), "--out", dir.resolve("r").toString()));
        assertEquals("octet report: error: " + missing + ": no such run directory", err.toString().strip());
        assertTrue(Files.notExists(dir.resolve("r")), "nothing written");
    }

    @Test
    void aDirectoryWithoutMetricsIsAOneLineErrorWithExitCodeOne(@TempDir Path dir) {
        assertEquals(ExitCodes.INVALID_INPUT, OctetMain.run("report", dir.toString(), "--out", dir.resolve("r").toString()));
        assertEquals(1, err.toString().strip().lines().count(), err.toString());
        assertTrue(err.toString().contains("not a run directory (no metrics.jsonl)"), err.toString());
    }

    @Test
    void withoutOutOrRunsItIsAUsageError(@TempDir Path dir) {
        assertEquals(ExitCodes.USAGE, OctetMain.run("report", dir.toString()));
        assertEquals(ExitCodes.USAGE, OctetMain.run("report", "--out", dir.toString()));
    }

    @Test
    void writesTheReportOfTwoRuns(@TempDir Path dir) throws IOException {
        Path a = dev.octet.report.HtmlReportTestRuns.write(dir.resolve("bf16"), "bf16", false);
        Path b = dev.octet.report.HtmlReportTestRuns.write(dir.resolve("fp8"), "infir2", true);
        Path report = dir.resolve("report");
        assertEquals(ExitCodes.OK, OctetMain.run("report", a.toString(), b.toString(), "--out", report.toString()), err.toString());
        assertTrue(out.toString().contains("report of 2 runs in " + report.resolve("index.html")), out.toString());
        assertTrue(Files.size(report.resolve("loss.svg")) > 0);
    }
}

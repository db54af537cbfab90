package dev.octet.cli;

import dev.octet.testing.ConsoleCapture;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code octet report}: a page from run directories, and one-line errors for what is not a run. */
class ReportCommandTest {
    @RegisterExtension
    final ConsoleCapture console = new ConsoleCapture();

    @Test
    void aMissingRunDirectoryIsAOneLineErrorWithExitCodeOne(@TempDir Path dir) {
        Path missing = dir.resolve("runs").resolve("nope");
        assertEquals(ExitCodes.INVALID_INPUT, OctetMain.run("report", missing.toString(), "--out", dir.resolve("r").toString()));
        assertEquals("octet report: error: " + missing + ": no such run directory", console.err().strip());
        assertTrue(Files.notExists(dir.resolve("r")), "nothing written");
    }

    @Test
    void aDirectoryWithoutMetricsIsAOneLineErrorWithExitCodeOne(@TempDir Path dir) {
        assertEquals(ExitCodes.INVALID_INPUT, OctetMain.run("report", dir.toString(), "--out", dir.resolve("r").toString()));
        assertEquals(1, console.err().strip().lines().count(), console.err());
        assertTrue(console.err().contains("not a run directory (no metrics.jsonl)"), console.err());
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
        assertEquals(ExitCodes.OK, OctetMain.run("report", a.toString(), b.toString(), "--out", report.toString()), console.err());
        assertTrue(console.out().contains("report of 2 runs in " + report.resolve("index.html")), console.out());
        assertTrue(Files.size(report.resolve("loss.svg")) > 0);
    }
}

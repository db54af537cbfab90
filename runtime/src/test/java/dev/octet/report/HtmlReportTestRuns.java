package dev.octet.report;

import java.io.IOException;
import java.nio.file.Path;

/** Synthetic run directories for tests outside this package. */
public final class HtmlReportTestRuns {
    private HtmlReportTestRuns() {}

    public static Path write(Path dir, String recipe, boolean fp8) throws IOException {
        return HtmlReportTest.syntheticRun(dir, recipe, fp8);
    }
}

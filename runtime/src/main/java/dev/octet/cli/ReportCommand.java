package dev.octet.cli;

import dev.octet.report.HtmlReport;
import dev.octet.report.ReportException;
import dev.octet.report.RunHistory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code octet report RUN_DIR... --out DIR}: a static HTML page that compares training runs. */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = "Write DIR/index.html comparing runs: loss curves, throughput, memory, FP8 health, final figures.")
final class ReportCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "RUN_DIR", description = "run directories written by octet train")
    List<Path> runs;

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "where index.html and its SVG charts go")
    Path out;

    @Override
    public Integer call() {
        List<RunHistory> loaded;
        try {
            loaded = HtmlReport.load(runs);
        } catch (ReportException e) {
            System.err.println("octet report: error: " + e.getMessage());
            return ExitCodes.INVALID_INPUT;
        }
        try {
            Path index = HtmlReport.write(loaded, out);
            System.out.println("octet: report of " + loaded.size() + (loaded.size() == 1 ? " run" : " runs") + " in " + index);
            return ExitCodes.OK;
        } catch (IOException e) {
            System.err.println("octet report: error: cannot write " + out + ": " + e.getMessage());
            return ExitCodes.INVALID_INPUT;
        }
    }
}

package dev.octet.testing;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * What a command prints, for tests of the CLI: System.out and System.err are captured for each test and put
 * back after it. Register with {@code @RegisterExtension final ConsoleCapture console = new ConsoleCapture();}.
 */
public final class ConsoleCapture implements BeforeEachCallback, AfterEachCallback {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private PrintStream savedOut;
    private PrintStream savedErr;

    @Override
    public void beforeEach(ExtensionContext context) {
        out.reset();
        err.reset();
        savedOut = System.out;
        savedErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Override
    public void afterEach(ExtensionContext context) {
        System.setOut(savedOut);
        System.setErr(savedErr);
    }

    /** Everything printed to System.out so far in this test. */
    public String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    /** Everything printed to System.err so far in this test. */
    public String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    /** Forgets what was printed to System.err so far, e.g. between two commands of one test. */
    public void resetErr() {
        err.reset();
    }

    /** Forgets what was printed so far, e.g. between two commands of one test. */
    public void reset() {
        out.reset();
        err.reset();
    }
}

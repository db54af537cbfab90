package dev.octet.gpu;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CompileLogContextTest {
    private static final String SOURCE = """
            line one
            line two
            line three
            int x = oops;
            line five
            line six
            line seven
            line eight
            line nine
            float y = bad;
            """;

    // The shape of an NVRTC 12.6 log: error line, its own echo and caret, a summary.
    private static final String LOG = """
            k.cu(4): error: identifier "oops" is undefined
              int x = oops;
                      ^

            k.cu(10): warning #177-D: variable "z" was declared but never referenced
            k.cu(10): error: identifier "bad" is undefined

            2 errors detected in the compilation of "k.cu".
            """;

    @Test
    void eachErrorIsFollowedByItsSourceLinesWithTwoLinesOfContext() {
        String expected = """
                k.cu(4): error: identifier "oops" is undefined
                     2 | line two
                     3 | line three
                  >  4 | int x = oops;
                     5 | line five
                     6 | line six
                  int x = oops;
                          ^

                k.cu(10): warning #177-D: variable "z" was declared but never referenced
                k.cu(10): error: identifier "bad" is undefined
                     8 | line eight
                     9 | line nine
                  > 10 | float y = bad;

                2 errors detected in the compilation of "k.cu".""";
        assertEquals(expected, CompileLogContext.annotate(LOG, SOURCE));
    }

    @Test
    void contextIsClippedAtTheFirstLine() {
        String annotated = CompileLogContext.annotate("k.cu(1): error: expected a declaration", "bad\nok\nok\nok");
        assertEquals("k.cu(1): error: expected a declaration\n  > 1 | bad\n    2 | ok\n    3 | ok", annotated);
    }

    @Test
    void theExceptionNamesTheKernelAndTheSavedSource(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path saved = NvrtcCompilation.saveSource(dir, "k", SOURCE);
        NvrtcCompileException e = new NvrtcCompileException("k", "sm_90a", "NVRTC 12.6", SOURCE, LOG, saved);
        assertTrue(e.getMessage().startsWith("kernel k does not compile for sm_90a with NVRTC 12.6; source saved to "
                + saved + "\n"), e.getMessage());
        assertTrue(e.getMessage().contains("  >  4 | int x = oops;"));
        assertEquals(SOURCE, Files.readString(saved));
        assertTrue(saved.getFileName().toString().matches("k-[0-9a-f]{12}\\.cu"));
    }
}

package dev.octet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code octet check}: exit codes, one summary line per valid file, diagnostics on stderr, never a stack trace. */
class CheckCommandTest {
    private static final String EXAMPLES = Path.of("..", "examples").toString();

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private PrintStream savedOut;
    private PrintStream savedErr;
    private Locale savedLocale;

    @TempDir
    Path tmp;

    @BeforeEach
    void capture() {
        savedOut = System.out;
        savedErr = System.err;
        savedLocale = Locale.getDefault();
        // The summary groups digits with the default locale's separator.
        Locale.setDefault(Locale.US);
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        System.setProperty("octet.home", "..");
    }

    @AfterEach
    void restore() {
        System.setOut(savedOut);
        System.setErr(savedErr);
        Locale.setDefault(savedLocale);
        System.clearProperty("octet.home");
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    private static String example(String name) {
        return Path.of(EXAMPLES, name).toString();
    }

    @Test
    void examplesCheckWithOneLinePerFileAndTheirParameterCounts() {
        int exit = OctetMain.run("check", example("gpt2-124m.octet"), example("llama3.2-1b.octet"),
                example("qwen2.5-1.5b.octet"), example("qwen2.5-7b.octet"), example("tiny.octet"));
        assertEquals(0, exit, err());
        List<String> lines = out().lines().toList();
        assertEquals(5, lines.size(), out());
        assertTrue(lines.get(0).startsWith(example("gpt2-124m.octet") + ": model gpt2_124m: 124,439,808 params"), lines.get(0));
        assertTrue(lines.get(1).contains("model llama3_2_1b: 1,235,814,400 params"), lines.get(1));
        assertTrue(lines.get(2).contains("model qwen2_5_1_5b: 1,543,714,304 params"), lines.get(2));
        assertTrue(lines.get(3).contains("model qwen2_5_7b: 7,615,616,512 params"), lines.get(3));
        assertTrue(lines.get(4).contains("model tiny:") && lines.get(4).contains("training tiny_pretrain"), lines.get(4));
        assertEquals("", err());
    }

    @Test
    void theContinuedPretrainingExampleTrainsQwenAtTwoSequencesOf8192Tokens() {
        assertEquals(0, OctetMain.run("check", example("qwen2.5-1.5b-cpt.octet")), err());
        assertTrue(out().contains("training qwen2_5_1_5b_cpt: pretrain, 2000 steps of 2 x 8192 tokens"), out());
    }

    @Test
    void recipeFilesAloneDescribeTheirRecipe() {
        assertEquals(0, OctetMain.run("check", example("recipes/infir2.octet")), err());
        assertTrue(out().contains("recipe infir2: W block(128) e4m3, X group(128) e4m3, dY group(128) e4m3; scales ue8m0 current"), out());
    }

    @Test
    void recipeOptionAppliesThatRecipe() {
        assertEquals(0, OctetMain.run("check", "--recipe", "rowwise", example("gpt2-124m.octet")), err());
        assertTrue(out().contains("; recipe rowwise: W channel e4m3, X token e4m3, dY token e4m3"), out());
        assertTrue(out().contains("wgrad activations channel e4m3"), out());
    }

    @Test
    void invalidFileExitsOneWithDiagnosticsOnStderr() throws IOException {
        Path bad = tmp.resolve("bad.octet");
        Files.writeString(bad, "model m {\n  hedas = 4\n");
        assertEquals(1, OctetMain.run("check", bad.toString()));
        assertEquals("", out());
        assertTrue(err().contains(bad + ":2:3: error: unknown setting 'hedas' in model 'm'"), err());
        assertTrue(err().contains(" 2 |   hedas = 4\n   |   ^~~~~\n"), err());
        assertTrue(err().contains("= help: did you mean 'heads'?"), err());
    }

    @Test
    void validAndInvalidFilesTogetherExitOneAndStillSummarizeTheValidOne() throws IOException {
        Path bad = tmp.resolve("bad.octet");
        Files.writeString(bad, "recipe r { format = e6m1 }\n");
        assertEquals(1, OctetMain.run("check", example("gpt2-124m.octet"), bad.toString()));
        assertTrue(out().contains("124,439,808 params"), out());
        assertTrue(err().contains("unknown value 'e6m1' for 'format'"), err());
    }

    @Test
    void missingFileIsAUsageError() {
        assertEquals(2, OctetMain.run("check", tmp.resolve("nope.octet").toString()));
        assertTrue(err().contains("no such file"), err());
    }

    @Test
    void unknownRecipeIsAUsageError() {
        assertEquals(2, OctetMain.run("check", "--recipe", "nosuch", example("tiny.octet")));
        assertTrue(err().contains("no recipe 'nosuch'"), err());
    }

    @Test
    void noCommandIsAUsageError() {
        assertEquals(2, OctetMain.run(new String[0]));
    }

    @Test
    void helpAndVersionExitZero() {
        assertEquals(0, OctetMain.run("--help"));
        assertTrue(out().contains("Usage: octet"), out());
        assertEquals(0, OctetMain.run("--version"));
        assertTrue(out().contains("octet "), out());
        assertEquals(0, OctetMain.run("check", "--help"));
        assertTrue(out().contains("--recipe"), out());
    }

    /** Bad input of every kind the mutation test found is reported as diagnostics, never as a Java stack trace. */
    @Test
    void badInputNeverShowsAStackTrace() throws IOException {
        List<byte[]> inputs = new ArrayList<>();
        inputs.add("model m { vocab = 1e999999999 }".getBytes(StandardCharsets.UTF_8));
        inputs.add(("model m { forward { x = tokens" + " + x".repeat(100_000) + " } }").getBytes(StandardCharsets.UTF_8));
        inputs.add(("model m { a = \" " + "(".repeat(50_000) + " }").getBytes(StandardCharsets.UTF_8));
        inputs.add(new byte[] {(byte) 0xC3, (byte) 0x28, (byte) 0xFF, 0, 'm', '{'});
        inputs.add("import \"missing.octet\"\nimport \"bad.octet\"\ntraining { model = x }".getBytes(StandardCharsets.UTF_8));
        inputs.add("recipe r for q { weights = token; bf16 = [layers[99999999999]] }".getBytes(StandardCharsets.UTF_8));
        for (int i = 0; i < inputs.size(); i++) {
            Path f = tmp.resolve("bad" + i + ".octet");
            Files.write(f, inputs.get(i));
            int exit = OctetMain.run("check", f.toString());
            assertEquals(1, exit, "input " + i + ": " + err());
        }
        String all = out() + err();
        assertFalse(all.contains("Exception"), all);
        assertFalse(all.contains("\tat "), all);
        assertFalse(all.contains("internal error"), all);
    }
}

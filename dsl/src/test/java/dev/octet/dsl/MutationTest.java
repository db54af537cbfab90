package dev.octet.dsl;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.octet.dsl.ast.SourceFile;
import dev.octet.dsl.check.ProgramChecker;
import dev.octet.dsl.diag.Diagnostic;
import dev.octet.dsl.diag.DiagnosticPrinter;
import dev.octet.dsl.diag.Diagnostics;
import dev.octet.dsl.parse.SourceParser;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Random damage to every example file must end in a clean check or in diagnostics with real positions:
 * never an exception, never a hang. A failure prints the seed and the mutated source to reproduce it.
 */
class MutationTest {
    private static final long SEED = 20_250_101L;
    private static final int MUTANTS = 3000;
    private static final Duration PER_FILE = Duration.ofSeconds(2);

    /** Tokens of the grammar plus the words the checkers know, so insertions often make near-valid text. */
    private static final List<String> VOCABULARY = List.of(
            "import", "for", "{", "}", "(", ")", "[", "]", ",", "=", "+", "-", "..", ";", "\"x.octet\"", "\"\"",
            "model", "recipe", "training", "forward", "repeat", "layers", "x", "tokens", "targets", "loss", "logits",
            "embedding", "attention", "rmsnorm", "swiglu", "lm_head", "cross_entropy", "rope", "true", "false",
            "format", "e4m3", "e5m2", "scale", "scaling", "delayed", "current", "weights", "activations", "gradients",
            "fprop", "dgrad", "wgrad", "group", "block", "token", "channel", "tensor", "bf16", "all", "heads", "dim",
            "0", "1", "-1", "128", "4_096", "1e-5", "0.5", "1e400", "layers[0]", "layers[-1]", "layers[0..2]");
    private static final List<String> HUGE_NUMBERS = List.of("1e40", "99999999999999999999", "-0", "1e-400",
            "10000000000000000000000000000000000000000", "1e999999999", "-2147483648", "2147483648", "0.0000000001", "1_0_0");
    private static final Pattern TOKEN = Pattern.compile(
            "\\s+|#[^\\n]*|//[^\\n]*|\"(?:[^\"\\\\\\n]|\\\\.)*\"|[A-Za-z_]\\w*|\\d[\\d_]*(?:\\.\\d+)?(?:[eE][+-]?\\d+)?|\\.\\.|.",
            Pattern.DOTALL);

    @Test
    void mutatedExamplesEndValidOrWithPositionedDiagnostics() throws IOException {
        List<Path> examples = exampleFiles();
        assertTrue(examples.size() >= 8, "examples found: " + examples);
        Random random = new Random(SEED);
        int withDiagnostics = 0;
        for (int i = 0; i < MUTANTS; i++) {
            Path example = examples.get(i % examples.size());
            String original = Files.readString(example);
            String mutant = mutate(tokens(original), random);
            boolean asBytes = random.nextInt(10) == 0;
            String text = asBytes ? decodeLikeTheLoader(withBadBytes(mutant, random)) : mutant;
            String label = "mutant " + i + " of " + example.getFileName() + " (seed " + SEED + "):\n" + text;
            Diagnostics diagnostics = assertTimeoutPreemptively(PER_FILE, () -> checkWithoutCrashing(example, text, label), label);
            if (diagnostics.hasErrors()) {
                withDiagnostics++;
            }
        }
        // Sanity: the mutations actually damage most files; a mutator that changed nothing would pass vacuously.
        assertTrue(withDiagnostics > MUTANTS / 2, "only " + withDiagnostics + " mutants had errors");
    }

    static Diagnostics checkWithoutCrashing(Path path, String text, String label) {
        Diagnostics d = new Diagnostics();
        try {
            SourceFile f = SourceParser.parse(path.getFileName(), text, d);
            ProgramChecker.check(List.of(f), d);
            for (Diagnostic diag : d.all()) {
                if (diag.pos().line() < 1 || diag.pos().column() < 1) {
                    fail("diagnostic at " + diag.pos() + ": " + diag.message() + "\n" + label);
                }
            }
            DiagnosticPrinter.render(d);
        } catch (RuntimeException | StackOverflowError e) {
            throw new AssertionError(e + " on " + label, e);
        }
        return d;
    }

    static List<String> tokens(String source) {
        List<String> out = new ArrayList<>();
        Matcher m = TOKEN.matcher(source);
        while (m.find()) {
            out.add(m.group());
        }
        return out;
    }

    /** One to three random edits; a token list keeps the result roughly shaped like the source. */
    static String mutate(List<String> tokens, Random r) {
        List<String> t = new ArrayList<>(tokens);
        int edits = 1 + r.nextInt(3);
        for (int e = 0; e < edits && !t.isEmpty(); e++) {
            int at = r.nextInt(t.size());
            switch (r.nextInt(10)) {
                case 0 -> t.remove(at);
                case 1 -> t.add(at, " " + VOCABULARY.get(r.nextInt(VOCABULARY.size())) + " ");
                case 2 -> t.add(at, garbage(r));
                case 3 -> {
                    int other = r.nextInt(t.size());
                    String a = t.get(at);
                    t.set(at, t.get(other));
                    t.set(other, a);
                }
                case 4 -> {
                    int len = Math.min(t.size() - at, 1 + r.nextInt(20));
                    t.addAll(at, new ArrayList<>(t.subList(at, at + len)));
                }
                case 5 -> t.subList(at, t.size()).clear();
                case 6 -> replaceANumber(t, r);
                case 7 -> {
                    String open = List.of("(", "[", "{", "x(", "a {").get(r.nextInt(5));
                    int depth = 1 + r.nextInt(r.nextBoolean() ? 70 : 300);
                    t.add(at, open.repeat(depth) + (r.nextBoolean() ? closing(open).repeat(depth) : ""));
                }
                case 8 -> t.add(at, " x" + " + x".repeat(1 + r.nextInt(400)) + " ");
                default -> t.set(at, VOCABULARY.get(r.nextInt(VOCABULARY.size())));
            }
        }
        return String.join("", t);
    }

    private static String closing(String open) {
        return switch (open) {
            case "(", "x(" -> ")";
            case "[" -> "]";
            default -> "}";
        };
    }

    private static void replaceANumber(List<String> t, Random r) {
        List<Integer> numbers = new ArrayList<>();
        for (int i = 0; i < t.size(); i++) {
            if (!t.get(i).isEmpty() && Character.isDigit(t.get(i).charAt(0))) {
                numbers.add(i);
            }
        }
        if (!numbers.isEmpty()) {
            t.set(numbers.get(r.nextInt(numbers.size())), HUGE_NUMBERS.get(r.nextInt(HUGE_NUMBERS.size())));
        }
    }

    private static String garbage(Random r) {
        StringBuilder sb = new StringBuilder();
        int n = 1 + r.nextInt(6);
        for (int i = 0; i < n; i++) {
            sb.append(switch (r.nextInt(6)) {
                case 0 -> (char) r.nextInt(32);
                case 1 -> "\"\\";
                case 2 -> "\uFFFD\u00e9\u4e2d";
                case 3 -> "\ud83d\ude00";
                case 4 -> "\ud800";
                default -> (char) (33 + r.nextInt(94));
            });
        }
        return sb.toString();
    }

    private static byte[] withBadBytes(String text, Random r) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[utf8.length + 4];
        int at = utf8.length == 0 ? 0 : r.nextInt(utf8.length);
        System.arraycopy(utf8, 0, out, 0, at);
        byte[] bad = {(byte) 0xC3, (byte) 0x28, (byte) 0xFF, (byte) 0x80};
        System.arraycopy(bad, 0, out, at, 4);
        System.arraycopy(utf8, at, out, at + 4, utf8.length - at);
        return out;
    }

    /** As ProgramLoader reads files: malformed UTF-8 becomes U+FFFD. */
    private static String decodeLikeTheLoader(byte[] bytes) throws java.nio.charset.CharacterCodingException {
        return StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPLACE)
                .onUnmappableCharacter(CodingErrorAction.REPLACE)
                .decode(ByteBuffer.wrap(bytes)).toString();
    }

    static List<Path> exampleFiles() throws IOException {
        try (Stream<Path> s = Files.walk(Path.of("..", "examples"))) {
            return s.filter(p -> p.toString().endsWith(".octet")).sorted().toList();
        }
    }
}
